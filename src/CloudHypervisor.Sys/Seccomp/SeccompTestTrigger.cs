namespace CloudHypervisor.Sys.Seccomp;

/// <summary>
/// Test builds only (published with <c>-p:SeccompTestTrigger=true</c> by scripts/publish-test.sh): when
/// CH_SECCOMP_TEST_VIOLATE names a thread kind ("vcpu", "http-api"), a thread of that kind makes a syscall
/// no filter allows (getppid) right after installing its filter, so tests can watch the process die of it.
/// The shipped binary compiles this to nothing.
/// </summary>
internal static partial class SeccompTestTrigger
{
    public static void OnEntered(SeccompThreadKind kind)
    {
#if SECCOMP_TEST_TRIGGER
        if (Environment.GetEnvironmentVariable("CH_SECCOMP_TEST_VIOLATE") == kind.Text())
        {
            _ = Getppid();
        }
#endif
    }

#if SECCOMP_TEST_TRIGGER
    [System.Runtime.InteropServices.LibraryImport(Interop.Libc.Name, EntryPoint = "getppid")]
    private static partial int Getppid();
#endif
}
