using System.Buffers.Binary;
using CloudHypervisor.Arch.Memory;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// Walks one descriptor chain, through an indirect table if there is one, without allocating.
/// Each descriptor handed out has its buffer inside guest RAM. A chain that loops, is longer than
/// the queue, nests or misuses indirect tables, or points outside RAM breaks its queue and ends.
/// </summary>
public struct DescriptorChain
{
    private readonly VirtQueue queue;
    private readonly GuestMemory memory;
    private ulong table;
    private uint tableEntries;
    private ushort next;
    private bool hasNext;
    private bool inIndirectTable;
    private int budget;
    private ulong totalLength;

    internal DescriptorChain(VirtQueue queue, GuestMemory memory, ushort head)
    {
        this.queue = queue;
        this.memory = memory;
        HeadIndex = head;
        table = queue.DescriptorTable;
        tableEntries = queue.Size;
        next = head;
        hasNext = true;
        budget = queue.Size;
    }

    /// <summary>The head descriptor's index: what <see cref="VirtQueue.AddUsed"/> returns to the driver.</summary>
    public ushort HeadIndex { get; }

    public readonly GuestMemory Memory => memory;

    /// <summary>The next descriptor, or false at the end of the chain or when the chain broke the queue.</summary>
    public bool TryNext(out VirtqDescriptor descriptor)
    {
        descriptor = default;
        while (hasNext && !queue.IsBroken)
        {
            if (budget-- <= 0)
            {
                return Fail($"descriptor chain from head {HeadIndex} loops or is longer than the queue size {queue.Size}");
            }

            if (next >= tableEntries)
            {
                return Fail($"descriptor index {next} is out of range for a table of {tableEntries}");
            }

            var raw = memory.GetSpan(table + (ulong)next * VirtqDescriptor.Size, VirtqDescriptor.Size);
            var d = new VirtqDescriptor(
                BinaryPrimitives.ReadUInt64LittleEndian(raw),
                BinaryPrimitives.ReadUInt32LittleEndian(raw[8..]),
                BinaryPrimitives.ReadUInt16LittleEndian(raw[12..]),
                BinaryPrimitives.ReadUInt16LittleEndian(raw[14..]));
            if (d.IsIndirect)
            {
                if (!EnterIndirectTable(d))
                {
                    return false;
                }

                continue;
            }

            if (d.Length > int.MaxValue || (d.Length > 0 && !memory.IsValidRange(d.Address, d.Length)))
            {
                return Fail($"descriptor {next} buffer 0x{d.Address:x}+0x{d.Length:x} is not in guest RAM");
            }

            totalLength += d.Length;
            if (totalLength > uint.MaxValue)
            {
                return Fail($"descriptor chain from head {HeadIndex} is larger than 4 GiB");
            }

            hasNext = d.HasNext;
            next = d.Next;
            descriptor = d;
            return true;
        }

        return false;
    }

    /// <summary>The guest bytes of <paramref name="descriptor"/> (already checked to be inside guest RAM).</summary>
    public readonly Span<byte> Buffer(in VirtqDescriptor descriptor) =>
        memory.GetSpan(descriptor.Address, (int)descriptor.Length);

    private bool EnterIndirectTable(in VirtqDescriptor d)
    {
        if (inIndirectTable)
        {
            return Fail("an indirect table refers to another indirect table");
        }

        if (!queue.IndirectDescriptors)
        {
            return Fail("indirect descriptor used without VIRTIO_F_RING_INDIRECT_DESC");
        }

        if (d.HasNext)
        {
            return Fail("indirect descriptor also has VIRTQ_DESC_F_NEXT");
        }

        var entries = d.Length / VirtqDescriptor.Size;
        if (d.Length == 0 || d.Length % VirtqDescriptor.Size != 0 || entries > queue.Size)
        {
            return Fail($"indirect table of {d.Length} bytes is empty, ragged or longer than the queue size {queue.Size}");
        }

        if (!memory.IsValidRange(d.Address, d.Length))
        {
            return Fail($"indirect table 0x{d.Address:x}+0x{d.Length:x} is not in guest RAM");
        }

        // The indirect descriptor itself does not count towards the chain's length.
        budget++;
        inIndirectTable = true;
        table = d.Address;
        tableEntries = entries;
        next = 0;
        return true;
    }

    /// <summary>A device found the request malformed: the queue is marked broken, as for a bad ring.</summary>
    public void Reject(string reason) => Fail(reason);

    private bool Fail(string reason)
    {
        hasNext = false;
        queue.MarkBroken(reason);
        return false;
    }
}
