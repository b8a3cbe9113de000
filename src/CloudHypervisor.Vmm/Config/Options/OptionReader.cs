using CloudHypervisor.Vmm.Config.OptionParsing;

namespace CloudHypervisor.Vmm.Config.Options;

/// <summary>Runs an option parser for one command-line option, wrapping its errors as "Error parsing --&lt;option&gt;".</summary>
internal static class OptionReader
{
    public static readonly string[] PciKeys = ["id", "iommu", "pci_segment", "pci_device_id"];

    public static OptionParser Parse(string option, string input, string[] keys, string[]? valueless = null)
    {
        var parser = new OptionParser(keys, valueless ?? []);
        return Guard(option, () => parser.Parse(input));
    }

    /// <summary>Runs a conversion step, wrapping option parser errors for <paramref name="option"/>.</summary>
    public static T Guard<T>(string option, Func<T> step)
    {
        try
        {
            return step();
        }
        catch (OptionParserException e)
        {
            throw ConfigParseException.Option(option, e);
        }
    }

    public static string[] With(params string[][] groups)
    {
        var all = new List<string>();
        foreach (var group in groups)
        {
            all.AddRange(group);
        }

        return [.. all];
    }
}

/// <summary>The PCI keys every PCI device option accepts.</summary>
internal readonly record struct PciCommon(string? Id, bool Iommu, ushort PciSegment, byte? PciDeviceId)
{
    public static PciCommon Read(OptionParser parser) => new(
        parser.Get("id"),
        parser.Toggle("iommu", false),
        parser.U16("pci_segment") ?? 0,
        parser.U8("pci_device_id"));
}
