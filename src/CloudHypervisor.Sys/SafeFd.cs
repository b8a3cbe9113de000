using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using Microsoft.Win32.SafeHandles;

namespace CloudHypervisor.Sys;

/// <summary>An owned Linux file descriptor.</summary>
public sealed class SafeFd : SafeHandleMinusOneIsInvalid
{
    public SafeFd()
        : base(ownsHandle: true)
    {
    }

    public SafeFd(int fd, bool ownsHandle = true)
        : base(ownsHandle)
    {
        SetHandle(fd);
    }

    /// <summary>The raw descriptor, for syscalls made while this handle is known to be alive.</summary>
    public int Fd => (int)handle;

    /// <summary>Wraps the result of a syscall that returns a new descriptor, throwing on failure.</summary>
    public static SafeFd FromResult(int fd)
    {
        if (fd < 0)
        {
            throw OsException.Last();
        }

        return new SafeFd(fd);
    }

    public static SafeFd Open(string path, int flags, int mode = 0)
    {
        var fd = Libc.Open(path, flags | Libc.OCloExec, mode);
        return FromResult(fd);
    }

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
