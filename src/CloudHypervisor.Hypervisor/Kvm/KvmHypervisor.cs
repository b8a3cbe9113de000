using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Kvm;

namespace CloudHypervisor.Hypervisor.Kvm;

public sealed class KvmHypervisor : IHypervisor
{
    public const string DevicePath = "/dev/kvm";
    private const int ExpectedApiVersion = 12;
    private readonly SafeFd kvm;

    private KvmHypervisor(SafeFd kvm)
    {
        this.kvm = kvm;
        VcpuMmapSize = Check(Libc.Ioctl(kvm.Fd, KvmIoctls.GetVcpuMmapSize, 0), "KVM_GET_VCPU_MMAP_SIZE");
        var max = Libc.Ioctl(kvm.Fd, KvmIoctls.CheckExtension, KvmCap.MaxVcpus);
        MaxVcpus = max > 0 ? max : Math.Max(Libc.Ioctl(kvm.Fd, KvmIoctls.CheckExtension, KvmCap.NrVcpus), 4);
    }

    public string Name => "kvm";

    public int MaxVcpus { get; }

    internal int VcpuMmapSize { get; }

    public static bool IsAvailable => File.Exists(DevicePath);

    public static KvmHypervisor Open()
    {
        var fd = SafeFd.Open(DevicePath, Libc.ORdWr);
        var version = Libc.Ioctl(fd.Fd, KvmIoctls.GetApiVersion, 0);
        if (version != ExpectedApiVersion)
        {
            fd.Dispose();
            throw new HypervisorException($"Incompatible KVM API version {version}");
        }

        return new KvmHypervisor(fd);
    }

    public bool HasCapability(uint cap) => Libc.Ioctl(kvm.Fd, KvmIoctls.CheckExtension, cap) > 0;

    public IVm CreateVm()
    {
        // KVM_CREATE_VM can fail with EINTR under signal pressure; retry like upstream does.
        while (true)
        {
            var fd = Libc.Ioctl(kvm.Fd, KvmIoctls.CreateVm, 0);
            if (fd >= 0)
            {
                return new KvmVm(this, new SafeFd(fd));
            }

            if (Marshal.GetLastPInvokeError() != Libc.EIntr)
            {
                throw new HypervisorException("Failed to create Vm", OsException.Last());
            }
        }
    }

    public unsafe CpuIdEntry[] GetSupportedCpuId()
    {
        const int capacity = 256;
        var size = sizeof(KvmCpuid2Header) + (capacity * sizeof(KvmCpuidEntry2));
        var buffer = (byte*)NativeMemory.AllocZeroed((nuint)size);
        try
        {
            ((KvmCpuid2Header*)buffer)->Nent = capacity;
            Check(Libc.Ioctl(kvm.Fd, KvmIoctls.GetSupportedCpuid, buffer), "KVM_GET_SUPPORTED_CPUID");
            var count = (int)((KvmCpuid2Header*)buffer)->Nent;
            var entries = (KvmCpuidEntry2*)(buffer + sizeof(KvmCpuid2Header));
            var result = new CpuIdEntry[count];
            for (var i = 0; i < count; i++)
            {
                var e = entries[i];
                result[i] = new CpuIdEntry
                {
                    Function = e.Function, Index = e.Index, Flags = e.Flags,
                    Eax = e.Eax, Ebx = e.Ebx, Ecx = e.Ecx, Edx = e.Edx,
                };
            }

            return result;
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    public void Dispose() => kvm.Dispose();

    internal static int Check(int result, string what)
    {
        if (result < 0)
        {
            throw new HypervisorException($"{what} failed", OsException.Last());
        }

        return result;
    }
}
