using CloudHypervisor.Contracts;
using CloudHypervisor.Sys.Errors;
using CloudHypervisor.Sys.Interop;

namespace CloudHypervisor.Vmm.Sandbox;

/// <summary>
/// Checks, on the confined VMM thread, that a device added through the API can open its files, so a
/// device outside the sandbox is refused when it is added, with the path and how to allow it, instead
/// of failing later at boot. The kernel decides: each file is opened the way the device will open it.
/// </summary>
public static class LandlockAdmission
{
    /// <exception cref="VmmException">A file the device needs is outside the Landlock rules.</exception>
    public static void Check(object device)
    {
        switch (device)
        {
            case DiskConfig { Path: { } path } disk:
                Probe(path, write: !disk.Readonly);
                break;
            case PmemConfig pmem:
                Probe(pmem.File, write: !pmem.DiscardWrites);
                break;
            case VdpaConfig vdpa:
                Probe(vdpa.Path, write: true);
                break;
            case NetConfig { VhostUser: false, Fds: null or [] }:
                Probe(LandlockRules.TunDevice, write: true);
                break;
        }

        // Sockets (virtio-fs, vhost-user, vfio-user) are connected to, which Landlock does not restrict.
    }

    private static unsafe void Probe(string path, bool write)
    {
        Libc.Stat stat;
        if (Libc.StatPath(path, &stat) != 0 || (stat.Mode & Libc.SIfMt) == Libc.SIfSock)
        {
            return; // Missing files and sockets are reported by the device itself.
        }

        var directory = (stat.Mode & Libc.SIfMt) == Libc.SIfDir;
        var flags = directory
            ? (write ? OTmpFile | Libc.OWrOnly : Libc.ODirectory | Libc.ORdOnly)
            : (write ? Libc.ORdWr : Libc.ORdOnly) | Libc.ONonBlock | Libc.ONoCtty;
        var fd = Libc.Open(path, flags | Libc.OCloExec, 0b110_000_000);
        if (fd >= 0)
        {
            Libc.Close(fd);
            return;
        }

        var error = OsException.Last();
        if (error.Errno == Libc.EAcces)
        {
            var access = write ? "rw" : "r";
            throw new VmmException(
                $"Access to {path} is denied by the Landlock sandbox; allow it with --landlock-rules path={path},access={access} (landlock_rules in vm.create)",
                error);
        }
    }

    // O_TMPFILE: an unnamed file in the directory, gone when closed (how virtio-pmem uses a directory).
    private const int OTmpFile = 0x410000;
}
