using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Kvm;

namespace CloudHypervisor.Tests.Sys;

/// <summary>The blittable mirrors must match the kernel's x86-64 ABI byte for byte.</summary>
public class KvmAbiTests
{
    [Fact]
    public void StructSizesMatchLinuxHeaders()
    {
        Assert.Equal(32, Unsafe.SizeOf<KvmUserspaceMemoryRegion>());
        Assert.Equal(144, Unsafe.SizeOf<KvmRegs>());
        Assert.Equal(24, Unsafe.SizeOf<KvmSegment>());
        Assert.Equal(16, Unsafe.SizeOf<KvmDtable>());
        Assert.Equal(312, Unsafe.SizeOf<KvmSregs>());
        Assert.Equal(416, Unsafe.SizeOf<KvmFpu>());
        Assert.Equal(16, Unsafe.SizeOf<KvmMsrEntry>());
        Assert.Equal(8, Unsafe.SizeOf<KvmMsrsHeader>());
        Assert.Equal(40, Unsafe.SizeOf<KvmCpuidEntry2>());
        Assert.Equal(8, Unsafe.SizeOf<KvmCpuid2Header>());
        Assert.Equal(1024, Unsafe.SizeOf<KvmLapicState>());
        Assert.Equal(104, Unsafe.SizeOf<KvmEnableCap>());
        Assert.Equal(32, Unsafe.SizeOf<KvmIrqFd>());
        Assert.Equal(64, Unsafe.SizeOf<KvmIoEventFd>());
        Assert.Equal(32, Unsafe.SizeOf<KvmMsi>());
        Assert.Equal(48, Unsafe.SizeOf<KvmIrqRoutingEntry>());
        Assert.Equal(8, Unsafe.SizeOf<KvmIrqRoutingHeader>());
        Assert.Equal(60, Unsafe.SizeOf<Libc.Termios>());
        Assert.Equal(12, Unsafe.SizeOf<Libc.EpollEvent>());
        Assert.Equal(152, Unsafe.SizeOf<Libc.SigAction>());
    }

    [Theory]
    [InlineData(nameof(KvmSregs.Gdt), 192)]
    [InlineData(nameof(KvmSregs.Cr0), 224)]
    [InlineData(nameof(KvmSregs.ApicBase), 272)]
    [InlineData(nameof(KvmSregs.InterruptBitmap), 280)]
    public void SregsFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<KvmSregs>(field));

    [Theory]
    [InlineData(nameof(KvmRun.ExitReason), 8)]
    [InlineData(nameof(KvmRun.IoPort), 34)]
    [InlineData(nameof(KvmRun.IoDataOffset), 40)]
    [InlineData(nameof(KvmRun.MmioPhysAddr), 32)]
    [InlineData(nameof(KvmRun.MmioData), 40)]
    [InlineData(nameof(KvmRun.MmioLen), 48)]
    [InlineData(nameof(KvmRun.MmioIsWrite), 52)]
    [InlineData(nameof(KvmRun.EoiVector), 32)]
    public void RunFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<KvmRun>(field));

    [Theory]
    [InlineData(nameof(KvmFpu.Fcw), 128)]
    [InlineData(nameof(KvmFpu.LastIp), 136)]
    [InlineData(nameof(KvmFpu.Xmm), 152)]
    [InlineData(nameof(KvmFpu.Mxcsr), 408)]
    public void FpuFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<KvmFpu>(field));

    [Fact]
    public void IoctlNumbersMatchLinuxHeaders()
    {
        Assert.Equal(0xAE80UL, KvmIoctls.Run);
        Assert.Equal(0xAE01UL, KvmIoctls.CreateVm);
        Assert.Equal(0x8090AE81UL, KvmIoctls.GetRegs);
        Assert.Equal(0x8138AE83UL, KvmIoctls.GetSregs);
        Assert.Equal(0x4020AE46UL, KvmIoctls.SetUserMemoryRegion);
        Assert.Equal(0xC008AE05UL, KvmIoctls.GetSupportedCpuid);
        Assert.Equal(0x4008AE90UL, KvmIoctls.SetCpuid2);
        Assert.Equal(0x4068AEA3UL, KvmIoctls.EnableCap);
        Assert.Equal(0x4020AEA5UL, KvmIoctls.SignalMsi);
        Assert.Equal(0x4020AE76UL, KvmIoctls.IrqFd);
        Assert.Equal(0x4040AE79UL, KvmIoctls.IoEventFd);
        Assert.Equal(0x81A0AE8CUL, KvmIoctls.GetFpu);
        Assert.Equal(0x4400AE8FUL, KvmIoctls.SetLapic);
        Assert.Equal(0x4008AE6AUL, KvmIoctls.SetGsiRouting);
    }

    [Theory]
    [InlineData(nameof(KvmIrqRoutingEntry.Gsi), 0)]
    [InlineData(nameof(KvmIrqRoutingEntry.Type), 4)]
    [InlineData(nameof(KvmIrqRoutingEntry.Flags), 8)]
    [InlineData(nameof(KvmIrqRoutingEntry.AddressLo), 16)]
    [InlineData(nameof(KvmIrqRoutingEntry.AddressHi), 20)]
    [InlineData(nameof(KvmIrqRoutingEntry.Data), 24)]
    [InlineData(nameof(KvmIrqRoutingEntry.DevId), 28)]
    public void IrqRoutingEntryFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<KvmIrqRoutingEntry>(field));

    [Theory]
    [InlineData(nameof(KvmIrqFd.Fd), 0)]
    [InlineData(nameof(KvmIrqFd.Gsi), 4)]
    [InlineData(nameof(KvmIrqFd.Flags), 8)]
    [InlineData(nameof(KvmIrqFd.ResampleFd), 12)]
    public void IrqFdFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<KvmIrqFd>(field));

    [Theory]
    [InlineData(nameof(Libc.Termios.LocalFlags), 12)]
    [InlineData(nameof(Libc.Termios.Line), 16)]
    [InlineData(nameof(Libc.Termios.ControlChars), 17)]
    [InlineData(nameof(Libc.Termios.InputSpeed), 52)]
    public void TermiosFieldOffsets(string field, int offset) =>
        Assert.Equal(offset, (int)Marshal.OffsetOf<Libc.Termios>(field));

    [Fact]
    public void InterruptRoutingConstantsMatchLinuxHeaders()
    {
        Assert.Equal(2u, KvmIrq.RoutingMsi);
        Assert.Equal(1u, KvmIrq.IrqFdDeassign);
        Assert.Equal(2u, KvmIrq.IrqFdResample);
        Assert.Equal(26u, KvmExit.IoapicEoi);
    }
}
