using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// The I/O thread of one queue pair (named <c>&lt;id&gt;_qp0</c> as upstream's): epoll on the receive,
/// transmit and control queues' notifiers and, edge-triggered, on the TAP's readability. A TAP event or
/// a receive notification drains frames into posted buffers; a transmit notification sends frames.
/// </summary>
internal sealed class NetWorker : IDisposable
{
    private const ulong StopToken = ulong.MaxValue;
    private const ulong TapToken = ulong.MaxValue - 1;
    private const uint EpollEt = 1u << 31;

    private readonly NetQueuePair pair;
    private readonly NetControlQueue control;
    private readonly IVirtioInterrupt interrupt;
    private readonly VirtioQueueBinding? rx;
    private readonly VirtioQueueBinding? tx;
    private readonly VirtioQueueBinding? ctrl;
    private readonly EventFd stop = new();
    private readonly SafeFd epoll;
    private readonly Thread thread;

    public NetWorker(string name, int tapFd, NetQueuePair pair, NetControlQueue control, VirtioActivation activation)
    {
        this.pair = pair;
        this.control = control;
        interrupt = activation.Interrupt;
        foreach (var binding in activation.Queues)
        {
            switch (binding.Index)
            {
                case VirtioNet.ReceiveQueue: rx = binding; break;
                case VirtioNet.TransmitQueue: tx = binding; break;
                case VirtioNet.ControlQueue: ctrl = binding; break;
            }
        }

        epoll = SafeFd.FromResult(Libc.EpollCreate1(Libc.EpollCloExec));
        Watch(stop.Fd, StopToken, Libc.EpollIn);
        foreach (var binding in activation.Queues)
        {
            Watch(binding.Notifier.Fd, (ulong)binding.Index, Libc.EpollIn);
        }

        if (rx is not null)
        {
            Watch(tapFd, TapToken, Libc.EpollIn | EpollEt);
        }

        thread = new Thread(Run) { Name = name, IsBackground = true };
        thread.Start();
    }

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
            throw new VirtioException("Failed to add an event to the virtio-net epoll", OsException.Last());
        }
    }

    private unsafe void Run()
    {
        NativeThreadName.ApplyCurrent();

        // Frames may already be waiting, and buffers already posted.
        Serve(rx);
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
                    case TapToken:
                        Serve(rx);
                        break;
                    case (ulong)VirtioNet.ReceiveQueue:
                        rx!.Notifier.Read();
                        Serve(rx);
                        break;
                    case (ulong)VirtioNet.TransmitQueue:
                        tx!.Notifier.Read();
                        Serve(tx);
                        break;
                    case (ulong)VirtioNet.ControlQueue:
                        ctrl!.Notifier.Read();
                        Serve(ctrl);
                        break;
                }
            }
        }
    }

    /// <summary>Runs one queue's processing and interrupts the driver if it wants that; a failure stops only that queue.</summary>
    private void Serve(VirtioQueueBinding? binding)
    {
        if (binding is null)
        {
            return;
        }

        try
        {
            var used = binding.Index switch
            {
                VirtioNet.ReceiveQueue => pair.Receive(binding.Queue),
                VirtioNet.TransmitQueue => pair.Transmit(binding.Queue),
                _ => control.Process(binding.Queue),
            };
            if (used && binding.Queue.NeedsNotification())
            {
                interrupt.SignalQueue(binding.Index);
            }
        }
        catch (Exception e)
        {
            binding.Queue.MarkBroken($"processing failed: {e.Message}");
        }
    }
}
