using CloudHypervisor.Sys.Interop;
using static CloudHypervisor.Sys.Interop.LandlockAccessFs;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// The access rights the sandbox handles and what <c>r</c> and <c>w</c> grant. Upstream pins its
/// Landlock crate to ABI 3, so the handled set is every right up to <see cref="Truncate"/>, and a kernel
/// offering fewer drops the rights it does not know (best effort). <see cref="IoctlDev"/> (ABI 5) is
/// not handled, as upstream: device ioctls are never denied, and network rules (ABI 4) are not used.
/// </summary>
public static class LandlockAccess
{
    /// <summary>What <c>r</c> grants (the crate's <c>AccessFs::from_read(ABI::V3)</c>).</summary>
    public const LandlockAccessFs Read = Execute | ReadFile | ReadDir;

    /// <summary>What <c>w</c> grants (the crate's <c>AccessFs::from_write(ABI::V3)</c>).</summary>
    public const LandlockAccessFs Write = WriteFile | RemoveDir | RemoveFile | MakeChar | MakeDir | MakeReg | MakeSock
        | MakeFifo | MakeBlock | MakeSym | Refer | Truncate;

    /// <summary>Every right the ruleset denies unless a rule allows it, before ABI masking.</summary>
    public const LandlockAccessFs Handled = Read | Write;

    /// <summary>The rights that apply to a file (the others only make sense on a directory; the kernel refuses them on a file).</summary>
    public const LandlockAccessFs FileCompatible = Execute | WriteFile | ReadFile | Truncate | IoctlDev;

    private const LandlockAccessFs Abi1 = Execute | WriteFile | ReadFile | ReadDir | RemoveDir | RemoveFile | MakeChar
        | MakeDir | MakeReg | MakeSock | MakeFifo | MakeBlock | MakeSym;

    /// <summary>The filesystem rights a kernel offering Landlock ABI <paramref name="abi"/> knows (0: no Landlock).</summary>
    public static LandlockAccessFs SupportedBy(int abi) => abi switch
    {
        <= 0 => None,
        1 => Abi1,
        2 => Abi1 | Refer,
        3 or 4 => Abi1 | Refer | Truncate,
        _ => Abi1 | Refer | Truncate | IoctlDev,
    };

    /// <summary>The rights the sandbox handles on a kernel offering ABI <paramref name="abi"/>.</summary>
    public static LandlockAccessFs HandledBy(int abi) => Handled & SupportedBy(abi);

    /// <summary>Parses a rule's access, any combination of <c>r</c> and <c>w</c>.</summary>
    /// <exception cref="LandlockException">Empty, or a letter other than r and w (upstream's texts).</exception>
    public static LandlockAccessFs Parse(string access)
    {
        if (access.Length == 0)
        {
            throw LandlockException.InvalidAccess("Access cannot be empty");
        }

        var rights = None;
        foreach (var letter in access)
        {
            rights |= letter switch
            {
                'r' => Read,
                'w' => Write,
                _ => throw LandlockException.InvalidAccess($"Invalid access: {letter}"),
            };
        }

        return rights;
    }
}
