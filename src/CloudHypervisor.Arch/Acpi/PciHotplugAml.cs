namespace CloudHypervisor.Arch.Acpi;

/// <summary>
/// ACPI PCI hotplug as upstream describes it: the <c>\_SB_.PHPR</c> controller (registers PCIU, PCID,
/// B0EJ, PSEG; methods PCEJ and PSCN) and, in each segment's host bridge, 32 ejectable slot devices
/// with DVNT (notify the slots of a bitmap) and PCNT (read the segment's pending slots and notify them).
/// </summary>
public static class PciHotplugAml
{
    public const ulong RegisterSize = 0x10;
    private const string Controller = @"\_SB_.PHPR";

    /// <summary>Notify value for a device check (slot filled).</summary>
    private const ulong DeviceCheck = 1;

    /// <summary>Notify value for an eject request (slot to be emptied).</summary>
    private const ulong EjectRequest = 3;

    public static void AddController(Aml aml, AcpiPlatform platform)
    {
        var address = platform.PciHotplugAddress;
        aml.Device(Controller, d =>
        {
            d.Name("_HID", v => v.EisaId("PNP0A06"));
            d.Name("_STA", v => v.Integer(0x0B));
            d.Name("_UID", v => v.String("PCI Hotplug Controller"));
            d.Mutex("BLCK");
            d.Name("_CRS", v => v.Buffer(new ResourceTemplate().QWordMemory(address, address + RegisterSize - 1, cacheable: false).ToArray()));
            d.OperationRegion("PCST", 0, address, RegisterSize);
            d.Field("PCST", 0x43, ("PCIU", 32), ("PCID", 32), ("B0EJ", 32), ("PSEG", 32)); // DWordAcc, NoLock, WriteAsZeros
            d.Method("PCEJ", 2, serialized: true, m =>
            {
                m.Acquire("BLCK");
                m.Store(v => v.Arg(1), v => v.Call("PSEG"));
                m.ShiftLeft(v => v.Integer(1), v => v.Arg(0), v => v.Call("B0EJ"));
                m.Release("BLCK");
                m.Return(v => v.Integer(0));
            });
            d.Method("PSCN", 0, serialized: true, m =>
            {
                foreach (var segment in platform.PciSegments)
                {
                    m.Call($@"\_SB_.PC{segment.Id:X2}.PCNT");
                }
            });
        });
    }

    /// <summary>The slot devices and the DVNT/PCNT methods of one host bridge (called inside its Device).</summary>
    public static void AddSlots(Aml bridge)
    {
        for (var slot = 0; slot < 32; slot++)
        {
            var number = slot;
            bridge.Device($"S{number:D3}", d =>
            {
                d.Name("_SUN", v => v.Integer((ulong)number));
                d.Name("_ADR", v => v.Integer((ulong)number << 16));
                d.Method("_EJ0", 1, serialized: true, m => m.Call($"{Controller}.PCEJ", v => v.Call("_SUN"), v => v.Call("_SEG")));
            });
        }

        bridge.Method("DVNT", 2, serialized: true, m =>
        {
            for (var slot = 0; slot < 32; slot++)
            {
                var bit = 1UL << slot;
                var name = $"S{slot:D3}";
                m.And(v => v.Arg(0), v => v.Integer(bit), v => v.Local(0));
                m.If(p => p.LEqual(v => v.Local(0), v => v.Integer(bit)), body => body.Notify(name, v => v.Arg(1)));
            }
        });
        bridge.Method("PCNT", 0, serialized: true, m =>
        {
            m.Acquire($"{Controller}.BLCK");
            m.Store(v => v.Call("_SEG"), v => v.Call($"{Controller}.PSEG"));
            m.Call("DVNT", v => v.Call($"{Controller}.PCIU"), v => v.Integer(DeviceCheck));
            m.Call("DVNT", v => v.Call($"{Controller}.PCID"), v => v.Integer(EjectRequest));
            m.Release($"{Controller}.BLCK");
        });
    }
}
