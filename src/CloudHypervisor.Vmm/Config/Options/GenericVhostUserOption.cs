using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>--generic-vhost-user.</summary>
public static class GenericVhostUserOption
{
    private const string Option = "generic-vhost-user";

    // Virtio device ids by name (virtio spec numbering); watchdog and iommu are refused.
    private static readonly string[] DeviceNames =
    [
        "", "net", "block", "console", "rng", "balloon", "iomem", "rpmsg", "scsi", "9p", "mac80211_wlan", "rproc_serial", "caif",
        "memory_balloon", "", "", "gpu", "clock", "input", "vsock", "crypto", "signal_dist", "pstore", "iommu", "mem", "sound", "fs",
        "pmem", "rpmb", "mac80211_hwsim", "video_encoder", "video_decoder", "scmi", "nitro_sec_mod", "i2c", "watchdog", "can", "dmabuf",
        "param_serv", "audio_policy", "bt", "gpio", "rdma", "camera", "ism", "spi", "tee", "cpu_balloon", "media", "usb",
    ];

    public static GenericVhostUserConfig Parse(string input)
    {
        var p = OptionReader.Parse(Option, input, OptionReader.With(["socket", "queue_sizes", "device_type", "virtio_id"], OptionReader.PciKeys));
        string socket = p.Get("socket") ?? throw ConfigParseException.Problem(Option, "socket missing");
        return OptionReader.Guard(Option, () =>
        {
            var queueSizes = p.ConvertRef<List<ushort>>("queue_sizes", ValueConverters.U16List) ?? throw ConfigParseException.Problem(Option, "queue_sizes missing");
            string typeKey = p.IsSet("device_type") ? "device_type" : "virtio_id";
            uint deviceType = p.Convert<uint>(typeKey, TryDeviceType) ?? throw ConfigParseException.Problem(Option, "device_type missing");
            var pci = PciCommon.Read(p);
            return new GenericVhostUserConfig
            {
                Socket = socket,
                QueueSizes = queueSizes,
                DeviceType = deviceType,
                Iommu = pci.Iommu,
                Id = pci.Id,
                PciSegment = pci.PciSegment,
                PciDeviceId = pci.PciDeviceId,
            };
        });
    }

    private static bool TryDeviceType(string raw, out uint value)
    {
        string text = OptionSyntax.Dequote(raw);
        if (text.Length > 0 && char.IsAsciiDigit(text[0]))
        {
            ulong number = 0;
            bool ok = text[0] != '0' && RustInteger.TryParseUnsigned(text, uint.MaxValue, out number);
            value = (uint)number;
            return ok && !IsRefused(value);
        }

        int index = text.Length == 0 ? -1 : Array.IndexOf(DeviceNames, text);
        value = index > 0 ? (uint)index : 0;
        return index > 0 && !IsRefused(value);
    }

    private static bool IsRefused(uint id) => id < DeviceNames.Length && DeviceNames[id] is "watchdog" or "iommu";
}
