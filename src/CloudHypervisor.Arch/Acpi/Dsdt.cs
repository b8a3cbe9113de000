using CloudHypervisor.Arch.X86;

namespace CloudHypervisor.Arch.Acpi;

/// <summary>The DSDT's AML: PCI hotplug controller, PCI host bridges with their hotplug slots, motherboard resources, COM1, S5, power button and GED.</summary>
public static class Dsdt
{
    public static byte[] Build(AcpiPlatform platform)
    {
        var aml = new Aml();
        PciHotplugAml.AddController(aml, platform);
        foreach (var segment in platform.PciSegments)
        {
            AddPciSegment(aml, segment);
        }

        aml.Device(@"\_SB_.MBRD", d =>
        {
            d.Name("_HID", v => v.EisaId("PNP0C02"));
            d.Name("_UID", v => v.Integer(0));
            var crs = new ResourceTemplate();
            foreach (var segment in platform.PciSegments)
            {
                crs.Memory32Fixed(MmconfigBase(segment.Id), (uint)Layout.PciMmconfigSegmentSize);
            }

            d.Name("_CRS", v => v.Buffer(crs.ToArray()));
        });

        if (platform.SerialPresent)
        {
            aml.Device(@"\_SB_.COM1", d =>
            {
                d.Name("_HID", v => v.EisaId("PNP0501"));
                d.Name("_UID", v => v.Integer(0));
                d.Name("_DDN", v => v.String("COM1"));
                d.Name("_CRS", v => v.Buffer(new ResourceTemplate().Interrupt(4).Io(0x3F8, 0x3F8, 0, 8).ToArray()));
            });
        }

        aml.Name("_S5_", v => v.Package(p => p.Integer(5), p => p.Integer(5), p => p.Integer(0), p => p.Integer(0)));
        aml.Device(@"\_SB_.PWRB", d =>
        {
            d.Name("_HID", v => v.EisaId("PNP0C0C"));
            d.Name("_UID", v => v.Integer(0));
        });

        AddGenericEventDevices(aml, platform);

        return aml.ToArray();
    }

    /// <summary>
    /// The GED and its register: the interrupt runs <c>_EVT</c>, which reads GDAT (reading clears it in
    /// the device) and notifies what changed: PCI slots (bit 2) and the power button (bit 3). CPU and memory
    /// hotplug (bits 0 and 1) have no controller in this DSDT yet.
    /// </summary>
    private static void AddGenericEventDevices(Aml aml, AcpiPlatform platform)
    {
        const ulong pciDevicesChanged = 0x04;
        const ulong powerButtonChanged = 0x08;
        aml.Device(@"\_SB_.GEC_", d =>
        {
            d.Name("_HID", v => v.EisaId("PNP0A06"));
            d.Name("_UID", v => v.String("Generic Event Controller"));
            d.Name("_CRS", v => v.Buffer(new ResourceTemplate().QWordMemory(platform.GedAddress, platform.GedAddress, cacheable: false).ToArray()));
            d.OperationRegion("GDST", 0, platform.GedAddress, 1);
            d.Field("GDST", 0x41, ("GDAT", 8));
            d.Method("ESCN", 0, serialized: true, m =>
            {
                m.Store(v => v.Call("GDAT"), v => v.Local(0));
                m.And(v => v.Local(0), v => v.Integer(pciDevicesChanged), v => v.Local(1));
                m.If(p => p.LEqual(v => v.Local(1), v => v.Integer(pciDevicesChanged)), body => body.Call(@"\_SB_.PHPR.PSCN"));
                m.And(v => v.Local(0), v => v.Integer(powerButtonChanged), v => v.Local(1));
                m.If(p => p.LEqual(v => v.Local(1), v => v.Integer(powerButtonChanged)), body => body.Notify(@"\_SB_.PWRB", 0x80));
            });
        });

        aml.Device(@"\_SB_.GED_", d =>
        {
            d.Name("_HID", v => v.String("ACPI0013"));
            d.Name("_UID", v => v.Integer(0));
            d.Name("_CRS", v => v.Buffer(new ResourceTemplate().Interrupt(platform.GedIrq).ToArray()));
            d.Method("_EVT", 1, serialized: true, m => m.Call(@"\_SB_.GEC_.ESCN"));
        });
    }

    private static uint MmconfigBase(int segment) =>
        (uint)(Layout.PciMmconfigStart + ((ulong)segment * Layout.PciMmconfigSegmentSize));

    private static void AddPciSegment(Aml aml, AcpiPciSegment segment)
    {
        aml.Device($@"\_SB_.PC{segment.Id:X2}", d =>
        {
            d.Name("_HID", v => v.EisaId("PNP0A08"));
            d.Name("_CID", v => v.EisaId("PNP0A03"));
            d.Name("_ADR", v => v.Integer(0));
            d.Name("_SEG", v => v.Integer(segment.Id));
            d.Name("_UID", v => v.Integer(segment.Id));
            d.Name("_CCA", v => v.Integer(1));
            d.Name("SUPP", v => v.Integer(0));
            d.Name("_PXM", v => v.Integer(segment.ProximityDomain));
            var crs = new ResourceTemplate().WordBusNumber(0, 0);
            if (segment.Id == 0)
            {
                crs.Io(0xCF8, 0xCF8, 1, 8);
            }

            crs.Memory32Fixed(MmconfigBase(segment.Id), (uint)Layout.PciMmconfigSegmentSize);
            crs.DWordMemory((uint)segment.Mmio32Start, (uint)segment.Mmio32End);
            crs.QWordMemory(segment.Mmio64Start, segment.Mmio64End);
            if (segment.Id == 0)
            {
                crs.WordIo(0x0000, 0x0CF7).WordIo(0x0D00, 0xFFFF);
            }

            d.Name("_CRS", v => v.Buffer(crs.ToArray()));
            PciHotplugAml.AddSlots(d);
        });
    }
}
