using System.Runtime.InteropServices;

namespace CloudHypervisor.Sys.Interop;

public static partial class Libc
{
    public const int ORdOnly = 0, OWrOnly = 1, ORdWr = 2, OCreat = 0x40, OExcl = 0x80, ONoCtty = 0x100,
        OTrunc = 0x200, OAppend = 0x400, ONonBlock = 0x800, ODirect = 0x4000, OCloExec = 0x80000;
    public const int FGetFl = 3, FSetFl = 4;
    public const uint MfdCloExec = 1, MfdHugeTlb = 4;
    public const int EIntr = 4, EAgain = 11;

    [LibraryImport(Name, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Name, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Name, EntryPoint = "read", SetLastError = true)]
    public static unsafe partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Name, EntryPoint = "write", SetLastError = true)]
    public static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport(Name, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int cmd, int arg);

    [LibraryImport(Name, EntryPoint = "dup", SetLastError = true)]
    public static partial int Dup(int fd);

    [LibraryImport(Name, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    [LibraryImport(Name, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Name, EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport(Name, EntryPoint = "umask")]
    public static partial uint Umask(uint mask);

    /// <summary>Writes all of <paramref name="data"/>, retrying on EINTR and short writes.</summary>
    public static unsafe bool WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* start = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = Write(fd, start + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EIntr)
                    {
                        continue;
                    }

                    return false;
                }

                done += (int)n;
            }
        }

        return true;
    }
}
