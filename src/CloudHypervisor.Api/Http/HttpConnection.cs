using System.Buffers;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Api.Http;

/// <summary>Server-side state of one client connection; used only on the server thread.</summary>
internal sealed class HttpConnection : IDisposable
{
    /// <summary>More descriptors than this waiting for a request to complete means a misbehaving client.</summary>
    public const int MaxPendingFds = 4 * Libc.MaxFdsPerMessage;

    private const int RetainedOutputCapacity = 64 * 1024;

    private readonly List<int> pendingFds = [];
    private ArrayBufferWriter<byte> output = new(1024);
    private int outputSent;

    public HttpConnection(SafeFd socket, int slot, long now)
    {
        Socket = socket;
        Slot = slot;
        LastProgress = now;
    }

    public SafeFd Socket { get; }

    public int Fd => Socket.Fd;

    public int Slot { get; }

    public HttpRequestParser Parser { get; } = new();

    public IBufferWriter<byte> Output => output;

    /// <summary>Milliseconds (Environment.TickCount64) of the last byte read or written.</summary>
    public long LastProgress { get; set; }

    /// <summary>No more requests are read: the peer ended its side, or the input was unparseable.</summary>
    public bool ReadClosed { get; set; }

    /// <summary>The socket failed or the server decided to drop the connection.</summary>
    public bool Dead { get; set; }

    /// <summary>The epoll interest currently registered.</summary>
    public uint Interest { get; set; }

    public bool HasUnsentOutput => outputSent < output.WrittenCount;

    /// <summary>Whether the stall timeout applies: a request is half-received or a response half-sent.</summary>
    public bool IsStallable => HasUnsentOutput || (!ReadClosed && Parser.HasPartialRequest);

    public int PendingFdCount => pendingFds.Count;

    public void AddFds(ReadOnlySpan<int> fds)
    {
        foreach (var fd in fds)
        {
            pendingFds.Add(fd);
        }
    }

    /// <summary>The descriptors received so far, now owned by the request that just completed.</summary>
    public SafeFd[]? TakeFds()
    {
        if (pendingFds.Count == 0)
        {
            return null;
        }

        var files = new SafeFd[pendingFds.Count];
        for (var i = 0; i < files.Length; i++)
        {
            files[i] = new SafeFd(pendingFds[i]);
        }

        pendingFds.Clear();
        return files;
    }

    /// <summary>Sends as much queued output as the socket takes without blocking; marks the connection dead on error.</summary>
    public unsafe void Flush(long now)
    {
        var written = output.WrittenSpan;
        fixed (byte* start = written)
        {
            while (outputSent < written.Length)
            {
                var sent = Libc.Send(Fd, start + outputSent, (nuint)(written.Length - outputSent), Libc.MsgNoSignal | Libc.MsgDontWait);
                if (sent < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Libc.EIntr)
                    {
                        continue;
                    }

                    if (errno != Libc.EAgain)
                    {
                        Dead = true;
                    }

                    return;
                }

                outputSent += (int)sent;
                LastProgress = now;
            }
        }

        outputSent = 0;
        if (output.Capacity > RetainedOutputCapacity)
        {
            output = new ArrayBufferWriter<byte>(1024);
        }
        else
        {
            output.ResetWrittenCount();
        }
    }

    /// <summary>Reads and discards what the peer already sent, so closing does not turn into ECONNRESET for it.</summary>
    public unsafe void DiscardInput(Span<byte> scratch)
    {
        fixed (byte* buffer = scratch)
        {
            for (var round = 0; round < 16; round++)
            {
                if (Libc.Recv(Fd, buffer, (nuint)scratch.Length, Libc.MsgDontWait) <= 0)
                {
                    return;
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var fd in pendingFds)
        {
            Libc.Close(fd);
        }

        pendingFds.Clear();
        Socket.Dispose();
    }
}
