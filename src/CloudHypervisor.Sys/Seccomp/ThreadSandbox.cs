using System.Runtime.CompilerServices;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// Puts each VMM thread in its seccomp filter as it starts. The launcher configures the filters (or none, with
/// <c>--seccomp false</c>); every thread calls <see cref="Enter"/> first thing and starts threads through
/// <see cref="Start"/>.
///
/// A filter is inherited by the threads its thread creates and filters stack (a syscall must pass all of them),
/// so a thread whose own filter does not allow creating threads (a vCPU activating a virtio device, say) has
/// <see cref="ThreadSpawner"/> create them: the spawner's filter is the union of every kind's, so a new thread's
/// effective filter is exactly its own.
/// </summary>
public static class ThreadSandbox
{
    private static readonly ConditionalWeakTable<Thread, SeccompProgram> Inherited = new();
    private static Func<SeccompThreadKind, SeccompProgram?>? programs;
    private static Func<SeccompThreadKind, bool> createsThreads = _ => true;

    /// <summary>The last filter this thread installed (or inherited), which the threads it starts inherit.</summary>
    [ThreadStatic]
    private static SeccompProgram? current;

    [ThreadStatic]
    private static bool mayCreateThreads;

    [ThreadStatic]
    private static bool filtered;

    /// <summary>True once filters are configured: threads entering a kind get its program.</summary>
    public static bool Enabled => programs is not null;

    /// <param name="programFor">The compiled filter of each kind.</param>
    /// <param name="kindCreatesThreads">Whether a kind's own filter allows clone (else its threads go through the spawner).</param>
    public static void Configure(Func<SeccompThreadKind, SeccompProgram?> programFor, Func<SeccompThreadKind, bool> kindCreatesThreads)
    {
        createsThreads = kindCreatesThreads;
        programs = programFor;
    }

    /// <summary>Names the calling thread at the OS level and installs its kind's filter.</summary>
    public static void Enter(SeccompThreadKind kind)
    {
        NativeThreadName.ApplyCurrent();
        if (programs?.Invoke(kind) is not { } program)
        {
            return;
        }

        SigsysReporter.Register(Thread.CurrentThread.Name ?? kind.Text(), kind);
        try
        {
            // A thread whose creator already runs this very filter has it: installing it again would only make the
            // kernel run it twice on every syscall.
            if (!(Inherited.TryGetValue(Thread.CurrentThread, out var inherited) && ReferenceEquals(inherited, program)))
            {
                program.InstallOnCurrentThread();
            }
        }
        catch (SeccompException e)
        {
            Log.Error($"Error applying seccomp filter to the {kind.Text()} thread: {string.Join(": ", e.Chain())}");
            throw;
        }

        current = program;
        filtered = true;
        mayCreateThreads = createsThreads(kind);
        SeccompTestTrigger.OnEntered(kind);
    }

    /// <summary>Starts <paramref name="thread"/> here, or on the spawner when this thread's filter forbids creating threads.</summary>
    public static void Start(Thread thread)
    {
        if (!filtered || mayCreateThreads || ThreadSpawner.Instance is not { } spawner)
        {
            StartHere(thread);
            return;
        }

        spawner.Start(thread);
    }

    /// <summary>Starts <paramref name="thread"/> on the calling thread, noting the filter it inherits.</summary>
    internal static void StartHere(Thread thread)
    {
        if (current is { } program)
        {
            Inherited.AddOrUpdate(thread, program);
        }

        thread.Start();
    }
}
