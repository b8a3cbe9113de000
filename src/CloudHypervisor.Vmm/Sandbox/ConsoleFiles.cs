using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// Creates the <c>file=</c> targets of the serial port, the virtio-console and the debug console that do
/// not exist yet. Upstream opens them at vm.create, before it applies Landlock; this VMM opens them at
/// boot, so they are created first to give the rules a file to name.
/// </summary>
public static class ConsoleFiles
{
    public static void CreateMissing(VmConfig config)
    {
        CreateIfFileMode(config.Serial.Mode, config.Serial.File);
        CreateIfFileMode(config.Console.Mode, config.Console.File);
        CreateIfFileMode(config.DebugConsole.Mode, config.DebugConsole.File);
    }

    private static void CreateIfFileMode(ConsoleMode mode, string? path)
    {
        if (mode != ConsoleMode.File || string.IsNullOrEmpty(path) || File.Exists(path))
        {
            return;
        }

        // A failure is left for the console itself to report when it opens the file at boot.
        var fd = Libc.Open(path, Libc.OWrOnly | Libc.OCreat | Libc.OCloExec, 0b110_000_000);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }
}
