using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using Microsoft.Win32.SafeHandles;

namespace CloudHypervisor.Vmm.Vm;

internal static class GuestFiles
{
    /// <summary>Reads a whole payload file; a failure to open carries upstream's message and the OS error.</summary>
    public static byte[] Read(string path, string openError)
    {
        SafeFd fd;
        try
        {
            fd = SafeFd.Open(path, Libc.ORdOnly);
        }
        catch (OsException e)
        {
            throw new VmmException(openError, e);
        }

        using var handle = new SafeFileHandle(fd.DangerousGetHandle(), ownsHandle: true);
        fd.SetHandleAsInvalid();
        var length = RandomAccess.GetLength(handle);
        var data = new byte[length];
        var done = 0;
        while (done < data.Length)
        {
            var n = RandomAccess.Read(handle, data.AsSpan(done), done);
            if (n == 0)
            {
                break;
            }

            done += n;
        }

        return data;
    }
}
