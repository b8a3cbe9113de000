using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    public const int MapShared = 0x01, MapPrivate = 0x02, MapFixed = 0x10, MapAnonymous = 0x20,
        MapNoReserve = 0x4000, MapPopulate = 0x8000, MapHugeTlb = 0x40000;
    public const int MapHugeShift = 26;
    public const int MadvWillNeed = 3, MadvDontNeed = 4, MadvMergeable = 12, MadvHugePage = 14, MadvDontDump = 16, MadvPopulateWrite = 23;
    public static readonly nint MapFailed = -1;

    /// <summary>NUMA memory policy modes and mbind flags (linux/mempolicy.h).</summary>
    public const int MpolDefault = 0, MpolPreferred = 1, MpolBind = 2;
    public const uint MpolMfStrict = 1, MpolMfMove = 1 << 1;
    public const uint MpolFAddr = 1 << 1;

    // glibc has no mbind/get_mempolicy wrappers (they live in libnuma), so these go through syscall(2).
    private const long SysMbind = 237, SysGetMempolicy = 239;

    [LibraryImport(Name, EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Name, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport(Name, EntryPoint = "mprotect", SetLastError = true)]
    public static partial int Mprotect(nint addr, nuint length, int prot);

    [LibraryImport(Name, EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    /// <summary>
    /// mbind(2): sets the NUMA policy of [addr, addr+length). <paramref name="nodeMask"/> is a bitmap of
    /// 64-bit words; <paramref name="maxNode"/> is the number of bits the kernel reads from it.
    /// </summary>
    public static unsafe int Mbind(nint addr, nuint length, int mode, ReadOnlySpan<ulong> nodeMask, ulong maxNode, uint flags)
    {
        fixed (ulong* mask = nodeMask)
        {
            return (int)Syscall(SysMbind, addr, (nint)length, mode, (nint)mask, (nint)maxNode, (nint)flags);
        }
    }

    /// <summary>get_mempolicy(2) for the page at <paramref name="addr"/> (MPOL_F_ADDR): its mode and node mask.</summary>
    public static unsafe int GetMempolicy(out int mode, Span<ulong> nodeMask, nint addr)
    {
        int policy = 0;
        fixed (ulong* mask = nodeMask)
        {
            var result = (int)Syscall(SysGetMempolicy, (nint)(&policy), (nint)mask, nodeMask.Length * 64, addr, (nint)MpolFAddr, 0);
            mode = policy;
            return result;
        }
    }

    // syscall(2) is variadic in C but implemented in assembly in glibc: it only moves registers,
    // so a fixed six-argument signature is ABI-safe.
    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a1, nint a2, nint a3, nint a4, nint a5, nint a6);
}
