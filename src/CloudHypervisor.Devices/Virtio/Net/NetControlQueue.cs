using System.Buffers.Binary;
using CloudHypervisor.Sys.Logging;

namespace CloudHypervisor.Devices.Virtio.Net;

/// <summary>
/// The control virtqueue (VIRTIO 1.2 §5.1.6.5) as upstream serves it: MQ VQ_PAIRS_SET within range (every
/// pair keeps being served, as upstream's threads do), GUEST_OFFLOADS_SET reprogramming every TAP queue, ANNOUNCE_ACK; anything else is answered VIRTIO_NET_ERR.
/// Each command is a chain of a 2-byte header (class, command), its data, and a writable status byte.
/// </summary>
internal sealed class NetControlQueue(string id, IReadOnlyList<Tap> taps, ushort maxPairs)
{
    public const byte ClassMq = 4, ClassGuestOffloads = 5, ClassAnnounce = 3;
    public const byte CommandMqPairsSet = 0, CommandGuestOffloadsSet = 0, CommandAnnounceAck = 0;
    public const byte Ok = 0, Error = 1;

    private readonly VirtqDescriptor[] descriptors = new VirtqDescriptor[16];

    /// <summary>Answers every available command; returns whether any chain was used.</summary>
    public bool Process(VirtQueue queue)
    {
        var used = false;
        do
        {
            queue.DisableNotification();
            while (queue.TryPop(out var chain))
            {
                var count = 0;
                uint length = 0;
                while (chain.TryNext(out var descriptor))
                {
                    if (count < descriptors.Length)
                    {
                        descriptors[count++] = descriptor;
                    }

                    length += descriptor.Length;
                }

                if (queue.IsBroken)
                {
                    return used;
                }

                if (count < 3 || descriptors[0].Length < 2 || !descriptors[count - 1].IsWriteOnly || descriptors[count - 1].Length < 1)
                {
                    Log.Warn($"{id}: Invalid control queue chain from head {chain.HeadIndex}");
                    queue.AddUsed(chain.HeadIndex, 0);
                    used = true;
                    continue;
                }

                var header = chain.Buffer(descriptors[0]);
                var data = chain.Buffer(descriptors[1]);
                var status = Execute(header[0], header[1], data) ? Ok : Error;
                chain.Buffer(descriptors[count - 1])[0] = status;
                queue.AddUsed(chain.HeadIndex, length);
                used = true;
            }
        }
        while (queue.EnableNotification());

        return used;
    }

    private bool Execute(byte commandClass, byte command, ReadOnlySpan<byte> data)
    {
        switch (commandClass)
        {
            case ClassMq when command == CommandMqPairsSet && data.Length >= 2:
                var pairs = BinaryPrimitives.ReadUInt16LittleEndian(data);
                if (pairs < 1 || pairs > maxPairs)
                {
                    Log.Warn($"{id}: Number of MQ pairs out of range: {pairs}");
                    return false;
                }

                Log.Info($"{id}: Number of MQ pairs requested: {pairs}");
                return true;
            case ClassGuestOffloads when command == CommandGuestOffloadsSet && data.Length >= 8:
                var features = BinaryPrimitives.ReadUInt64LittleEndian(data);
                try
                {
                    Log.Info($"{id}: Reprogramming tap offload with features: {features}");
                    foreach (var tap in taps)
                    {
                        tap.SetOffload(NetFeatures.TapOffloads(features));
                    }

                    return true;
                }
                catch (TapException e)
                {
                    Log.Error($"{id}: Error programming tap offload: {e.Message}");
                    return false;
                }

            case ClassAnnounce when command == CommandAnnounceAck:
                return true;
            default:
                Log.Warn($"{id}: Unsupported command: class {commandClass} command {command}");
                return false;
        }
    }
}
