using CloudHypervisor.Sys;

namespace CloudHypervisor.Vmm.Control;

/// <summary>Descriptors of devices added to a not yet booted VM, kept open until the VM is deleted.</summary>
internal sealed class ColdPlugged : IDisposable
{
    private readonly List<DeviceAddition> kept = [];

    public void Keep(DeviceAddition addition) => kept.Add(addition);

    public void Release()
    {
        foreach (var addition in kept)
        {
            addition.ReleaseFds();
        }

        kept.Clear();
    }

    public void Dispose() => Release();
}
