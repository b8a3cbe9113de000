namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>virtio-net feature bits (VIRTIO 1.2 §5.1.3), as masks.</summary>
public static class NetFeatures
{
    public const ulong Csum = 1UL << 0;
    public const ulong GuestCsum = 1UL << 1;
    public const ulong CtrlGuestOffloads = 1UL << 2;
    public const ulong Mtu = 1UL << 3;
    public const ulong Mac = 1UL << 5;
    public const ulong GuestTso4 = 1UL << 7;
    public const ulong GuestTso6 = 1UL << 8;
    public const ulong GuestEcn = 1UL << 9;
    public const ulong GuestUfo = 1UL << 10;
    public const ulong HostTso4 = 1UL << 11;
    public const ulong HostTso6 = 1UL << 12;
    public const ulong HostEcn = 1UL << 13;
    public const ulong HostUfo = 1UL << 14;
    public const ulong Status = 1UL << 16;
    public const ulong CtrlVq = 1UL << 17;
    public const ulong GuestAnnounce = 1UL << 21;
    public const ulong Mq = 1UL << 22;

    /// <summary>What the device offers for the given offload switches, as upstream does.</summary>
    public static ulong Offered(bool mtu, bool csum, bool tso, bool ufo)
    {
        var features = VirtioFeatures.Version1 | VirtioFeatures.RingEventIdx | Mac | Status | CtrlVq | Mq | GuestAnnounce;
        if (mtu)
        {
            features |= Mtu;
        }

        if (csum)
        {
            features |= Csum | GuestCsum | CtrlGuestOffloads;
            if (tso)
            {
                features |= HostTso4 | HostTso6 | HostEcn | GuestTso4 | GuestTso6 | GuestEcn;
            }

            if (ufo)
            {
                features |= HostUfo | GuestUfo;
            }
        }

        return features;
    }

    /// <summary>The TUNSETOFFLOAD flags for the guest's receive offloads: what the TAP may hand over unsegmented or without checksum.</summary>
    public static uint TapOffloads(ulong guestFeatures)
    {
        uint offloads = 0;
        if ((guestFeatures & GuestCsum) != 0)
        {
            offloads |= Sys.Interop.Libc.TunFCsum;
        }

        if ((guestFeatures & GuestTso4) != 0)
        {
            offloads |= Sys.Interop.Libc.TunFTso4;
        }

        if ((guestFeatures & GuestTso6) != 0)
        {
            offloads |= Sys.Interop.Libc.TunFTso6;
        }

        if ((guestFeatures & GuestEcn) != 0)
        {
            offloads |= Sys.Interop.Libc.TunFTsoEcn;
        }

        if ((guestFeatures & GuestUfo) != 0)
        {
            offloads |= Sys.Interop.Libc.TunFUfo;
        }

        return offloads;
    }
}
