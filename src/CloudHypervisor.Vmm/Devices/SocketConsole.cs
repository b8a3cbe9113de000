using System.Net.Sockets;
using CloudHypervisor.Devices.Legacy;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// `socket=&lt;path&gt;`: a Unix stream socket the VMM listens on. One client at a time (a new one
/// replaces the old); it receives the guest's output and its bytes are the guest's input. Output
/// produced while nobody is connected is kept (up to <see cref="MaxBuffered"/>) for the next client.
/// </summary>
public sealed class SocketConsole : IByteSink, IDisposable
{
    public const int MaxBuffered = 1 << 20;

    private readonly Socket listener;
    private readonly string path;
    private readonly object gate = new();
    private readonly Queue<byte> pending = new();
    private FdWatcher? watcher;
    private ConsoleInputHandler? input;
    private Socket? client;

    private SocketConsole(Socket listener, string path)
    {
        this.listener = listener;
        this.path = path;
    }

    public static SocketConsole Listen(string path)
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            return new SocketConsole(listener, path);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Starts accepting clients; their bytes go to <paramref name="handler"/>.</summary>
    public void Start(FdWatcher fdWatcher, ConsoleInputHandler handler)
    {
        watcher = fdWatcher;
        input = handler;
        watcher.Add((int)listener.Handle, _ => Accept());
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (gate)
        {
            if (client is not null && TrySend(client, data))
            {
                return;
            }

            foreach (var b in data)
            {
                if (pending.Count == MaxBuffered)
                {
                    pending.Dequeue();
                }

                pending.Enqueue(b);
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            client?.Dispose();
            client = null;
        }

        listener.Dispose();

        // The next boot of this VM (a guest reboot builds its devices anew) binds the path again.
        File.Delete(path);
    }

    private static bool TrySend(Socket socket, ReadOnlySpan<byte> data)
    {
        try
        {
            while (!data.IsEmpty)
            {
                data = data[socket.Send(data)..];
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Accept()
    {
        var accepted = listener.Accept();
        accepted.SendTimeout = 1000;
        Socket? previous;
        lock (gate)
        {
            previous = client;
            client = accepted;
            if (pending.Count > 0)
            {
                var backlog = pending.ToArray();
                pending.Clear();
                TrySend(accepted, backlog);
            }
        }

        if (previous is not null)
        {
            Disconnect(previous);
        }

        watcher!.Add((int)accepted.Handle, _ => Receive(accepted));
    }

    private void Receive(Socket socket)
    {
        Span<byte> buffer = stackalloc byte[64];
        int count;
        try
        {
            count = socket.Receive(buffer);
        }
        catch (SocketException)
        {
            count = 0;
        }

        if (count == 0)
        {
            Log.Info("Remote end closed serial socket");
            lock (gate)
            {
                if (client == socket)
                {
                    client = null;
                }
            }

            Disconnect(socket);
            return;
        }

        input?.Invoke(SerialConsole.TranslateInput(buffer[..count]));
    }

    private void Disconnect(Socket socket)
    {
        watcher?.Remove((int)socket.Handle);
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already gone.
        }

        socket.Dispose();
    }
}
