using System.Runtime.InteropServices;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys.Seccomp;

/// <summary>A compiled filter kept in native memory for the life of the process, installable on any thread.</summary>
public sealed unsafe class SeccompProgram
{
    private readonly BpfInstruction* instructions;

    public SeccompProgram(ReadOnlySpan<BpfInstruction> program)
    {
        Length = program.Length;
        instructions = (BpfInstruction*)NativeMemory.Alloc((nuint)(program.Length * sizeof(BpfInstruction)));
        program.CopyTo(new Span<BpfInstruction>(instructions, program.Length));
    }

    public int Length { get; }

    /// <summary>Filters the calling thread (and every thread it creates from now on); stacks on any filter it already has.</summary>
    public void InstallOnCurrentThread()
    {
        // Without no_new_privs an unprivileged process may not install a filter; it also costs a root VMM nothing.
        if (Libc.Prctl(Libc.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            throw new SeccompException("Failed to set no_new_privs", OsException.Last());
        }

        var fprog = new Libc.SockFprog { Length = (ushort)Length, Filter = instructions };
        if (Libc.Prctl(Libc.PrSetSeccomp, (nuint)Libc.SeccompModeFilter, (nuint)(&fprog), 0, 0) != 0)
        {
            throw new SeccompException("Failed to load the seccomp filter", OsException.Last());
        }
    }
}
