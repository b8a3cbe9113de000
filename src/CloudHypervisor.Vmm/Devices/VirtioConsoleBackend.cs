using System.Runtime.InteropServices;
using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Devices.Virtio.Console;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// The host side of the virtio-console for `--console null|tty|file=|pty` (socket is refused, as
/// upstream refuses it): the sink the guest's output goes to, where input comes from (stdin when it
/// is a terminal, or the pty), and the terminal whose size the guest sees, re-read on SIGWINCH for tty.
/// </summary>
public sealed class VirtioConsoleBackend : IDisposable
{
    private const int StdinFd = 0;
    private const int StdoutFd = 1;
    private readonly List<IDisposable> owned = [];
    private SafeFd? inputFd;
    private int sizeFd = -1;
    private bool resizeOnSigwinch;
    private FdWatcher? watcher;
    private PosixSignalRegistration? sigwinch;

    private VirtioConsoleBackend(IByteSink output)
    {
        Output = output;
        if (output is IDisposable disposable)
        {
            owned.Add(disposable);
        }
    }

    public IByteSink Output { get; }

    /// <summary>The terminal's size now (0×0 when the backend is not a terminal).</summary>
    public TerminalSize InitialSize => sizeFd >= 0 ? TerminalSize.Of(sizeFd) : default;

    /// <summary>Opens the backend; for pty, records the terminal's path in <paramref name="config"/> (as vm.info reports it).</summary>
    public static VirtioConsoleBackend Open(ConsoleConfig config)
    {
        switch (config.Mode)
        {
            case ConsoleMode.Pty:
                return OpenPty(config);
            case ConsoleMode.Socket:
                throw new VmmException("Error creating console devices", new VmmException("No socket option support for console device"));
            case ConsoleMode.Tty:
                var tty = new VirtioConsoleBackend(ConsoleOutput.Open(ConsoleMode.Tty, null, "console"));
                if (Libc.IsATty(StdoutFd) == 1)
                {
                    tty.sizeFd = StdoutFd;
                    tty.resizeOnSigwinch = true;
                }

                RawTerminal.MakeRaw(StdoutFd);
                // As upstream: input only when stdin is an interactive terminal.
                if (Libc.IsATty(StdinFd) == 1)
                {
                    tty.inputFd = tty.Own(SafeFd.FromResult(Libc.Dup(StdinFd)));
                }

                return tty;
            default:
                return new VirtioConsoleBackend(ConsoleOutput.Open(config.Mode, config.File, "console"));
        }
    }

    /// <summary>Starts delivering input and resizes to <paramref name="console"/>.</summary>
    public void Start(VirtioConsole console)
    {
        if (inputFd is not null)
        {
            var fd = inputFd.Fd;
            watcher = new FdWatcher("console-input");
            watcher.Add(fd, _ => ReadInput(fd, console, watcher));
        }

        if (resizeOnSigwinch && OperatingSystem.IsLinux())
        {
            var fd = sizeFd;
            sigwinch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
            {
                context.Cancel = true;
                console.Resize(TerminalSize.Of(fd));
            });
        }
    }

    public void Dispose()
    {
        sigwinch?.Dispose();
        watcher?.Dispose();
        foreach (var resource in owned)
        {
            resource.Dispose();
        }

        owned.Clear();
    }

    private static VirtioConsoleBackend OpenPty(ConsoleConfig config)
    {
        var pty = PseudoTerminal.OpenForConsole();

        var console = new VirtioConsoleBackend(new FdSink(SafeFd.FromResult(Libc.Dup(pty.Main.Fd))));
        console.Own(pty);
        console.inputFd = pty.Main;
        console.sizeFd = pty.Main.Fd;
        config.File = pty.Path;
        Log.Info($"Console PTY: {pty.Path}");
        return console;
    }

    private static unsafe void ReadInput(int fd, VirtioConsole console, FdWatcher watcher)
    {
        var buffer = stackalloc byte[64];
        var count = Libc.Read(fd, buffer, 64);
        if (count > 0)
        {
            console.QueueInput(new ReadOnlySpan<byte>(buffer, (int)count));
            return;
        }

        var error = count < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (error is not (Libc.EIntr or Libc.EAgain))
        {
            // End of input (a hung-up terminal): stop watching rather than spin on it.
            watcher.Remove(fd);
        }
    }

    private T Own<T>(T resource)
        where T : IDisposable
    {
        owned.Add(resource);
        return resource;
    }
}
