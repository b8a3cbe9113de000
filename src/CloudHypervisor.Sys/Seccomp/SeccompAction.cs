namespace CloudHypervisor.Sys.Seccomp;

/// <summary>The SECCOMP_RET_* values a filter returns (linux/seccomp.h).</summary>
public static class SeccompAction
{
    public const uint KillProcess = 0x8000_0000;
    public const uint Trap = 0x0003_0000;
    public const uint Errno = 0x0005_0000;
    public const uint Log = 0x7ffc_0000;
    public const uint Allow = 0x7fff_0000;

    /// <summary>Fail the syscall with <paramref name="errno"/> instead of running it.</summary>
    public static uint ErrnoOf(int errno) => Errno | ((uint)errno & 0xffff);
}
