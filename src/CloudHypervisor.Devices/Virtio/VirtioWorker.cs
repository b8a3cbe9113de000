using System.Runtime.InteropServices;
using CloudHypervisor.Devices.RateLimiting;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Seccomp;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// A host descriptor that feeds a queue (a TAP feeding a receive queue): when it becomes readable
/// the queue is processed as if notified. It is watched edge-triggered, so the worker also processes
/// the queue once when it starts, for data that arrived before.
/// </summary>
public readonly record struct VirtioWorkerSource(int Fd, VirtioQueueBinding Queue);

/// <summary>
/// A device's I/O thread, named after the device as upstream's are: it sleeps in epoll on the
/// queues' notification eventfds (and an optional host source) and hands each notified queue to the
/// device, so blocking work never runs on a vCPU thread. An exception from the device stops only that queue.
/// A device that rate-limits passes its <see cref="ThrottleWake"/>: when that timer fires every queue is processed again.
/// </summary>
public sealed class VirtioWorker : IDisposable
{
    private const ulong StopToken = ulong.MaxValue;
    private const ulong SourceToken = ulong.MaxValue - 1;
    private const ulong WakeToken = ulong.MaxValue - 2;
    private const uint EpollEdgeTriggered = 1u << 31;

    private readonly IReadOnlyList<VirtioQueueBinding> queues;
    private readonly Action<VirtioQueueBinding> processQueue;
    private readonly VirtioWorkerSource? source;
    private readonly ThrottleWake? wake;
    private readonly SeccompThreadKind kind;
    private readonly EventFd stop = new();
    private readonly SafeFd epoll;
    private readonly Thread thread;

    private VirtioWorker(
        string name, SeccompThreadKind kind, IReadOnlyList<VirtioQueueBinding> queues, Action<VirtioQueueBinding> processQueue, VirtioWorkerSource? source,
        ThrottleWake? wake)
    {
        this.kind = kind;
        this.queues = queues;
        this.processQueue = processQueue;
        this.source = source;
        this.wake = wake;
        epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        Watch(stop.Fd, StopToken, Libc.EpollIn);
        for (var i = 0; i < queues.Count; i++)
        {
            Watch(queues[i].Notifier.Fd, (ulong)i, Libc.EpollIn);
        }

        if (source is { } host)
        {
            Watch(host.Fd, SourceToken, Libc.EpollIn | EpollEdgeTriggered);
        }

        if (wake is not null)
        {
            Watch(wake.Fd, WakeToken, Libc.EpollIn);
        }

        thread = new Thread(Run) { Name = name, IsBackground = true };
    }

    /// <summary>
    /// Starts thread <paramref name="name"/>, filtered as a <paramref name="kind"/> thread, calling
    /// <paramref name="processQueue"/> for each notified queue.
    /// </summary>
    public static VirtioWorker Start(
        string name, SeccompThreadKind kind, IReadOnlyList<VirtioQueueBinding> queues, Action<VirtioQueueBinding> processQueue,
        VirtioWorkerSource? source = null, ThrottleWake? wake = null)
    {
        var worker = new VirtioWorker(name, kind, queues, processQueue, source, wake);
        ThreadSandbox.Start(worker.thread);
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

    private unsafe void Watch(int fd, ulong token, uint events)
    {
        var ev = new Libc.EpollEvent { Events = events, Data = token };
        if (Libc.EpollCtl(epoll.Fd, Libc.EpollCtlAdd, fd, &ev) != 0)
        {
            throw new VirtioException("Failed to add an event to the virtio epoll", OsException.Last());
        }
    }

    private unsafe void Run()
    {
        ThreadSandbox.Enter(kind);
        if (source is { } host)
        {
            Process(host.Queue);
        }

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
                switch (events[i].Data)
                {
                    case StopToken:
                        return;
                    case SourceToken:
                        Process(source!.Value.Queue);
                        break;
                    case WakeToken:
                        wake!.Fired();
                        for (var q = 0; q < queues.Count; q++)
                        {
                            Process(queues[q]);
                        }

                        break;
                    default:
                        var binding = queues[(int)events[i].Data];
                        binding.Notifier.Read();
                        Process(binding);
                        break;
                }
            }
        }
    }

    private void Process(VirtioQueueBinding binding)
    {
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
