using System.Runtime.InteropServices;
using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Kvm;
using static CloudHypervisor.Hypervisor.Kvm.KvmHypervisor;

namespace CloudHypervisor.Hypervisor.Kvm;

internal sealed unsafe class KvmVcpu : IVcpu
{
    private readonly SafeFd vcpu;
    private readonly int fd;
    private readonly nint runMapping;
    private readonly int runSize;
    private KvmRun* run;

    public KvmVcpu(int id, SafeFd vcpu, int runSize)
    {
        Id = id;
        this.vcpu = vcpu;
        this.runSize = runSize;
        fd = vcpu.Fd;
        runMapping = Libc.Mmap(0, (nuint)runSize, Libc.ProtRead | Libc.ProtWrite, Libc.MapShared, fd, 0);
        if (runMapping == Libc.MapFailed)
        {
            throw new HypervisorException("Failed to map the vCPU run structure", OsException.Last());
        }

        run = (KvmRun*)runMapping;
    }

    public int Id { get; }

    public VmExit Run()
    {
        if (Libc.Ioctl(fd, KvmIoctls.Run, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EIntr || errno == Libc.EAgain)
            {
                return new VmExit(VmExitReason.Interrupted);
            }

            throw new HypervisorException($"KVM_RUN failed on vCPU {Id}", new OsException(errno));
        }

        var reason = run->ExitReason;
        switch (reason)
        {
            case KvmExit.Io:
                var ioLength = run->IoSize * (int)run->IoCount;
                var ioData = new Span<byte>((byte*)run + run->IoDataOffset, ioLength);
                return new VmExit(VmExitReason.Io, run->IoPort, run->IoDirection == KvmRun.IoOut, ioData, reason, run->IoSize);
            case KvmExit.Mmio:
                var mmioData = new Span<byte>((byte*)run + 40, (int)Math.Min(run->MmioLen, 8u));
                return new VmExit(VmExitReason.Mmio, run->MmioPhysAddr, run->MmioIsWrite != 0, mmioData, reason);
            case KvmExit.Hlt:
                return new VmExit(VmExitReason.Hlt, raw: reason);
            case KvmExit.Shutdown:
                return new VmExit(VmExitReason.Shutdown, raw: reason);
            case KvmExit.SystemEvent:
                return new VmExit(
                    run->SystemEventType == KvmExit.SystemEventReset ? VmExitReason.Reset : VmExitReason.Shutdown,
                    raw: reason);
            case KvmExit.IoapicEoi:
                return new VmExit(VmExitReason.IoapicEoi, *((byte*)run + 32), raw: reason);
            case KvmExit.InternalError:
                return new VmExit(VmExitReason.InternalError, raw: reason);
            case KvmExit.FailEntry:
                return new VmExit(VmExitReason.FailEntry, raw: reason);
            case KvmExit.Intr:
            case KvmExit.IrqWindowOpen:
                return new VmExit(VmExitReason.Interrupted, raw: reason);
            default:
                return new VmExit(VmExitReason.Unknown, raw: reason);
        }
    }

    public void RequestImmediateExit(bool value) => run->ImmediateExit = value ? (byte)1 : (byte)0;

    public string DescribeLastExit()
    {
        var regs = default(KvmRegs);
        var rip = Libc.Ioctl(fd, KvmIoctls.GetRegs, &regs) == 0 ? $"0x{regs.Rip:x}" : "unknown";
        var reason = run->ExitReason;
        return reason switch
        {
            KvmExit.InternalError => DescribeInternalError(rip),
            KvmExit.FailEntry =>
                $"KVM entry failure (exit reason {reason}): hardware entry failure reason 0x{run->FailEntryReason:x}, rip {rip}",
            KvmExit.Shutdown => $"KVM shutdown (triple fault) (exit reason {reason}), rip {rip}",
            _ => $"unexpected KVM exit reason {reason} ({KvmExitNames.Name(reason)}), rip {rip}",
        };
    }

    /// <summary>
    /// KVM_EXIT_INTERNAL_ERROR: the suberror by name, every data word KVM supplied and, for an emulation
    /// failure that carries them, the bytes of the instruction KVM could not emulate.
    /// </summary>
    private string DescribeInternalError(string rip)
    {
        const int maxData = 16;
        var suberror = run->InternalSuberror;
        var ndata = (int)Math.Min(run->InternalNdata, maxData);
        var data = (ulong*)((byte*)run + 40);
        var text = new System.Text.StringBuilder();
        text.Append($"KVM internal error (exit reason {KvmExit.InternalError}): suberror {suberror} ({KvmExitNames.InternalSuberror(suberror)})");
        if (suberror == KvmExitNames.SuberrorEmulation && ndata >= 3 && (data[0] & KvmExitNames.EmulationFlagInstructionBytes) != 0)
        {
            // struct { u64 flags; u8 insn_size; u8 insn_bytes[15]; } overlays data[0..2].
            var bytes = (byte*)&data[1];
            var size = Math.Min((int)bytes[0], 15);
            text.Append(", instruction bytes [");
            for (var i = 0; i < size; i++)
            {
                text.Append(i == 0 ? "" : " ").Append(bytes[1 + i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }

            text.Append(']');
        }

        text.Append($", ndata {run->InternalNdata}, data [");
        for (var i = 0; i < ndata; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append($"0x{data[i]:x}");
        }

        return text.Append($"], rip {rip}").ToString();
    }

    public StandardRegisters GetRegisters()
    {
        var r = default(KvmRegs);
        Check(Libc.Ioctl(fd, KvmIoctls.GetRegs, &r), "KVM_GET_REGS");
        return new StandardRegisters
        {
            Rax = r.Rax, Rbx = r.Rbx, Rcx = r.Rcx, Rdx = r.Rdx, Rsi = r.Rsi, Rdi = r.Rdi, Rsp = r.Rsp, Rbp = r.Rbp,
            R8 = r.R8, R9 = r.R9, R10 = r.R10, R11 = r.R11, R12 = r.R12, R13 = r.R13, R14 = r.R14, R15 = r.R15,
            Rip = r.Rip, Rflags = r.Rflags,
        };
    }

    public void SetRegisters(in StandardRegisters s)
    {
        var r = new KvmRegs
        {
            Rax = s.Rax, Rbx = s.Rbx, Rcx = s.Rcx, Rdx = s.Rdx, Rsi = s.Rsi, Rdi = s.Rdi, Rsp = s.Rsp, Rbp = s.Rbp,
            R8 = s.R8, R9 = s.R9, R10 = s.R10, R11 = s.R11, R12 = s.R12, R13 = s.R13, R14 = s.R14, R15 = s.R15,
            Rip = s.Rip, Rflags = s.Rflags,
        };
        Check(Libc.Ioctl(fd, KvmIoctls.SetRegs, &r), "KVM_SET_REGS");
    }

    public SpecialRegisters GetSpecialRegisters()
    {
        var k = default(KvmSregs);
        Check(Libc.Ioctl(fd, KvmIoctls.GetSregs, &k), "KVM_GET_SREGS");
        return new SpecialRegisters
        {
            Cs = From(k.Cs), Ds = From(k.Ds), Es = From(k.Es), Fs = From(k.Fs), Gs = From(k.Gs), Ss = From(k.Ss),
            Tr = From(k.Tr), Ldt = From(k.Ldt),
            Gdt = new DescriptorTable { Base = k.Gdt.Base, Limit = k.Gdt.Limit },
            Idt = new DescriptorTable { Base = k.Idt.Base, Limit = k.Idt.Limit },
            Cr0 = k.Cr0, Cr2 = k.Cr2, Cr3 = k.Cr3, Cr4 = k.Cr4, Cr8 = k.Cr8, Efer = k.Efer, ApicBase = k.ApicBase,
        };
    }

    public void SetSpecialRegisters(in SpecialRegisters s)
    {
        // Read first so fields this abstraction does not model (the interrupt bitmap) keep KVM's values.
        var k = default(KvmSregs);
        Check(Libc.Ioctl(fd, KvmIoctls.GetSregs, &k), "KVM_GET_SREGS");
        k.Cs = To(s.Cs);
        k.Ds = To(s.Ds);
        k.Es = To(s.Es);
        k.Fs = To(s.Fs);
        k.Gs = To(s.Gs);
        k.Ss = To(s.Ss);
        k.Tr = To(s.Tr);
        k.Ldt = To(s.Ldt);
        k.Gdt.Base = s.Gdt.Base;
        k.Gdt.Limit = s.Gdt.Limit;
        k.Idt.Base = s.Idt.Base;
        k.Idt.Limit = s.Idt.Limit;
        k.Cr0 = s.Cr0;
        k.Cr2 = s.Cr2;
        k.Cr3 = s.Cr3;
        k.Cr4 = s.Cr4;
        k.Cr8 = s.Cr8;
        k.Efer = s.Efer;
        k.ApicBase = s.ApicBase;
        Check(Libc.Ioctl(fd, KvmIoctls.SetSregs, &k), "KVM_SET_SREGS");
    }

    public void SetFpu(ushort fcw, uint mxcsr)
    {
        var fpu = new KvmFpu { Fcw = fcw, Mxcsr = mxcsr };
        Check(Libc.Ioctl(fd, KvmIoctls.SetFpu, &fpu), "KVM_SET_FPU");
    }

    public void SetMsrs(ReadOnlySpan<MsrEntry> msrs)
    {
        var size = sizeof(KvmMsrsHeader) + (msrs.Length * sizeof(KvmMsrEntry));
        var buffer = stackalloc byte[size];
        ((KvmMsrsHeader*)buffer)->Nmsrs = (uint)msrs.Length;
        ((KvmMsrsHeader*)buffer)->Pad = 0;
        var entries = (KvmMsrEntry*)(buffer + sizeof(KvmMsrsHeader));
        for (var i = 0; i < msrs.Length; i++)
        {
            entries[i] = new KvmMsrEntry { Index = msrs[i].Index, Data = msrs[i].Data };
        }

        var written = Check(Libc.Ioctl(fd, KvmIoctls.SetMsrs, buffer), "KVM_SET_MSRS");
        if (written != msrs.Length)
        {
            throw new HypervisorException("Some MSRs could not be set");
        }
    }

    public void SetCpuId(ReadOnlySpan<CpuIdEntry> entries)
    {
        var size = sizeof(KvmCpuid2Header) + (entries.Length * sizeof(KvmCpuidEntry2));
        var buffer = (byte*)NativeMemory.AllocZeroed((nuint)size);
        try
        {
            ((KvmCpuid2Header*)buffer)->Nent = (uint)entries.Length;
            var target = (KvmCpuidEntry2*)(buffer + sizeof(KvmCpuid2Header));
            for (var i = 0; i < entries.Length; i++)
            {
                var e = entries[i];
                target[i].Function = e.Function;
                target[i].Index = e.Index;
                target[i].Flags = e.Flags;
                target[i].Eax = e.Eax;
                target[i].Ebx = e.Ebx;
                target[i].Ecx = e.Ecx;
                target[i].Edx = e.Edx;
            }

            Check(Libc.Ioctl(fd, KvmIoctls.SetCpuid2, buffer), "KVM_SET_CPUID2");
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    public byte[] GetLapic()
    {
        var state = default(KvmLapicState);
        Check(Libc.Ioctl(fd, KvmIoctls.GetLapic, &state), "KVM_GET_LAPIC");
        return new ReadOnlySpan<byte>(state.Regs, 1024).ToArray();
    }

    public void SetLapic(ReadOnlySpan<byte> registers)
    {
        var state = default(KvmLapicState);
        registers[..1024].CopyTo(new Span<byte>(state.Regs, 1024));
        Check(Libc.Ioctl(fd, KvmIoctls.SetLapic, &state), "KVM_SET_LAPIC");
    }

    public void InjectNmi() => Check(Libc.Ioctl(fd, KvmIoctls.Nmi, 0), "KVM_NMI");

    public void EnableHypervSynic()
    {
        var enable = new KvmEnableCap { Cap = KvmCap.HypervSynic };
        Check(Libc.Ioctl(fd, KvmIoctls.EnableCap, &enable), "KVM_ENABLE_CAP(HYPERV_SYNIC)");
    }

    public void Dispose()
    {
        if (run != null)
        {
            Libc.Munmap(runMapping, (nuint)runSize);
            run = null;
        }

        vcpu.Dispose();
    }

    private static SegmentRegister From(in KvmSegment s) => new()
    {
        Base = s.Base, Limit = s.Limit, Selector = s.Selector, Type = s.Type, Present = s.Present, Dpl = s.Dpl,
        Db = s.Db, S = s.S, L = s.L, G = s.G, Avl = s.Avl, Unusable = s.Unusable,
    };

    private static KvmSegment To(in SegmentRegister s) => new()
    {
        Base = s.Base, Limit = s.Limit, Selector = s.Selector, Type = s.Type, Present = s.Present, Dpl = s.Dpl,
        Db = s.Db, S = s.S, L = s.L, G = s.G, Avl = s.Avl, Unusable = s.Unusable,
    };
}
