using System.Buffers.Binary;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys;

/// <summary>
/// A signal handler in native code that confines the thread it interrupts with Landlock: it creates a ruleset
/// handling the given rights with no rule, sets no_new_privs, restricts the thread to it, closes the ruleset and
/// records the outcome. It is for threads that cannot be asked to run managed code, such as the runtime's finalizer
/// thread during start-up: managed code entered from a signal is only safe on a thread the runtime has attached and
/// that is in native code, and a signal can reach that thread before its own initialization has attached it. The
/// handler makes raw syscalls (no libc, so errno is untouched) and touches nothing but its own data page.
/// </summary>
/// <remarks>
/// The code and data live in two pages mapped once and never unmapped (a thread may still be between the handler's
/// last store and its <c>ret</c> when the outcome is read). The code page is made read-execute before use.
/// </remarks>
public sealed unsafe class LandlockSignalStub
{
    private const int PageSize = 4096;
    private const int AttrOffset = 0, ResultOffset = 24, AnsweredOffset = 28;
    private const ulong AttrSlot = 0x1111_1111_1111_1111, ResultSlot = 0x2222_2222_2222_2222, AnsweredSlot = 0x3333_3333_3333_3333;

    // as(1) output of:
    //     push rbx
    //     movabs rdi, &attr ; mov esi, 24 ; xor edx, edx ; mov eax, 444 ; syscall   # landlock_create_ruleset
    //     mov rbx, rax ; test rax, rax ; js 1f
    //     mov edi, 38 ; mov esi, 1 ; xor edx, edx ; xor r10d, r10d ; xor r8d, r8d ; mov eax, 157 ; syscall
    //     test rax, rax ; jnz 2f                                                      # prctl(PR_SET_NO_NEW_PRIVS)
    //     mov rdi, rbx ; xor esi, esi ; mov eax, 446 ; syscall                        # landlock_restrict_self
    // 2:  movabs rcx, &result ; mov [rcx], eax
    //     mov rdi, rbx ; mov eax, 3 ; syscall ; jmp 3f                                # close
    // 1:  movabs rcx, &result ; mov [rcx], eax
    // 3:  movabs rcx, &answered ; mov dword ptr [rcx], 1
    //     pop rbx ; ret
    private static ReadOnlySpan<byte> Code =>
    [
        0x53, 0x48, 0xbf, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0xbe,
        0x18, 0x00, 0x00, 0x00, 0x31, 0xd2, 0xb8, 0xbc, 0x01, 0x00, 0x00, 0x0f,
        0x05, 0x48, 0x89, 0xc3, 0x48, 0x85, 0xc0, 0x78, 0x42, 0xbf, 0x26, 0x00,
        0x00, 0x00, 0xbe, 0x01, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x45, 0x31, 0xd2,
        0x45, 0x31, 0xc0, 0xb8, 0x9d, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x48, 0x85,
        0xc0, 0x75, 0x0c, 0x48, 0x89, 0xdf, 0x31, 0xf6, 0xb8, 0xbe, 0x01, 0x00,
        0x00, 0x0f, 0x05, 0x48, 0xb9, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
        0x22, 0x89, 0x01, 0x48, 0x89, 0xdf, 0xb8, 0x03, 0x00, 0x00, 0x00, 0x0f,
        0x05, 0xeb, 0x0c, 0x48, 0xb9, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
        0x22, 0x89, 0x01, 0x48, 0xb9, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
        0x33, 0xc7, 0x01, 0x01, 0x00, 0x00, 0x00, 0x5b, 0xc3,
    ];

    private readonly byte* data;

    private LandlockSignalStub(nint code, byte* data)
    {
        Handler = code;
        this.data = data;
    }

    /// <summary>The handler's address, for sigaction(2).</summary>
    public nint Handler { get; }

    /// <summary>Whether the handler has run (to its end).</summary>
    public bool Answered => Volatile.Read(ref *(int*)(data + AnsweredOffset)) != 0;

    /// <summary>Once <see cref="Answered"/>: 0 when the thread is confined, else the errno of the step that failed.</summary>
    public int Errno => -Volatile.Read(ref *(int*)(data + ResultOffset));

    /// <param name="handledAccessFs">The ruleset's handled rights (LANDLOCK_ACCESS_FS_*); with no rule, all denied.</param>
    /// <exception cref="OsException">The pages could not be mapped or made executable.</exception>
    public static LandlockSignalStub Create(ulong handledAccessFs)
    {
        var pages = Libc.Mmap(0, 2 * PageSize, Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
        if (pages == Libc.MapFailed)
        {
            throw OsException.Last();
        }

        var code = new Span<byte>((void*)pages, PageSize);
        var data = (byte*)pages + PageSize;
        Code.CopyTo(code);
        Patch(code, AttrSlot, (ulong)(data + AttrOffset), expected: 1);
        Patch(code, ResultSlot, (ulong)(data + ResultOffset), expected: 2);
        Patch(code, AnsweredSlot, (ulong)(data + AnsweredOffset), expected: 1);
        *(Libc.LandlockRulesetAttr*)(data + AttrOffset) = new Libc.LandlockRulesetAttr { HandledAccessFs = handledAccessFs };
        if (Libc.Mprotect(pages, PageSize, Libc.ProtRead | Libc.ProtExec) != 0)
        {
            throw OsException.Last();
        }

        return new LandlockSignalStub(pages, data);
    }

    private static void Patch(Span<byte> code, ulong placeholder, ulong value, int expected)
    {
        var found = 0;
        for (var i = 0; i + sizeof(ulong) <= Code.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt64LittleEndian(code[i..]) == placeholder)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(code[i..], value);
                found++;
            }
        }

        if (found != expected)
        {
            throw new InvalidOperationException($"Landlock signal stub: {found} slots for 0x{placeholder:x}, not {expected}");
        }
    }
}
