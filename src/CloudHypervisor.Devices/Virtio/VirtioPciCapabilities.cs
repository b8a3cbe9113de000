using System.Buffers.Binary;
using CloudHypervisor.Devices.Pci;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// The vendor-specific capabilities a virtio-pci function lists (VIRTIO 1.2 §4.1.4), in upstream's
/// order: common, ISR, device (when it has a configuration), notify, PCI configuration access, then MSI-X.
/// </summary>
internal static class VirtioPciCapabilities
{
    public const byte Common = 1;
    public const byte Notify = 2;
    public const byte Isr = 3;
    public const byte Device = 4;
    public const byte PciConfigAccess = 5;

    /// <summary>struct virtio_pci_cap after the id and next bytes: cap_len, cfg_type, bar, id, padding[2], offset, length.</summary>
    public const int CapBodyLength = 14;

    /// <summary>virtio_pci_cfg_cap's body: the cap plus the 4-byte pci_cfg_data window.</summary>
    public const int PciConfigAccessBodyLength = CapBodyLength + 4;

    /// <summary>Adds every capability; returns the config-space offset of the PCI configuration access capability's body.</summary>
    public static int Add(PciConfigSpace config, ulong deviceConfigSize, MsixCapability msix, MsixTable table)
    {
        Span<byte> body = stackalloc byte[PciConfigAccessBodyLength];
        config.AddCapability(PciCapabilityId.VendorSpecific, Cap(body[..CapBodyLength], Common, VirtioPciLayout.CommonConfigOffset, VirtioPciLayout.CommonConfigSize));
        config.AddCapability(PciCapabilityId.VendorSpecific, Cap(body[..CapBodyLength], Isr, VirtioPciLayout.IsrOffset, VirtioPciLayout.IsrSize));
        if (deviceConfigSize > 0)
        {
            config.AddCapability(PciCapabilityId.VendorSpecific, Cap(body[..CapBodyLength], Device, VirtioPciLayout.DeviceConfigOffset, deviceConfigSize));
        }

        var notify = Cap(body, Notify, VirtioPciLayout.NotifyOffset, VirtioPciLayout.NotifySize);
        BinaryPrimitives.WriteUInt32LittleEndian(notify[CapBodyLength..], VirtioPciLayout.NotifyOffMultiplier);
        config.AddCapability(PciCapabilityId.VendorSpecific, notify);

        var access = Cap(body, PciConfigAccess, 0, 0);
        access[1] = PciConfigAccess;
        access[2] = 0;
        var accessOffset = config.AddCapability(PciCapabilityId.VendorSpecific, access) + 2;

        config.AddMsixCapability(msix, table);
        return accessOffset;
    }

    /// <summary>Fills <paramref name="body"/> (its whole length is the cap_len, plus the two header bytes) and returns it.</summary>
    public static Span<byte> Cap(Span<byte> body, byte type, ulong offset, ulong length)
    {
        body.Clear();
        body[0] = (byte)(body.Length + 2);
        body[1] = type;
        body[2] = VirtioPciLayout.BarIndex;
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], (uint)offset);
        BinaryPrimitives.WriteUInt32LittleEndian(body[10..], (uint)length);
        return body;
    }
}
