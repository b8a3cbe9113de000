using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Api.Http;

/// <summary>
/// The API's HTTP/1.1 engine: one thread multiplexing the listening socket and up to
/// <see cref="HttpServerOptions.MaxConnections"/> non-blocking connections with epoll. Requests are
/// handed to the <see cref="IHttpRequestHandler"/> one at a time, in arrival order (pipelined requests
/// included); connections are kept alive after every response.
/// </summary>
public sealed class HttpServer : IDisposable
{
    private const ulong ListenerToken = 0, StopToken = 1, FirstConnectionToken = 2;
    private const int MaxEvents = 32;
    private const int ReadBufferSize = 16 * 1024;

    private readonly UnixSocketListener listener;
    private readonly bool ownsListener;
    private readonly IHttpRequestHandler handler;
    private readonly HttpServerOptions options;
    private readonly SafeFd epoll;
    private readonly EventFd stopEvent = new(nonBlocking: true);
    private readonly HttpConnection?[] connections;
    private readonly byte[] readBuffer = new byte[ReadBufferSize];
    private readonly int[] receivedFds = new int[Libc.MaxFdsPerMessage];
    private readonly List<HttpRequest> batch = [];
    private Thread? thread;
    private int connectionCount;
    private bool stopRequested;
    private bool disposed;

    public HttpServer(UnixSocketListener listener, IHttpRequestHandler handler, HttpServerOptions? options = null, bool ownsListener = true)
    {
        this.listener = listener;
        this.handler = handler;
        this.ownsListener = ownsListener;
        this.options = options ?? new HttpServerOptions();
        connections = new HttpConnection?[this.options.MaxConnections];
        epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        try
        {
            Register(Libc.EpollCtlAdd, listener.Fd, Libc.EpollIn, ListenerToken);
            Register(Libc.EpollCtlAdd, stopEvent.Fd, Libc.EpollIn, StopToken);
        }
        catch
        {
            epoll.Dispose();
            stopEvent.Dispose();
            throw;
        }
    }

    /// <summary>Connections currently open (for diagnostics and tests).</summary>
    public int ConnectionCount => Volatile.Read(ref connectionCount);

    public bool IsRunning => thread is { IsAlive: true };

    /// <summary>Starts the server thread.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (thread is not null)
        {
            throw new InvalidOperationException("The HTTP server is already started");
        }

        thread = new Thread(Run) { Name = options.ThreadName, IsBackground = true };
        ThreadSandbox.Start(thread);
    }

    /// <summary>
    /// Signals the server thread to finish, waits for it, and closes every connection (queued responses
    /// get one last non-blocking send). Safe to call more than once.
    /// </summary>
    public void Stop()
    {
        if (thread is not { IsAlive: true })
        {
            return;
        }

        stopEvent.Write();
        if (Thread.CurrentThread != thread)
        {
            thread.Join();
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        Stop();
        disposed = true;
        epoll.Dispose();
        stopEvent.Dispose();
        if (ownsListener)
        {
            listener.Dispose();
        }
    }

    private unsafe void Run()
    {
        options.ThreadStarted?.Invoke();
        ThreadSandbox.Enter(SeccompThreadKind.HttpApi);
        var events = stackalloc Libc.EpollEvent[MaxEvents];
        try
        {
            while (!stopRequested)
            {
                var count = Wait(events, NextTimeoutMs(Environment.TickCount64));
                for (var i = 0; i < count && !stopRequested; i++)
                {
                    switch (events[i].Data)
                    {
                        case StopToken:
                            stopRequested = true;
                            break;
                        case ListenerToken:
                            AcceptPending();
                            break;
                        default:
                            Service(connections[(int)(events[i].Data - FirstConnectionToken)], events[i].Events);
                            break;
                    }
                }

                CloseStalled(Environment.TickCount64);
            }
        }
        catch (Exception e)
        {
            Log.Error($"HTTP server thread failed: {e}");
        }
        finally
        {
            CloseAll();
        }
    }

    private unsafe int Wait(Libc.EpollEvent* events, int timeoutMs)
    {
        while (true)
        {
            var count = Libc.EpollWait(epoll.Fd, events, MaxEvents, timeoutMs);
            if (count >= 0)
            {
                return count;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EIntr)
            {
                throw new OsException(errno);
            }
        }
    }

    /// <summary>
    /// Serves whatever the existing connections have ready (without waiting), so that clients which
    /// already hung up free their slots before a newcomer is judged against the connection limit.
    /// </summary>
    private unsafe void ServeReadyConnections()
    {
        var events = stackalloc Libc.EpollEvent[MaxEvents];
        var count = Wait(events, 0);
        for (var i = 0; i < count; i++)
        {
            switch (events[i].Data)
            {
                case StopToken:
                    stopRequested = true;
                    break;
                case ListenerToken:
                    break;
                default:
                    Service(connections[(int)(events[i].Data - FirstConnectionToken)], events[i].Events);
                    break;
            }
        }
    }

    private void AcceptPending()
    {
        while (!stopRequested)
        {
            SafeFd? socket;
            try
            {
                socket = listener.TryAccept();
            }
            catch (OsException e)
            {
                // EMFILE and friends: the client stays queued; report and let the next wake-up retry.
                Log.Error($"HTTP server failed to accept a connection: {e.Message}");
                return;
            }

            if (socket is null)
            {
                return;
            }

            var slot = Array.IndexOf(connections, null);
            if (slot < 0)
            {
                ServeReadyConnections();
                slot = Array.IndexOf(connections, null);
            }

            if (slot < 0)
            {
                RejectFull(socket);
                continue;
            }

            var connection = new HttpConnection(socket, slot, Environment.TickCount64) { Interest = Libc.EpollIn };
            try
            {
                Register(Libc.EpollCtlAdd, connection.Fd, Libc.EpollIn, FirstConnectionToken + (ulong)slot);
            }
            catch (OsException e)
            {
                Log.Error($"HTTP server failed to watch a connection: {e.Message}");
                connection.Dispose();
                continue;
            }

            connections[slot] = connection;
            Interlocked.Increment(ref connectionCount);
        }
    }

    private static unsafe void RejectFull(SafeFd socket)
    {
        using (socket)
        {
            fixed (byte* message = HttpResponseWriter.ServerFull)
            {
                Libc.Send(socket.Fd, message, (nuint)HttpResponseWriter.ServerFull.Length, Libc.MsgNoSignal | Libc.MsgDontWait);
            }
        }
    }

    private void Service(HttpConnection? connection, uint readiness)
    {
        if (connection is null)
        {
            return; // Closed earlier in this round.
        }

        try
        {
            if (!connection.ReadClosed && (readiness & (Libc.EpollIn | Libc.EpollHup | Libc.EpollErr)) != 0)
            {
                ReadAndHandle(connection);
            }

            if (!connection.Dead && connection.HasUnsentOutput)
            {
                connection.Flush(Environment.TickCount64);
            }

            if (!connection.Dead && connection.HasUnsentOutput && (readiness & (Libc.EpollHup | Libc.EpollErr)) != 0)
            {
                connection.Dead = true; // The peer is gone; what is left can never be delivered.
            }

            UpdateInterest(connection);
        }
        catch (Exception e)
        {
            Log.Error($"HTTP connection failed: {e.Message}");
            Close(connection);
        }
    }

    private void ReadAndHandle(HttpConnection connection)
    {
        var parser = connection.Parser;
        var directBody = parser.BodyRemaining;
        var destination = directBody.IsEmpty ? readBuffer : directBody;
        int received;
        int fdCount;
        try
        {
            received = Libc.ReceiveWithFds(connection.Fd, destination, receivedFds, out fdCount);
        }
        catch (OsException)
        {
            connection.Dead = true; // ECONNRESET and the like: nobody is left to answer.
            return;
        }

        if (received < 0)
        {
            return;
        }

        connection.AddFds(receivedFds.AsSpan(0, fdCount));
        if (received == 0)
        {
            connection.ReadClosed = true; // A half-received request is dropped; queued responses still go out.
            return;
        }

        connection.LastProgress = Environment.TickCount64;
        if (connection.PendingFdCount > HttpConnection.MaxPendingFds)
        {
            connection.Dead = true;
            return;
        }

        if (!directBody.IsEmpty)
        {
            if (parser.BodyReceived(received) == HttpParseStatus.RequestReady)
            {
                batch.Add(parser.TakeRequest(connection.TakeFds()));
            }
        }
        else if (!ParseInto(connection, readBuffer.AsSpan(0, received)))
        {
            return;
        }

        HandleBatch(connection);
    }

    /// <summary>Parses one read's worth of bytes into <see cref="batch"/>; false (batch dropped, 400 queued) on a parse error.</summary>
    private bool ParseInto(HttpConnection connection, ReadOnlySpan<byte> data)
    {
        var parser = connection.Parser;
        while (true)
        {
            var status = parser.Parse(data, out var consumed);
            data = data[consumed..];
            switch (status)
            {
                case HttpParseStatus.NeedMoreData:
                    return true;
                case HttpParseStatus.RequestReady:
                    batch.Add(parser.TakeRequest(connection.TakeFds()));
                    break;
                case HttpParseStatus.ContinueRequested:
                    HttpResponseWriter.WriteContinue(parser.Version, connection.Output);
                    break;
                case HttpParseStatus.Failed:
                    // Like upstream, requests parsed from the same input are answered only by the error.
                    DropBatch();
                    HttpResponseWriter.Write(HttpResponse.ParseError(parser.Error!), connection.Output);
                    connection.ReadClosed = true;
                    connection.DiscardInput(readBuffer);
                    return false;
            }
        }
    }

    private void HandleBatch(HttpConnection connection)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            var request = batch[i];
            batch[i] = null!;
            var response = Invoke(request);
            HttpResponseWriter.Write(response, connection.Output);
            if (response.CloseConnection)
            {
                connection.ReadClosed = true;
                for (var j = i + 1; j < batch.Count; j++)
                {
                    batch[j].Dispose();
                }

                break;
            }
        }

        batch.Clear();
    }

    private HttpResponse Invoke(HttpRequest request)
    {
        try
        {
            return handler.Handle(request);
        }
        catch (Exception e)
        {
            Log.Error($"HTTP request handler failed: {e}");
            return HttpResponse.Error(500, "Internal Server Error");
        }
        finally
        {
            request.Dispose();
        }
    }

    private void DropBatch()
    {
        foreach (var request in batch)
        {
            request.Dispose();
        }

        batch.Clear();
    }

    private void UpdateInterest(HttpConnection connection)
    {
        if (connection.Dead || (connection.ReadClosed && !connection.HasUnsentOutput))
        {
            Close(connection);
            return;
        }

        // Like upstream, a connection with a response to deliver is not read until it is delivered.
        var interest = connection.HasUnsentOutput ? Libc.EpollOut : Libc.EpollIn;
        if (interest != connection.Interest)
        {
            Register(Libc.EpollCtlMod, connection.Fd, interest, FirstConnectionToken + (ulong)connection.Slot);
            connection.Interest = interest;
        }
    }

    private int NextTimeoutMs(long now)
    {
        var timeout = (long)options.StalledConnectionTimeout.TotalMilliseconds;
        var earliest = long.MaxValue;
        foreach (var connection in connections)
        {
            if (connection is { IsStallable: true })
            {
                earliest = Math.Min(earliest, connection.LastProgress + timeout);
            }
        }

        return earliest == long.MaxValue ? -1 : (int)Math.Clamp(earliest - now + 1, 0, int.MaxValue);
    }

    private void CloseStalled(long now)
    {
        var timeout = (long)options.StalledConnectionTimeout.TotalMilliseconds;
        foreach (var connection in connections)
        {
            if (connection is { IsStallable: true } && now - connection.LastProgress >= timeout)
            {
                Log.Warn("HTTP server closing a stalled connection");
                Close(connection);
            }
        }
    }

    private void Close(HttpConnection connection)
    {
        if (connections[connection.Slot] != connection)
        {
            return;
        }

        connections[connection.Slot] = null;
        Interlocked.Decrement(ref connectionCount);
        connection.Dispose(); // Closing the descriptor also removes it from the epoll set.
    }

    private void CloseAll()
    {
        DropBatch();
        foreach (var connection in connections)
        {
            if (connection is null)
            {
                continue;
            }

            if (!connection.Dead && connection.HasUnsentOutput)
            {
                connection.Flush(Environment.TickCount64);
            }

            Close(connection);
        }
    }

    private unsafe void Register(int operation, int fd, uint events, ulong token)
    {
        var ev = new Libc.EpollEvent { Events = events, Data = token };
        if (Libc.EpollCtl(epoll.Fd, operation, fd, &ev) != 0)
        {
            throw OsException.Last();
        }
    }
}
