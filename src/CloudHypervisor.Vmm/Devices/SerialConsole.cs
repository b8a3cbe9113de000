using CloudHypervisor.Contracts;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// The host side of the serial port for `--serial off|null|tty|file=|pty|socket=`: where the guest's
/// output goes and, for tty (when stdin is a terminal), pty and socket, where its input comes from.
/// Input is read on a dedicated thread and queued into the UART, which raises its interrupt.
/// </summary>
public sealed class SerialConsole : IDisposable
{
    private const int StdinFd = 0;
    private readonly List<IDisposable> owned = [];
    private SafeFd? inputFd;
    private SocketConsole? socket;
    private FdWatcher? watcher;

    private SerialConsole(IByteSink output)
    {
        Output = output;
    }

    public IByteSink Output { get; }

    /// <summary>Opens the backend; for pty, records the terminal's path in <paramref name="config"/> (as vm.info reports it).</summary>
    public static SerialConsole Open(SerialConfig config)
    {
        switch (config.Mode)
        {
            case ConsoleMode.Pty:
                return OpenPty(config);
            case ConsoleMode.Socket:
                return OpenSocket(config.Socket);
            default:
                var console = new SerialConsole(ConsoleOutput.Open(config.Mode, config.File, "serial"));
                console.Own(console.Output);
                if (config.Mode == ConsoleMode.Tty)
                {
                    RawTerminal.MakeRaw(1);
                    // As upstream: typed input only when stdin is an interactive terminal.
                    if (Libc.IsATty(StdinFd) == 1)
                    {
                        console.inputFd = console.Own(SafeFd.FromResult(Libc.Dup(StdinFd)));
                    }
                }

                return console;
        }
    }

    /// <summary>
    /// A lone newline becomes a carriage return (what Enter sends on a raw terminal), as upstream
    /// does for consoles that expect one.
    /// </summary>
    public static ReadOnlySpan<byte> TranslateInput(ReadOnlySpan<byte> bytes) =>
        bytes is [(byte)'\n'] ? "\r"u8 : bytes;

    /// <summary>Starts delivering input to <paramref name="handler"/>; a no-op for output-only backends.</summary>
    public void StartInput(ConsoleInputHandler handler)
    {
        if (inputFd is null && socket is null)
        {
            return;
        }

        watcher = new FdWatcher("serial-manager");
        if (socket is not null)
        {
            socket.Start(watcher, handler);
        }
        else
        {
            var fd = inputFd!.Fd;
            watcher.Add(fd, _ => ReadInput(fd, handler));
        }
    }

    public void Dispose()
    {
        watcher?.Dispose();
        foreach (var resource in owned)
        {
            resource.Dispose();
        }

        owned.Clear();
    }

    private static SerialConsole OpenPty(SerialConfig config)
    {
        var pty = PseudoTerminal.OpenForConsole();

        var console = new SerialConsole(new FdSink(SafeFd.FromResult(Libc.Dup(pty.Main.Fd))));
        console.Own(console.Output);
        console.Own(pty);
        console.inputFd = pty.Main;
        config.File = pty.Path;
        Log.Info($"Serial PTY: {pty.Path}");
        return console;
    }

    private static SerialConsole OpenSocket(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new VmmException("Error creating console devices", new VmmException("Path missing when using socket console mode"));
        }

        SocketConsole socket;
        try
        {
            socket = SocketConsole.Listen(path);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new VmmException("Error creating console devices",
                new VmmException("Error creating console device", new VmmException(e.Message)));
        }

        var console = new SerialConsole(socket) { socket = socket };
        console.Own(socket);
        return console;
    }

    private static unsafe void ReadInput(int fd, ConsoleInputHandler handler)
    {
        var buffer = stackalloc byte[64];
        var count = Libc.Read(fd, buffer, 64);
        if (count > 0)
        {
            handler(TranslateInput(new ReadOnlySpan<byte>(buffer, (int)count)));
        }
    }

    private T Own<T>(T resource)
    {
        if (resource is IDisposable disposable)
        {
            owned.Add(disposable);
        }

        return resource;
    }
}
