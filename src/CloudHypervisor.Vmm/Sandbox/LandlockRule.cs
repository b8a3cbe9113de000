using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>Allows <paramref name="Access"/> on <paramref name="Path"/> and, for a directory, everything beneath it.</summary>
public readonly record struct LandlockRule(string Path, LandlockAccessFs Access)
{
    public static LandlockRule ReadOnly(string path) => new(path, LandlockAccess.Read);

    public static LandlockRule ReadWrite(string path) => new(path, LandlockAccess.Read | LandlockAccess.Write);

    public static LandlockRule WriteOnly(string path) => new(path, LandlockAccess.Write);
}
