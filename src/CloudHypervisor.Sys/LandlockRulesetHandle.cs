using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using Microsoft.Win32.SafeHandles;

namespace CloudHypervisor.Sys;

/// <summary>An owned Landlock ruleset descriptor (landlock_create_ruleset(2)); closing it never undoes a restriction.</summary>
public sealed class LandlockRulesetHandle : SafeHandleMinusOneIsInvalid
{
    private LandlockRulesetHandle(int fd)
        : base(ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <summary>A ruleset that denies every access in <paramref name="handledAccess"/> unless a rule allows it.</summary>
    /// <exception cref="OsException">The kernel refused the ruleset.</exception>
    public static LandlockRulesetHandle Create(LandlockAccessFs handledAccess)
    {
        var attr = new Libc.LandlockRulesetAttr { HandledAccessFs = (ulong)handledAccess };
        var fd = Libc.LandlockCreateRuleset(attr);
        return fd < 0 ? throw OsException.Last() : new LandlockRulesetHandle(fd);
    }

    /// <summary>Allows <paramref name="access"/> on the file or directory tree open at <paramref name="parentFd"/> (an O_PATH descriptor).</summary>
    /// <exception cref="OsException">The kernel refused the rule.</exception>
    public void AddPathBeneath(SafeFd parentFd, LandlockAccessFs access)
    {
        var attr = new Libc.LandlockPathBeneathAttr { AllowedAccess = (ulong)access, ParentFd = parentFd.Fd };
        var result = Libc.LandlockAddPathBeneathRule((int)handle, attr);
        GC.KeepAlive(parentFd);
        if (result != 0)
        {
            throw OsException.Last();
        }
    }

    /// <summary>
    /// Sets no_new_privs on the calling thread, which landlock_restrict_self(2) requires of a thread without
    /// CAP_SYS_ADMIN (upstream's crate always sets it).
    /// </summary>
    /// <exception cref="OsException">prctl(2) failed.</exception>
    public static void SetNoNewPrivileges()
    {
        if (Libc.Prctl(Libc.PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            throw OsException.Last();
        }
    }

    /// <summary>Confines the calling thread, and every thread it creates from now on, to this ruleset.</summary>
    /// <exception cref="OsException">The kernel refused the restriction.</exception>
    public void RestrictSelf()
    {
        if (Libc.LandlockRestrictSelf((int)handle) != 0)
        {
            throw OsException.Last();
        }
    }

    protected override bool ReleaseHandle() => Libc.Close((int)handle) == 0;
}
