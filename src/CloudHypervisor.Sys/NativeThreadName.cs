using System.Text;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys;

/// <summary>
/// Gives the calling thread its managed name at the OS level (/proc/&lt;pid&gt;/task/&lt;tid&gt;/comm), as upstream's
/// threads are named ("vcpu0", "vmm", "http-server"): tools that pin or inspect vCPU threads find them by it.
/// NativeAOT does not do this by itself.
/// </summary>
public static class NativeThreadName
{
    public static unsafe void ApplyCurrent()
    {
        if (Thread.CurrentThread.Name is not { Length: > 0 } name)
        {
            return;
        }

        // The kernel keeps 15 bytes plus the terminator.
        Span<byte> buffer = stackalloc byte[16];
        buffer.Clear();
        Encoding.UTF8.GetBytes(name.AsSpan(0, Math.Min(name.Length, 15)), buffer[..15]);
        fixed (byte* text = buffer)
        {
            _ = Libc.Prctl(Libc.PrSetName, (nuint)text, 0, 0, 0);
        }
    }
}
