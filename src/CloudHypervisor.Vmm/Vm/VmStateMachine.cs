using CloudHypervisor.Contracts;

namespace CloudHypervisor.Vmm.Vm;

/// <summary>The transitions upstream's VmState allows; anything else is refused before any work is done.</summary>
public static class VmStateMachine
{
    public static bool IsAllowed(VmState from, VmState to) => from switch
    {
        VmState.Created => to is VmState.Running or VmState.Paused or VmState.Shutdown or VmState.BreakPoint,
        VmState.Running => to is VmState.Paused or VmState.Shutdown or VmState.BreakPoint,
        VmState.Paused => to is VmState.Running or VmState.Shutdown,
        VmState.Shutdown => to is VmState.Running,
        VmState.BreakPoint => to is VmState.Created or VmState.Running,
        _ => false,
    };

    /// <exception cref="InvalidVmStateTransitionException">The transition is not allowed.</exception>
    public static void Check(VmState from, VmState to)
    {
        if (!IsAllowed(from, to))
        {
            throw new InvalidVmStateTransitionException(from, to);
        }
    }
}

/// <summary>Upstream's <c>InvalidStateTransition</c>, worded as its Display text.</summary>
public sealed class InvalidVmStateTransitionException : VmmException
{
    public InvalidVmStateTransitionException(VmState from, VmState to)
        : base($"invalid VM state transition: {from} to {to}")
    {
        From = from;
        To = to;
    }

    public VmState From { get; }

    public VmState To { get; }
}
