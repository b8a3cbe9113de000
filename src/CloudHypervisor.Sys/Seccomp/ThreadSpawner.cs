using System.Runtime.ExceptionServices;
using CloudHypervisor.Sys.Threading;

namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// A thread that only creates threads, for filtered threads that may not (see <see cref="ThreadSandbox"/>).
/// It never waits on anything but its queue, so a vCPU blocked on it cannot deadlock with the VMM thread.
/// </summary>
public sealed class ThreadSpawner
{
    private readonly WorkQueue<Request> requests = new();

    private ThreadSpawner()
    {
    }

    public static ThreadSpawner? Instance { get; private set; }

    /// <summary>
    /// Makes the spawner available: requests queue at once; the thread that serves them starts with
    /// <see cref="StartThread"/>, which a thread in the VMM filter calls once the VM is running, off the boot path.
    /// </summary>
    public static void Create() => Instance = new ThreadSpawner();

    /// <summary>Starts the spawner's thread (it inherits the caller's filter and adds its own) if not yet started.</summary>
    public static void StartThread()
    {
        if (Instance is not { } spawner || Interlocked.Exchange(ref spawner.started, 1) != 0)
        {
            return;
        }

        ThreadSandbox.StartHere(new Thread(spawner.Run) { Name = "spawner", IsBackground = true });
    }

    private int started;

    /// <summary>Starts <paramref name="thread"/> on the spawner and returns once it runs.</summary>
    public void Start(Thread thread)
    {
        using var request = new Request(thread);
        _ = requests.TryAdd(request);
        request.Done.Wait();
        request.Error?.Throw();
    }

    private void Run()
    {
        ThreadSandbox.Enter(SeccompThreadKind.Spawner);
        while (requests.TryTake(out var request))
        {
            try
            {
                ThreadSandbox.StartHere(request.Thread);
            }
            catch (Exception e)
            {
                request.Error = ExceptionDispatchInfo.Capture(e);
            }

            request.Done.Set();
        }
    }

    private sealed class Request(Thread thread) : IDisposable
    {
        public Thread Thread { get; } = thread;

        public ManualResetEventSlim Done { get; } = new(false, spinCount: 0);

        public ExceptionDispatchInfo? Error { get; set; }

        public void Dispose() => Done.Dispose();
    }
}
