using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>
/// A split virtqueue (VIRTIO 1.2 §2.7): the driver programs its size and ring addresses through the
/// transport; once activated, one device thread pops descriptor chains and returns used buffers.
/// Every guest address is checked against guest RAM. A guest that breaks the ring's rules (bad
/// indices, loops, out-of-range or oversized buffers) gets the queue marked broken: one error is
/// logged and the queue does nothing more until the driver resets the device.
/// </summary>
public sealed class VirtQueue
{
    public const ushort AvailFlagNoInterrupt = 1;
    public const ushort UsedFlagNoNotify = 1;

    private GuestMemory? memory;
    private string owner = "virtio";
    private ushort nextAvail;
    private ushort nextUsed;
    private ushort signalledUsed;
    private bool signalledUsedValid;
    private int broken;

    public VirtQueue(ushort maxSize)
    {
        if (maxSize == 0 || (maxSize & (maxSize - 1)) != 0)
        {
            throw new VirtioException($"Virtqueue size {maxSize} is not a power of two");
        }

        MaxSize = maxSize;
        Size = maxSize;
    }

    public ushort MaxSize { get; }

    /// <summary>The size the driver chose (queue_size); valid when a power of two no larger than <see cref="MaxSize"/>.</summary>
    public ushort Size { get; set; }

    /// <summary>queue_enable.</summary>
    public bool Ready { get; set; }

    public ulong DescriptorTable { get; set; }

    /// <summary>The driver area: flags, idx, ring[Size], used_event.</summary>
    public ulong AvailRing { get; set; }

    /// <summary>The device area: flags, idx, ring[Size] of (id, len), avail_event.</summary>
    public ulong UsedRing { get; set; }

    public bool EventIdx { get; private set; }

    public bool IndirectDescriptors { get; private set; }

    public bool IsBroken => Volatile.Read(ref broken) != 0;

    /// <summary>Raised once, on the device thread, when the queue is marked broken.</summary>
    public event Action<VirtQueue>? Broken;

    /// <summary>Why the queue's programming is unusable, or null when it is valid for <paramref name="guestMemory"/>.</summary>
    public string? Validate(GuestMemory guestMemory)
    {
        if (Size == 0 || Size > MaxSize || (Size & (Size - 1)) != 0)
        {
            return $"queue size {Size} is not a power of two up to {MaxSize}";
        }

        if (DescriptorTable % 16 != 0 || AvailRing % 2 != 0 || UsedRing % 4 != 0)
        {
            return $"ring addresses 0x{DescriptorTable:x}/0x{AvailRing:x}/0x{UsedRing:x} are misaligned";
        }

        if (!guestMemory.IsValidRange(DescriptorTable, (ulong)Size * VirtqDescriptor.Size)
            || !guestMemory.IsValidRange(AvailRing, 6 + 2UL * Size)
            || !guestMemory.IsValidRange(UsedRing, 6 + 8UL * Size))
        {
            return $"rings at 0x{DescriptorTable:x}/0x{AvailRing:x}/0x{UsedRing:x} are not in guest RAM";
        }

        return null;
    }

    /// <summary>
    /// Starts processing with the negotiated <paramref name="features"/>; a queue whose programming is
    /// invalid is marked broken instead. Returns whether the queue is usable.
    /// </summary>
    public bool Activate(GuestMemory guestMemory, ulong features, string name)
    {
        owner = name;
        memory = guestMemory;
        EventIdx = VirtioFeatures.Has(features, VirtioFeatures.RingEventIdx);
        IndirectDescriptors = VirtioFeatures.Has(features, VirtioFeatures.RingIndirectDesc);
        nextAvail = 0;
        nextUsed = 0;
        signalledUsedValid = false;
        if (Validate(guestMemory) is { } problem)
        {
            MarkBroken(problem);
            return false;
        }

        return true;
    }

    /// <summary>Back to the state after a device reset: unprogrammed, disabled, not broken.</summary>
    public void Reset()
    {
        Size = MaxSize;
        Ready = false;
        DescriptorTable = 0;
        AvailRing = 0;
        UsedRing = 0;
        EventIdx = false;
        IndirectDescriptors = false;
        memory = null;
        nextAvail = 0;
        nextUsed = 0;
        signalledUsedValid = false;
        Volatile.Write(ref broken, 0);
    }

    /// <summary>The next chain the driver made available, if any. Never allocates.</summary>
    public bool TryPop(out DescriptorChain chain)
    {
        chain = default;
        if (memory is not { } mem || IsBroken)
        {
            return false;
        }

        var availIdx = ReadAvailIdx(mem);
        var pending = (ushort)(availIdx - nextAvail);
        if (pending == 0)
        {
            return false;
        }

        if (pending > Size)
        {
            MarkBroken($"avail index {availIdx} is {pending} entries ahead of {nextAvail}, more than the queue size {Size}");
            return false;
        }

        var head = ReadUInt16(mem, AvailRing + 4 + 2UL * (uint)(nextAvail % Size));
        if (head >= Size)
        {
            MarkBroken($"descriptor index {head} at avail entry {nextAvail} is out of range for queue size {Size}");
            return false;
        }

        nextAvail++;
        chain = new DescriptorChain(this, mem, head);
        return true;
    }

    /// <summary>Gives back the chain just popped (the device could not use it yet); it is popped again next time.</summary>
    internal void UndoPop() => nextAvail--;

    /// <summary>Returns chain <paramref name="head"/> to the driver with <paramref name="length"/> bytes written.</summary>
    public void AddUsed(ushort head, uint length)
    {
        if (memory is not { } mem || IsBroken)
        {
            return;
        }

        var entry = UsedRing + 4 + 8UL * (uint)(nextUsed % Size);
        var span = mem.GetSpan(entry, 8);
        BinaryPrimitives.WriteUInt32LittleEndian(span, head);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], length);
        nextUsed++;

        // Release: the element is visible before the index that publishes it.
        Volatile.Write(ref UInt16At(mem, UsedRing + 2), nextUsed);
    }

    /// <summary>Whether the driver wants an interrupt for the buffers used since the last one (event idx or NO_INTERRUPT).</summary>
    public bool NeedsNotification()
    {
        if (memory is not { } mem || IsBroken)
        {
            return false;
        }

        // The used index store must be visible before the driver's suppression state is read.
        Interlocked.MemoryBarrier();
        if (!EventIdx)
        {
            return (ReadUInt16(mem, AvailRing) & AvailFlagNoInterrupt) == 0;
        }

        var usedEvent = Volatile.Read(ref UInt16At(mem, AvailRing + 4 + 2UL * Size));
        var old = signalledUsed;
        var wasValid = signalledUsedValid;
        signalledUsed = nextUsed;
        signalledUsedValid = true;
        return !wasValid || (ushort)(nextUsed - usedEvent - 1) < (ushort)(nextUsed - old);
    }

    /// <summary>Asks the driver not to notify while the device is draining the queue.</summary>
    public void DisableNotification()
    {
        if (memory is not { } mem || IsBroken || EventIdx)
        {
            return;
        }

        ref var flags = ref UInt16At(mem, UsedRing);
        Volatile.Write(ref flags, (ushort)(flags | UsedFlagNoNotify));
    }

    /// <summary>Asks the driver to notify on new buffers; returns true if some arrived meanwhile (process again).</summary>
    public bool EnableNotification()
    {
        if (memory is not { } mem || IsBroken)
        {
            return false;
        }

        if (EventIdx)
        {
            Volatile.Write(ref UInt16At(mem, UsedRing + 4 + 8UL * Size), nextAvail);
        }
        else
        {
            ref var flags = ref UInt16At(mem, UsedRing);
            Volatile.Write(ref flags, (ushort)(flags & ~UsedFlagNoNotify));
        }

        Interlocked.MemoryBarrier();
        return ReadAvailIdx(mem) != nextAvail;
    }

    /// <summary>Stops the queue for good (until reset) and logs why, once.</summary>
    internal void MarkBroken(string reason)
    {
        if (Interlocked.Exchange(ref broken, 1) != 0)
        {
            return;
        }

        Log.Error($"{owner}: guest broke the virtqueue ({reason}); the queue is stopped until the device is reset");
        Broken?.Invoke(this);
    }

    private ushort ReadAvailIdx(GuestMemory mem) => Volatile.Read(ref UInt16At(mem, AvailRing + 2));

    private static ushort ReadUInt16(GuestMemory mem, ulong address) =>
        BinaryPrimitives.ReadUInt16LittleEndian(mem.GetSpan(address, 2));

    /// <summary>A ring field for atomic access; ring addresses were checked for alignment and range at activation.</summary>
    private static ref ushort UInt16At(GuestMemory mem, ulong address) =>
        ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(mem.GetSpan(address, 2)));
}
