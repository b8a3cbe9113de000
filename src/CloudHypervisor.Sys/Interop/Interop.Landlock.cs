using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

/// <summary>Filesystem access rights of a Landlock ruleset (linux/landlock.h, LANDLOCK_ACCESS_FS_*).</summary>
[Flags]
public enum LandlockAccessFs : ulong
{
    None = 0,
    Execute = 1UL << 0,
    WriteFile = 1UL << 1,
    ReadFile = 1UL << 2,
    ReadDir = 1UL << 3,
    RemoveDir = 1UL << 4,
    RemoveFile = 1UL << 5,
    MakeChar = 1UL << 6,
    MakeDir = 1UL << 7,
    MakeReg = 1UL << 8,
    MakeSock = 1UL << 9,
    MakeFifo = 1UL << 10,
    MakeBlock = 1UL << 11,
    MakeSym = 1UL << 12,

    /// <summary>ABI 2: link or rename a file across directories.</summary>
    Refer = 1UL << 13,

    /// <summary>ABI 3: truncate(2), ftruncate(2), open with O_TRUNC.</summary>
    Truncate = 1UL << 14,

    /// <summary>ABI 5: ioctl(2) on character and block devices opened after the restriction.</summary>
    IoctlDev = 1UL << 15,
}

/// <summary>Landlock syscalls (x86-64: 444, 445, 446); glibc 2.36 has no wrappers, so they go through syscall(2).</summary>
public static partial class Libc
{
    public const uint LandlockCreateRulesetVersion = 1U << 0;
    public const int LandlockRulePathBeneath = 1;
    public const int OPath = 0x200000, ODirectory = 0x10000;
    public const int EAcces = 13, ENoSys = 38;

    private const long SysLandlockCreateRuleset = 444, SysLandlockAddRule = 445, SysLandlockRestrictSelf = 446;

    /// <summary>struct landlock_ruleset_attr as of ABI 6 (24 bytes); older kernels accept it while the newer fields are zero.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 24)]
    public struct LandlockRulesetAttr
    {
        [FieldOffset(0)]
        public ulong HandledAccessFs;

        /// <summary>ABI 4: LANDLOCK_ACCESS_NET_* (unused: upstream sandboxes files only).</summary>
        [FieldOffset(8)]
        public ulong HandledAccessNet;

        /// <summary>ABI 6: LANDLOCK_SCOPE_* (unused).</summary>
        [FieldOffset(16)]
        public ulong Scoped;
    }

    /// <summary>struct landlock_path_beneath_attr, packed (12 bytes).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 12)]
    public struct LandlockPathBeneathAttr
    {
        [FieldOffset(0)]
        public ulong AllowedAccess;

        [FieldOffset(8)]
        public int ParentFd;
    }

    /// <summary>landlock_create_ruleset(2): a new ruleset descriptor, or -1 with errno set.</summary>
    public static unsafe int LandlockCreateRuleset(in LandlockRulesetAttr attr)
    {
        fixed (LandlockRulesetAttr* pointer = &attr)
        {
            return (int)LandlockSyscall(SysLandlockCreateRuleset, (nint)pointer, sizeof(LandlockRulesetAttr), 0, 0);
        }
    }

    /// <summary>The highest Landlock ABI the kernel offers, or -1 with errno set (ENOSYS, EOPNOTSUPP when absent or disabled).</summary>
    public static int LandlockAbiVersion() => (int)LandlockSyscall(SysLandlockCreateRuleset, 0, 0, (nint)LandlockCreateRulesetVersion, 0);

    /// <summary>landlock_add_rule(2) with LANDLOCK_RULE_PATH_BENEATH.</summary>
    public static unsafe int LandlockAddPathBeneathRule(int rulesetFd, in LandlockPathBeneathAttr attr)
    {
        fixed (LandlockPathBeneathAttr* pointer = &attr)
        {
            return (int)LandlockSyscall(SysLandlockAddRule, rulesetFd, LandlockRulePathBeneath, (nint)pointer, 0);
        }
    }

    /// <summary>landlock_restrict_self(2): confines the calling thread (and the threads it creates afterwards).</summary>
    public static int LandlockRestrictSelf(int rulesetFd) => (int)LandlockSyscall(SysLandlockRestrictSelf, rulesetFd, 0, 0, 0);

    // syscall(2) only moves registers (see Interop.Mman.cs), so a fixed signature is ABI-safe.
    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static partial long LandlockSyscall(long number, nint a1, nint a2, nint a3, nint a4);
}
