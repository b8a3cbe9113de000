namespace CloudHypervisor.Hypervisor;

public enum VmExitReason
{
    /// <summary>Port I/O: <see cref="VmExit.Address"/> is the port.</summary>
    Io,

    /// <summary>Memory-mapped I/O outside guest RAM.</summary>
    Mmio,

    /// <summary>KVM_RUN was interrupted (kick signal or immediate_exit); nothing to emulate.</summary>
    Interrupted,

    Hlt,

    /// <summary>Triple fault or a guest shutdown request.</summary>
    Shutdown,

    /// <summary>The guest asked for a reset through a paravirtual mechanism.</summary>
    Reset,

    InternalError,
    FailEntry,
    /// <summary>End of interrupt for a level-triggered vector; <see cref="VmExit.Address"/> is the vector.</summary>
    IoapicEoi,

    Ignored,
    Unknown,
}

/// <summary>
/// One vCPU exit. <see cref="Data"/> is a window into the shared run structure: devices read a
/// write's bytes from it and store a read's result into it, with no copies or allocations.
/// </summary>
public readonly ref struct VmExit
{
    public VmExit(VmExitReason reason, ulong address = 0, bool isWrite = false, Span<byte> data = default, uint raw = 0, int elementSize = 0)
    {
        Reason = reason;
        Address = address;
        IsWrite = isWrite;
        Data = data;
        RawReason = raw;
        ElementSize = elementSize == 0 ? data.Length : elementSize;
    }

    public VmExitReason Reason { get; }

    public ulong Address { get; }

    public bool IsWrite { get; }

    public Span<byte> Data { get; }

    /// <summary>Bytes per access; string I/O (rep ins/outs) packs several accesses into <see cref="Data"/>.</summary>
    public int ElementSize { get; }

    /// <summary>The backend's own exit code, for error messages.</summary>
    public uint RawReason { get; }
}
