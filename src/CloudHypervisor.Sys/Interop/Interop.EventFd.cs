using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const int EfdNonBlock = 0x800, EfdCloExec = 0x80000;

    [LibraryImport(Name, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initialValue, int flags);
}
