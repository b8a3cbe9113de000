using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// A device's I/O thread, named after the device as upstream's are: it sleeps in epoll on the
/// queues' notification eventfds and hands each notified queue to the device, so blocking work
/// never runs on a vCPU thread. An exception from the device stops only that queue.
/// </summary>
public sealed class VirtioWorker : IDisposable
{
    private const ulong StopToken = ulong.MaxValue;

    private readonly IReadOnlyList<VirtioQueueBinding> queues;
    private readonly Action<VirtioQueueBinding> processQueue;
    private readonly EventFd stop = new();
    private readonly SafeFd epoll;
    private readonly Thread thread;

    private VirtioWorker(string name, IReadOnlyList<VirtioQueueBinding> queues, Action<VirtioQueueBinding> processQueue)
    {
        this.queues = queues;
        this.processQueue = processQueue;
        epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        Watch(stop.Fd, StopToken);
        for (var i = 0; i < queues.Count; i++)
        {
            Watch(queues[i].Notifier.Fd, (ulong)i);
        }

        thread = new Thread(Run) { Name = name, IsBackground = true };
    }

    /// <summary>Starts thread <paramref name="name"/> calling <paramref name="processQueue"/> for each notified queue.</summary>
    public static VirtioWorker Start(string name, IReadOnlyList<VirtioQueueBinding> queues, Action<VirtioQueueBinding> processQueue)
    {
        var worker = new VirtioWorker(name, queues, processQueue);
        worker.thread.Start();
        return worker;
    }

    /// <summary>Stops the thread and waits for it.</summary>
    public void Dispose()
    {
        stop.Write();
        if (thread.IsAlive && thread != Thread.CurrentThread)
        {
            thread.Join();
        }

        epoll.Dispose();
        stop.Dispose();
    }

    private unsafe void Watch(int fd, ulong token)
    {
        var ev = new Libc.EpollEvent { Events = Libc.EpollIn, Data = token };
        if (Libc.EpollCtl(epoll.Fd, Libc.EpollCtlAdd, fd, &ev) != 0)
        {
            throw new VirtioException("Failed to add an event to the virtio epoll", OsException.Last());
        }
    }

    private unsafe void Run()
    {
        NativeThreadName.ApplyCurrent();
        var events = stackalloc Libc.EpollEvent[8];
        while (true)
        {
            var count = Libc.EpollWait(epoll.Fd, events, 8, -1);
            if (count < 0)
            {
                if (Marshal.GetLastPInvokeError() == Libc.EIntr)
                {
                    continue;
                }

                Log.Error($"{thread.Name}: epoll_wait failed; the device stops");
                return;
            }

            for (var i = 0; i < count; i++)
            {
                if (events[i].Data == StopToken)
                {
                    return;
                }

                var binding = queues[(int)events[i].Data];
                binding.Notifier.Read();
                try
                {
                    processQueue(binding);
                }
                catch (Exception e)
                {
                    binding.Queue.MarkBroken($"processing failed: {e.Message}");
                }
            }
        }
    }
}
