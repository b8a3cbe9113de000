using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>Opens the output side of a serial or console backend (`off|null|tty|file=`).</summary>
public static class ConsoleOutput
{
    public static IByteSink Open(ConsoleMode mode, string? file, string option)
    {
        switch (mode)
        {
            case ConsoleMode.Off:
            case ConsoleMode.Null:
                return NullSink.Instance;
            case ConsoleMode.Tty:
                return new FdSink(SafeFd.FromResult(Libc.Dup(1)));
            case ConsoleMode.File:
                if (string.IsNullOrEmpty(file))
                {
                    throw new VmmException("Error creating console devices", new VmmException("Path missing when using file console mode"));
                }

                try
                {
                    return new FdSink(SafeFd.Open(file, Libc.OWrOnly | Libc.OCreat | Libc.OTrunc, 0b110_000_000));
                }
                catch (OsException e)
                {
                    throw new VmmException("Error creating console devices", new VmmException($"Error opening {option} file {file}", e));
                }

            default:
                throw new VmmException("Error creating console devices",
                    VmmException.NotSupportedYet($"{option} {mode.ToString().ToLowerInvariant()} mode"));
        }
    }
}
