using System.Buffers.Binary;

namespace CloudHypervisor.Devices.Virtio.Vsock;

/// <summary>Packet operations (virtio_vsock.h).</summary>
public enum VsockOp : ushort
{
    Invalid = 0,
    Request = 1,
    Response = 2,
    Rst = 3,
    Shutdown = 4,
    Rw = 5,
    CreditUpdate = 6,
    CreditRequest = 7,
}

/// <summary>
/// struct virtio_vsock_hdr (VIRTIO 1.2 §5.10.6): 44 packed little-endian bytes at the start of every
/// packet: src_cid, dst_cid (u64), src_port, dst_port, len (u32), type, op (u16), flags, buf_alloc, fwd_cnt (u32).
/// </summary>
public struct VsockHeader
{
    public const int Size = 44;

    /// <summary>The only socket type the device carries (VIRTIO_VSOCK_TYPE_STREAM).</summary>
    public const ushort TypeStream = 1;

    /// <summary>The host's context id.</summary>
    public const ulong HostCid = 2;

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_F_RECEIVE: the sender will receive no more data.</summary>
    public const uint ShutdownReceive = 1;

    /// <summary>VIRTIO_VSOCK_SHUTDOWN_F_SEND: the sender will send no more data.</summary>
    public const uint ShutdownSend = 2;

    public ulong SrcCid;
    public ulong DstCid;
    public uint SrcPort;
    public uint DstPort;
    public uint Length;
    public ushort Type;
    public VsockOp Op;
    public uint Flags;
    public uint BufAlloc;
    public uint FwdCnt;

    public static VsockHeader Read(ReadOnlySpan<byte> bytes) => new()
    {
        SrcCid = BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        DstCid = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]),
        SrcPort = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]),
        DstPort = BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]),
        Length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..]),
        Type = BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]),
        Op = (VsockOp)BinaryPrimitives.ReadUInt16LittleEndian(bytes[30..]),
        Flags = BinaryPrimitives.ReadUInt32LittleEndian(bytes[32..]),
        BufAlloc = BinaryPrimitives.ReadUInt32LittleEndian(bytes[36..]),
        FwdCnt = BinaryPrimitives.ReadUInt32LittleEndian(bytes[40..]),
    };

    public readonly void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, SrcCid);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[8..], DstCid);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[16..], SrcPort);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[20..], DstPort);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[24..], Length);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[28..], Type);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[30..], (ushort)Op);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[32..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[36..], BufAlloc);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[40..], FwdCnt);
    }

    public override readonly string ToString() =>
        $"{Op} {SrcCid}:{SrcPort} -> {DstCid}:{DstPort} len={Length} type={Type} flags={Flags} buf_alloc={BufAlloc} fwd_cnt={FwdCnt}";
}
