using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Errors;

/// <summary>A failed system call; displays like Rust's io::Error: "No such file or directory (os error 2)".</summary>
public sealed class OsException : ChainedException
{
    public OsException(int errno)
        : base(Describe(errno))
    {
        Errno = errno;
    }

    public int Errno { get; }

    public static OsException Last() => new(Marshal.GetLastPInvokeError());

    public static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (os error {errno})";
}
