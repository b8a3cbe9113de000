using CloudHypervisor.Contracts;
using CloudHypervisor.Vmm.Config.Options;

namespace CloudHypervisor.Vmm.Config;

/// <summary>Parses every VM option (in upstream's order, so the first error reported matches) and validates the result.</summary>
public static class VmConfigBuilder
{
    public static VmConfig Build(VmParams vm)
    {
        var config = Parse(vm);
        VmConfigValidator.Validate(config);
        return config;
    }

    public static VmConfig Parse(VmParams vm)
    {
        var config = new VmConfig
        {
            RateLimitGroups = Each(vm.RateLimitGroups, PlatformOptions.ParseRateLimitGroup),
            Disks = Each(vm.Disks, DiskOption.Parse),
            Net = Each(vm.Net, NetOption.Parse),
            Rng = DeviceOptions.ParseRng(vm.Rng),
            Rtc = vm.Rtc is null ? null : DeviceOptions.ParseRtc(vm.Rtc),
            Balloon = vm.Balloon is null ? null : DeviceOptions.ParseBalloon(vm.Balloon),
            Fs = Each(vm.Fs, DeviceOptions.ParseFs),
            GenericVhostUser = Each(vm.GenericVhostUser, GenericVhostUserOption.Parse),
            Pmem = Each(vm.Pmem, DeviceOptions.ParsePmem),
            Console = ConsoleOptions.ParseConsole(vm.Console),
            Serial = ConsoleOptions.ParseSerial(vm.Serial),
            DebugConsole = ConsoleOptions.ParseDebugConsole(vm.DebugConsole),
            Devices = Each(vm.Devices, DeviceOptions.ParseDevice),
            UserDevices = Each(vm.UserDevices, DeviceOptions.ParseUserDevice),
            Vdpa = Each(vm.Vdpa, DeviceOptions.ParseVdpa),
            Vsock = vm.Vsock is null ? null : DeviceOptions.ParseVsock(vm.Vsock),
            PciSegments = Each(vm.PciSegments, PlatformOptions.ParsePciSegment),
            Platform = vm.Platform is null ? null : PlatformOptions.ParsePlatform(vm.Platform),
            Numa = Each(vm.Numa, PlatformOptions.ParseNuma),
        };

        if (vm.Kernel is not null || vm.Firmware is not null)
        {
            config.Payload = new PayloadConfig { Kernel = vm.Kernel, Initramfs = vm.Initramfs, Cmdline = vm.Cmdline, Firmware = vm.Firmware };
        }

        config.Tpm = vm.Tpm is null ? null : DeviceOptions.ParseTpm(vm.Tpm);
        config.LandlockRules = Each(vm.LandlockRules, PlatformOptions.ParseLandlockRule);
        config.Cpus = CpusOption.Parse(vm.Cpus);
        config.Memory = MemoryOption.Parse(vm.Memory, vm.MemoryZones);
        config.Pvpanic = vm.Pvpanic;
        config.Watchdog = vm.Watchdog;
        config.LandlockEnable = vm.LandlockEnable;
        return config;
    }

    private static List<T>? Each<T>(IReadOnlyList<string>? inputs, Func<string, T> parse)
    {
        if (inputs is null)
        {
            return null;
        }

        var items = new List<T>(inputs.Count);
        foreach (string input in inputs)
        {
            items.Add(parse(input));
        }

        return items;
    }
}
