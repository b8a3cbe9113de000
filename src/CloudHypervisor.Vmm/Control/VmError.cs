using CloudHypervisor.Sys.Errors;

namespace CloudHypervisor.Vmm.Control;

/// <summary>What went wrong with a VMM request; the API derives the HTTP status from it.</summary>
public enum VmErrorKind
{
    /// <summary>Anything without a more specific status: wrong state, I/O, hypervisor failures.</summary>
    Failed,
    NotCreated,
    ConfigMissing,
    InvalidConfig,
    DuplicateIdentifier,
    DeviceNotFound,
    ResizePending,
}

/// <summary>
/// The immediate cause of a failed VMM request (upstream's VmError): its message is the third
/// element of an API error body and <see cref="Kind"/> selects the status code.
/// </summary>
public sealed class VmError : ChainedException
{
    public VmError(VmErrorKind kind, string message, Exception? cause = null)
        : base(message, cause)
    {
        Kind = kind;
    }

    public VmErrorKind Kind { get; }

    public static VmError NotCreated() => new(VmErrorKind.NotCreated, "VM is not created");

    public static VmError ConfigMissing() => new(VmErrorKind.ConfigMissing, "VM config is missing");

    public static VmError AlreadyCreated() => new(VmErrorKind.Failed, "VM is already created");

    public static VmError NotRunning() => new(VmErrorKind.Failed, "VM is not running");

    public static VmError NotSupportedYet(string message, string feature) =>
        new(VmErrorKind.Failed, message, VmmException.NotSupportedYet(feature));
}
