using System.Buffers.Binary;
using CloudHypervisor.Arch.Loader;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Arch.X86;

/// <summary>The register, MSR, FPU and LAPIC state upstream gives each vCPU before the first run.</summary>
public static class VcpuSetup
{
    private const int ApicLvt0 = 0x350, ApicLvt1 = 0x360;
    private const uint DeliveryModeExtInt = 7, DeliveryModeNmi = 4;

    public static readonly MsrEntry[] BootMsrs =
    [
        new(0x174, 0), // IA32_SYSENTER_CS
        new(0x175, 0), // IA32_SYSENTER_ESP
        new(0x176, 0), // IA32_SYSENTER_EIP
        new(0xC000_0081, 0), // STAR
        new(0xC000_0082, 0), // LSTAR
        new(0xC000_0083, 0), // CSTAR
        new(0xC000_0084, 0), // SYSCALL_MASK
        new(0xC000_0102, 0), // KERNEL_GS_BASE
        new(0x10, 0), // IA32_TSC
        new(0x1A0, 1), // IA32_MISC_ENABLE: fast strings
        new(0x2FF, 0x806), // MTRRdefType: enabled, write-back default
    ];

    public static void Configure(IVcpu vcpu, LoadedKernel kernel)
    {
        vcpu.SetMsrs(BootMsrs);
        vcpu.SetFpu(fcw: 0x37F, mxcsr: 0x1F80);
        vcpu.SetRegisters(InitialRegisters(kernel));

        var sregs = vcpu.GetSpecialRegisters();
        ApplyBootSegments(ref sregs);
        vcpu.SetSpecialRegisters(sregs);

        ConfigureLapic(vcpu);
    }

    public static StandardRegisters InitialRegisters(LoadedKernel kernel) => kernel.Protocol switch
    {
        BootProtocol.Pvh => new StandardRegisters { Rip = kernel.Entry, Rflags = 0x2, Rbx = Layout.PvhInfoStart },
        _ => new StandardRegisters
        {
            Rip = kernel.Entry, Rflags = 0x2, Rsi = Layout.ZeroPageStart, Rsp = Layout.BootStackPointer,
        },
    };

    /// <summary>Flat 32-bit protected mode, paging off, with the boot GDT and IDT.</summary>
    public static void ApplyBootSegments(ref SpecialRegisters sregs)
    {
        var code = Gdt.ToSegment(Gdt.BootEntries[1], Gdt.CodeSelector);
        var data = Gdt.ToSegment(Gdt.BootEntries[2], Gdt.DataSelector);
        sregs.Cs = code;
        sregs.Ds = data;
        sregs.Es = data;
        sregs.Fs = data;
        sregs.Gs = data;
        sregs.Ss = data;
        sregs.Tr = Gdt.ToSegment(Gdt.BootEntries[3], Gdt.TssSelector);
        sregs.Gdt = new DescriptorTable { Base = Layout.BootGdtStart, Limit = (ushort)((Gdt.BootEntries.Length * 8) - 1) };
        sregs.Idt = new DescriptorTable { Base = Layout.BootIdtStart, Limit = 7 };
        sregs.Cr0 = 0x1;
        sregs.Cr4 = 0;
    }

    /// <summary>LINT0 as ExtINT and LINT1 as NMI, like a PC's BIOS leaves them.</summary>
    public static void ConfigureLapic(IVcpu vcpu)
    {
        var lapic = vcpu.GetLapic();
        SetDeliveryMode(lapic, ApicLvt0, DeliveryModeExtInt);
        SetDeliveryMode(lapic, ApicLvt1, DeliveryModeNmi);
        vcpu.SetLapic(lapic);
    }

    private static void SetDeliveryMode(Span<byte> lapic, int register, uint mode)
    {
        var value = BinaryPrimitives.ReadUInt32LittleEndian(lapic[register..]);
        value = (value & ~0x700u) | (mode << 8);
        BinaryPrimitives.WriteUInt32LittleEndian(lapic[register..], value);
    }
}
