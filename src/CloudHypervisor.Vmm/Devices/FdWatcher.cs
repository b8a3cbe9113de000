using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Devices;

/// <summary>
/// One thread that waits (epoll) for host descriptors to become readable and runs their handlers;
/// disposing wakes it through an eventfd and joins it.
/// </summary>
public sealed class FdWatcher : IDisposable
{
    private const ulong StopToken = ulong.MaxValue;
    private readonly SafeFd epoll;
    private readonly EventFd stop = new();
    private readonly Dictionary<int, Action<uint>> handlers = [];
    private readonly Thread thread;

    public unsafe FdWatcher(string threadName)
    {
        epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        var wake = new Libc.EpollEvent { Events = Libc.EpollIn, Data = StopToken };
        Check(Libc.EpollCtl(epoll.Fd, Libc.EpollCtlAdd, stop.Fd, &wake));
        thread = new Thread(Run) { Name = threadName, IsBackground = true };
        ThreadSandbox.Start(thread);
    }

    /// <summary>Calls <paramref name="onReady"/> (with the epoll event bits) on the watcher thread whenever <paramref name="fd"/> is readable or hung up.</summary>
    public unsafe void Add(int fd, Action<uint> onReady)
    {
        lock (handlers)
        {
            handlers[fd] = onReady;
        }

        var interest = new Libc.EpollEvent { Events = Libc.EpollIn, Data = (ulong)fd };
        Check(Libc.EpollCtl(epoll.Fd, Libc.EpollCtlAdd, fd, &interest));
    }

    public unsafe void Remove(int fd)
    {
        lock (handlers)
        {
            handlers.Remove(fd);
        }

        Libc.EpollCtl(epoll.Fd, Libc.EpollCtlDel, fd, null);
    }

    public void Dispose()
    {
        stop.Write();
        if (Thread.CurrentThread != thread)
        {
            thread.Join();
        }

        epoll.Dispose();
        stop.Dispose();
    }

    private static void Check(int result)
    {
        if (result < 0)
        {
            throw OsException.Last();
        }
    }

    private unsafe void Run()
    {
        ThreadSandbox.Enter(SeccompThreadKind.SerialManager);
        const int capacity = 4;
        var events = stackalloc Libc.EpollEvent[capacity];
        while (true)
        {
            var count = Libc.EpollWait(epoll.Fd, events, capacity, -1);
            if (count < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EIntr)
                {
                    continue;
                }

                Log.Error($"Console input stopped: {OsException.Last().Message}");
                return;
            }

            for (var i = 0; i < count; i++)
            {
                if (events[i].Data == StopToken)
                {
                    return;
                }

                Action<uint>? handler;
                lock (handlers)
                {
                    handlers.TryGetValue((int)events[i].Data, out handler);
                }

                try
                {
                    handler?.Invoke(events[i].Events);
                }
                catch (Exception e) when (e is ChainedException or IOException or System.Net.Sockets.SocketException)
                {
                    Log.Error($"Console input failed: {e.Message}");
                    Remove((int)events[i].Data);
                }
            }
        }
    }
}
