namespace CloudHypervisor.Sys.Interop;

/// <summary>
/// glibc entry points. The shipped binaries link them statically (DirectPInvoke), so these
/// are plain calls, not dlopen lookups.
/// </summary>
public static partial class Libc
{
    internal const string Name = "libc";
}
