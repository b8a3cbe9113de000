using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "getpid")]
    public static partial int GetPid();
}
