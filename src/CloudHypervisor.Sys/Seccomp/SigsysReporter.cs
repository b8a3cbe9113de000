using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// The SIGSYS handler behind SECCOMP_RET_TRAP. It runs inside the forbidden syscall's signal frame, so it only
/// does async-signal-safe work: look the thread up in a native table (thread id → "name (kind)", filled when each
/// thread installed its filter), format one line with the syscall number from siginfo into a stack buffer,
/// write(2) it and upstream's notice to stderr, then re-raise SIGSYS, which SA_RESETHAND has turned back to its
/// default action: the process dies by SIGSYS, as upstream's.
/// </summary>
public static unsafe class SigsysReporter
{
    private const int Capacity = 1024, LabelBytes = 56, LineBytes = 512;

    private static readonly object Gate = new();
    private static Entry* table;
    private static int count;

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public int Tid;
        public int Length;
        public fixed byte Label[LabelBytes];
    }

    public static void Install()
    {
        lock (Gate)
        {
            if (table is not null)
            {
                return;
            }

            // Anonymous pages read as zero (no thread id) and are only faulted in as entries are written; zeroing a
            // heap block would fault in all of them on the start-up path.
            var pages = Libc.Mmap(0, (nuint)(Capacity * sizeof(Entry)), Libc.ProtRead | Libc.ProtWrite, Libc.MapPrivate | Libc.MapAnonymous, -1, 0);
            if (pages == -1)
            {
                throw new SeccompException("Failed to map the SIGSYS reporter's thread table", OsException.Last());
            }

            table = (Entry*)pages;
            var action = default(Libc.SigAction);
            action.Handler = (nint)(delegate* unmanaged<int, byte*, void*, void>)&OnSigsys;
            action.Flags = Libc.SaSigInfo | Libc.SaResetHand | Libc.SaOnStack;
            if (Libc.Sigaction(Libc.SigSys, &action, null) != 0)
            {
                throw new SeccompException("Failed to install the SIGSYS handler", OsException.Last());
            }
        }
    }

    /// <summary>Remembers how the calling thread is named in a violation report.</summary>
    public static void Register(string threadName, SeccompThreadKind kind)
    {
        if (table is null)
        {
            return;
        }

        var slot = Interlocked.Increment(ref count) - 1;
        if (slot >= Capacity)
        {
            // Threads beyond the table are reported with their kind unknown; never the case for a VM's thread count.
            return;
        }

        var entry = &table[slot];
        var label = new Span<byte>(entry->Label, LabelBytes);
        var text = Encoding.UTF8.GetBytes($"{threadName} ({kind.Text()})");
        entry->Length = Math.Min(text.Length, LabelBytes);
        text.AsSpan(0, entry->Length).CopyTo(label);
        Volatile.Write(ref entry->Tid, Libc.GetTid());
    }

    [UnmanagedCallersOnly]
    private static void OnSigsys(int signal, byte* info, void* context)
    {
        // siginfo_t for SIGSYS: si_signo, si_errno, si_code, then _sigsys { void* call_addr; int syscall; unsigned arch; }.
        var syscall = *(int*)(info + 24);
        var tid = Libc.GetTid();
        var line = stackalloc byte[LineBytes];
        var length = 0;
        Append(line, ref length, "cloud-hypervisor: seccomp: thread "u8);
        var labelled = false;
        var entries = Math.Min(Volatile.Read(ref count), Capacity);
        for (var i = entries - 1; i >= 0; i--)
        {
            if (Volatile.Read(ref table[i].Tid) == tid)
            {
                Append(line, ref length, new ReadOnlySpan<byte>(table[i].Label, table[i].Length));
                labelled = true;
                break;
            }
        }

        if (!labelled)
        {
            Append(line, ref length, "(unknown kind) "u8);
            AppendNumber(line, ref length, tid);
        }

        Append(line, ref length, " made forbidden syscall "u8);
        AppendNumber(line, ref length, syscall);
        Append(line, ref length, "\n\n==== Possible seccomp violation ====\nTry running with `strace -ff` to identify the cause and open an issue: https://github.com/cloud-hypervisor/cloud-hypervisor/issues/new\n"u8);
        _ = Libc.WriteRaw(2, line, (nuint)length);
        _ = Libc.Tgkill(Libc.GetPid(), tid, Libc.SigSys);
    }

    private static void Append(byte* buffer, ref int length, ReadOnlySpan<byte> text)
    {
        var room = Math.Min(text.Length, LineBytes - length);
        text[..room].CopyTo(new Span<byte>(buffer + length, room));
        length += room;
    }

    [SkipLocalsInit]
    private static void AppendNumber(byte* buffer, ref int length, int value)
    {
        var digits = stackalloc byte[12];
        var n = 0;
        var v = (uint)Math.Abs((long)value);
        do
        {
            digits[n++] = (byte)('0' + v % 10);
            v /= 10;
        }
        while (v != 0);

        if (value < 0 && length < LineBytes)
        {
            buffer[length++] = (byte)'-';
        }

        while (n > 0 && length < LineBytes)
        {
            buffer[length++] = digits[--n];
        }
    }
}
