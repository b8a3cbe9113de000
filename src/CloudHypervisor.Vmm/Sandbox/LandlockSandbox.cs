using CloudHypervisor.Sys;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// Enforces a Landlock ruleset on the calling thread. Landlock confines a thread and the threads it
/// creates afterwards, never its siblings, so each long-lived thread that should be confined calls this
/// itself (see README, "Landlock"). Like upstream's best-effort use of its crate, a kernel without
/// Landlock enforces nothing and the caller carries on; rights the kernel's ABI lacks are dropped.
/// </summary>
public static class LandlockSandbox
{
    private static readonly Lazy<int> Abi = new(ProbeAbi);

    /// <summary>The Landlock ABI this kernel offers; 0 when it has none (not built in, or disabled at boot).</summary>
    public static int AbiVersion => Abi.Value;

    /// <summary>
    /// Confines the calling thread to <paramref name="rules"/> (none: no file can be opened any more).
    /// Paths that cannot be opened are skipped, as upstream's crate does; on a file, directory-only rights
    /// are dropped.
    /// </summary>
    /// <returns>false when the kernel has no Landlock, so nothing was enforced.</returns>
    /// <exception cref="LandlockException">The kernel refused the ruleset, a rule or the restriction.</exception>
    public static bool RestrictCurrentThread(IReadOnlyList<LandlockRule> rules) => Restrict(rules, AbiVersion);

    internal static bool Restrict(IReadOnlyList<LandlockRule> rules, int abi)
    {
        var handled = LandlockAccess.HandledBy(abi);
        if (handled == LandlockAccessFs.None)
        {
            return false;
        }

        LandlockRulesetHandle ruleset;
        try
        {
            ruleset = LandlockRulesetHandle.Create(handled);
        }
        catch (OsException e)
        {
            throw LandlockException.Ruleset("failed to create a ruleset", e);
        }

        using (ruleset)
        {
            foreach (var rule in rules)
            {
                AddRule(ruleset, rule, handled);
            }

            try
            {
                LandlockRulesetHandle.SetNoNewPrivileges();
            }
            catch (OsException e)
            {
                throw LandlockException.Ruleset("failed to set no_new_privs", e);
            }

            try
            {
                ruleset.RestrictSelf();
            }
            catch (OsException e)
            {
                throw LandlockException.Ruleset("failed to restrict the calling thread", e);
            }
        }

        return true;
    }

    private static unsafe void AddRule(LandlockRulesetHandle ruleset, LandlockRule rule, LandlockAccessFs handled)
    {
        var fd = Libc.Open(rule.Path, Libc.OPath | Libc.OCloExec, 0);
        if (fd < 0)
        {
            Log.Debug($"Landlock: no rule for {rule.Path}: {OsException.Last().Message}");
            return;
        }

        using var parent = new SafeFd(fd);
        Libc.Stat stat;
        var access = rule.Access & handled;
        if (Libc.FStat(parent.Fd, &stat) != 0 || (stat.Mode & Libc.SIfMt) != Libc.SIfDir)
        {
            access &= LandlockAccess.FileCompatible;
        }

        if (access == LandlockAccessFs.None)
        {
            return;
        }

        try
        {
            ruleset.AddPathBeneath(parent, access);
        }
        catch (OsException e)
        {
            throw LandlockException.Ruleset("failed to add a rule", e);
        }
    }

    private static int ProbeAbi()
    {
        var abi = Libc.LandlockAbiVersion();
        return abi > 0 ? abi : 0;
    }
}
