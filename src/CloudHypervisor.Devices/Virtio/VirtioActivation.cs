using CloudHypervisor.Arch.Memory;
using CloudHypervisor.Sys;

namespace CloudHypervisor.Devices.Virtio;

/// <summary>An enabled queue handed to the device: its index, the ring, and the eventfd the driver's notifications land on.</summary>
public sealed record VirtioQueueBinding(int Index, VirtQueue Queue, EventFd Notifier);

/// <summary>What a device needs to start: guest memory, the negotiated features, its interrupt, its enabled queues.</summary>
public sealed record VirtioActivation(GuestMemory Memory, ulong Features, IVirtioInterrupt Interrupt, IReadOnlyList<VirtioQueueBinding> Queues);
