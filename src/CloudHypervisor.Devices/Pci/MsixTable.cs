using System.Buffers.Binary;
using CloudHypervisor.Hypervisor;

namespace CloudHypervisor.Devices.Pci;

/// <summary>
/// The MSI-X vector table and pending-bit array a device exposes in one of its BARs, and the
/// Message Control state from its capability. Table writes (re)route vectors through
/// <see cref="IMsixRouting"/>; a vector raised while masked is remembered in the PBA and delivered on unmask.
/// Entries start masked, as after reset. Accessed from vCPU threads and device threads.
/// </summary>
public sealed class MsixTable
{
    public const int EntrySize = 16;

    private readonly object gate = new();
    private readonly Entry[] entries;
    private readonly ulong[] pending;
    private readonly IMsixRouting routing;
    private bool enabled;
    private bool functionMasked;

    public MsixTable(int vectors, IMsixRouting routing)
    {
        if (vectors is <= 0 or > MsixCapability.MaxVectors)
        {
            throw new PciException($"MSI-X vector count {vectors} out of range 1-{MsixCapability.MaxVectors}");
        }

        entries = new Entry[vectors];
        for (var i = 0; i < vectors; i++)
        {
            entries[i].VectorControl = 1;
        }

        pending = new ulong[vectors / 64 + 1];
        this.routing = routing;
    }

    public int VectorCount => entries.Length;

    public bool Enabled
    {
        get { lock (gate) { return enabled; } }
    }

    public bool FunctionMasked
    {
        get { lock (gate) { return functionMasked; } }
    }

    /// <summary>The guest wrote the capability's Message Control register.</summary>
    public void SetMessageControl(ushort control)
    {
        lock (gate)
        {
            var wasMasked = functionMasked;
            var wasEnabled = enabled;
            functionMasked = (control & MsixCapability.FunctionMaskBit) != 0;
            enabled = (control & MsixCapability.EnableBit) != 0;
            if (wasMasked != functionMasked || wasEnabled != enabled)
            {
                for (var i = 0; i < entries.Length; i++)
                {
                    if (enabled && !functionMasked)
                    {
                        routing.Update(i, entries[i].Message, entries[i].Masked);
                    }
                    else
                    {
                        routing.Disable(i);
                    }
                }
            }

            if (wasMasked && !functionMasked)
            {
                for (var i = 0; i < entries.Length; i++)
                {
                    if (!entries[i].Masked && IsPending(i))
                    {
                        DeliverPending(i);
                    }
                }
            }
        }
    }

    /// <summary>The device raises <paramref name="vector"/>: delivered now, or left pending while masked.</summary>
    public void Signal(int vector)
    {
        if ((uint)vector >= (uint)entries.Length)
        {
            return;
        }

        lock (gate)
        {
            if (functionMasked || entries[vector].Masked)
            {
                pending[vector / 64] |= 1UL << (vector % 64);
                return;
            }
        }

        routing.Trigger(vector);
    }

    public bool IsVectorMasked(int vector)
    {
        lock (gate)
        {
            return entries[vector].Masked;
        }
    }

    /// <summary>A guest read of the table at <paramref name="offset"/> from its start (dword or qword).</summary>
    public void ReadTable(ulong offset, Span<byte> data)
    {
        var index = offset / EntrySize;
        if (index >= (ulong)entries.Length || !IsAligned(offset, data.Length))
        {
            data.Fill(0xFF);
            return;
        }

        lock (gate)
        {
            var entry = entries[index];
            var field = (int)(offset % EntrySize);
            if (data.Length == 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(data, (ulong)entry.Dword(field + 4) << 32 | entry.Dword(field));
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data, entry.Dword(field));
            }
        }
    }

    public void WriteTable(ulong offset, ReadOnlySpan<byte> data)
    {
        var index = (int)Math.Min(offset / EntrySize, int.MaxValue);
        if (index >= entries.Length || !IsAligned(offset, data.Length))
        {
            return;
        }

        lock (gate)
        {
            ref var entry = ref entries[index];
            var wasMasked = entry.Masked;
            var field = (int)(offset % EntrySize);
            if (data.Length == 8)
            {
                var value = BinaryPrimitives.ReadUInt64LittleEndian(data);
                entry.SetDword(field, (uint)value);
                entry.SetDword(field + 4, (uint)(value >> 32));
            }
            else
            {
                entry.SetDword(field, BinaryPrimitives.ReadUInt32LittleEndian(data));
            }

            if (enabled && !functionMasked)
            {
                routing.Update(index, entry.Message, entry.Masked);
            }

            if (!functionMasked && wasMasked && !entry.Masked && IsPending(index))
            {
                DeliverPending(index);
            }
        }
    }

    /// <summary>A guest read of the pending-bit array at <paramref name="offset"/> from its start.</summary>
    public void ReadPba(ulong offset, Span<byte> data)
    {
        var index = offset / 8;
        if (index >= (ulong)pending.Length || !IsAligned(offset, data.Length))
        {
            data.Fill(0xFF);
            return;
        }

        lock (gate)
        {
            var word = pending[index];
            if (data.Length == 8)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(data, word);
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)(word >> (int)(offset % 8 * 8)));
            }
        }
    }

    private static bool IsAligned(ulong offset, int length) =>
        length is 4 or 8 && offset % (ulong)length == 0;

    private bool IsPending(int vector) => (pending[vector / 64] & (1UL << (vector % 64))) != 0;

    private void DeliverPending(int vector)
    {
        pending[vector / 64] &= ~(1UL << (vector % 64));
        routing.Trigger(vector);
    }

    private struct Entry
    {
        public uint AddressLow;
        public uint AddressHigh;
        public uint Data;
        public uint VectorControl;

        public readonly bool Masked => (VectorControl & 1) != 0;

        public readonly MsiMessage Message => new((ulong)AddressHigh << 32 | AddressLow, Data);

        public readonly uint Dword(int field) => field switch
        {
            0 => AddressLow,
            4 => AddressHigh,
            8 => Data,
            _ => VectorControl,
        };

        public void SetDword(int field, uint value)
        {
            switch (field)
            {
                case 0: AddressLow = value; break;
                case 4: AddressHigh = value; break;
                case 8: Data = value; break;
                default: VectorControl = value; break;
            }
        }
    }
}
