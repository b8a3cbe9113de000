"""Launching a guest under either VMM and timing what the harness sees of it.

Both VMMs are observed the same way, from one clock in this process (time.perf_counter, started just before the
VMM is spawned):
  - port 0x80 writes: cloud-hypervisor logs each one on stderr ("[Debug I/O port: Kernel code 0xNN]", WARN level,
    so it is printed without -v); QEMU gets an isa-debugcon device at port 0x80 whose chardev is a Unix socket this
    process listens on, so each write arrives as one byte. Either way the time is when the notice reaches us.
  - serial lines: the guest's 16550 on the VMM's stdout (`--serial tty`, `-serial stdio`).
  - exit: the VMM process ending (a pidfd becoming readable), i.e. after the guest's ACPI poweroff.

Devices (for the I/O benchmarks): raw disk images (cloud-hypervisor `--disk path=...,image_type=raw`, QEMU
`-drive format=raw` behind modern-only virtio-blk-pci), one existing TAP by name (`--net tap=`, QEMU
`-netdev tap,ifname=,vhost=off` behind virtio-net-pci; with net_queue_pairs=N > 1 a multi-queue TAP:
`num_queues=2N`, QEMU `queues=N` and `mq=on,vectors=2N+2`) and a virtio-pmem file (`--pmem file=`, QEMU
`-object memory-backend-file,share=on` behind virtio-pmem-pci, which needs `-m ...,slots=,maxmem=`); QEMU then runs
as `-M q35` (microvm has no PCI bus of its own) with qboot, microvm's firmware: SeaBIOS took ~3.5 s of each boot
here. With netns= the VMM runs inside that network namespace (`ip netns exec`, which execs in place: same pid).
"""
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time

QBOOT = "/usr/share/qemu/qboot.rom"
CH_DEBUG_PORT = re.compile(rb"\[Debug I/O port: Kernel code 0x([0-9a-fA-F]{2})\]")


class GuestRun:
    """What one boot showed: port 0x80 codes, serial lines and the exit, each with its time in ms from spawn."""

    def __init__(self):
        self.port80 = []        # [(code, ms)]
        self.serial = []        # [(ms, line)]
        self.exit_ms = None
        self.exit_code = None
        self.stderr = b""

    def first_port80_ms(self, code):
        return next((ms for c, ms in self.port80 if c == code), None)

    def first_serial_line_ms(self):
        return next((ms for ms, line in self.serial if line.strip()), None)

    def serial_line(self, prefix):
        return next((line for _, line in self.serial if line.startswith(prefix)), None)

    def describe(self):
        lines = "\n".join(line for _, line in self.serial[-15:])
        return (f"exit={self.exit_code} port80={[hex(c) for c, _ in self.port80]}\n--- serial ---\n{lines}\n"
                f"--- stderr ---\n{self.stderr.decode(errors='replace')[-1500:]}")


class Vmm:
    name = ""

    def __init__(self, binary):
        self.binary = binary

    def guest_argv(self, kernel, cpus, memory_mib, cmdline, debug_socket, devices):
        raise NotImplementedError

    def start(self, kernel, cpus=1, memory_mib=1024, cmdline=None, watch_port80=False, netns=None, **devices):
        """Spawns the VMM with the guest and devices (disks=, tap=, net_queue_pairs=, pmem=); returns a
        RunningGuest (a context manager that stops the VMM)."""
        argv_prefix = ["ip", "netns", "exec", netns] if netns else []
        devices = Devices(**devices)
        return RunningGuest(self, kernel, cpus, memory_mib, cmdline, watch_port80, devices, argv_prefix)


class Devices:
    """The devices a benchmark attaches: raw disk images, one TAP by name (net_queue_pairs pairs), a pmem file."""

    def __init__(self, disks=(), tap=None, net_queue_pairs=1, pmem=None):
        self.disks, self.tap, self.net_queue_pairs, self.pmem = disks, tap, net_queue_pairs, pmem

    def need_pci(self):
        return bool(self.disks) or self.tap is not None or self.pmem is not None


class CloudHypervisor(Vmm):
    name = "cloud-hypervisor"

    def guest_argv(self, kernel, cpus, memory_mib, cmdline, debug_socket, devices):
        argv = [self.binary, "--kernel", kernel, "--serial", "tty", "--console", "off",
                "--memory", f"size={memory_mib}M", "--cpus", f"boot={cpus}"]
        if cmdline is not None:
            argv += ["--cmdline", cmdline]
        if devices.disks:
            argv += ["--disk", *(f"path={disk},image_type=raw" for disk in devices.disks)]
        if devices.tap is not None:
            queues = f",num_queues={2 * devices.net_queue_pairs}" if devices.net_queue_pairs > 1 else ""
            argv += ["--net", f"tap={devices.tap}{queues}"]
        if devices.pmem is not None:
            argv += ["--pmem", f"file={devices.pmem}"]
        return argv


class Qemu(Vmm):
    name = "qemu"

    def guest_argv(self, kernel, cpus, memory_mib, cmdline, debug_socket, devices):
        machine = "q35,accel=kvm" if devices.need_pci() else "microvm,accel=kvm"
        memory = f"{memory_mib}M"
        if devices.pmem is not None:  # virtio-pmem is a memory device: it needs a slot and room above -m
            pmem_mib = -(-os.path.getsize(devices.pmem) // (1 << 20))
            memory += f",slots=1,maxmem={memory_mib + pmem_mib}M"
        firmware = ["-bios", QBOOT] if devices.need_pci() else []
        argv = [self.binary, "-M", machine, *firmware, "-cpu", "host,-arch-capabilities",
                "-m", memory, "-smp", str(cpus), "-nodefaults", "-no-user-config", "-nographic",
                "-serial", "stdio", "-monitor", "none", "-no-reboot", "-kernel", kernel]
        if cmdline is not None:
            argv += ["-append", cmdline]
        if debug_socket is not None:
            argv += ["-chardev", f"socket,id=port80,path={debug_socket}",
                     "-device", "isa-debugcon,iobase=0x80,chardev=port80"]
        for index, disk in enumerate(devices.disks):
            argv += ["-drive", f"if=none,id=d{index},file={disk},format=raw",
                     "-device", f"virtio-blk-pci,drive=d{index},disable-legacy=on"]
        if devices.tap is not None:
            pairs = devices.net_queue_pairs
            queues, mq = (f",queues={pairs}", f",mq=on,vectors={2 * pairs + 2}") if pairs > 1 else ("", "")
            argv += ["-netdev", f"tap,id=n0,ifname={devices.tap},script=no,downscript=no,vhost=off{queues}",
                     "-device", f"virtio-net-pci,netdev=n0,disable-legacy=on{mq}"]
        if devices.pmem is not None:
            argv += ["-object", f"memory-backend-file,id=pm0,share=on,mem-path={devices.pmem},"
                                f"size={os.path.getsize(devices.pmem)}",
                     "-device", "virtio-pmem-pci,memdev=pm0,id=pmem0"]
        return argv


class RunningGuest:
    def __init__(self, vmm, kernel, cpus, memory_mib, cmdline, watch_port80, devices, argv_prefix=()):
        self.vmm = vmm
        self.run = GuestRun()
        self._directory = tempfile.TemporaryDirectory(prefix="ch-bench-")
        self._listener = None
        self._debug_conn = None
        debug_socket = None
        if watch_port80 and isinstance(vmm, Qemu):
            debug_socket = os.path.join(self._directory.name, "port80.sock")
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(debug_socket)
            self._listener.listen(1)
        argv = [*argv_prefix, *vmm.guest_argv(kernel, cpus, memory_mib, cmdline, debug_socket, devices)]
        self._t0 = time.perf_counter()
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE)
        self._pidfd = os.pidfd_open(self.process.pid)
        self._buffers = {self.process.stdout.fileno(): b"", self.process.stderr.fileno(): b""}
        self._open = set(self._buffers)

    @property
    def pid(self):
        return self.process.pid

    def _ms(self):
        return (time.perf_counter() - self._t0) * 1000.0

    def _on_line(self, fd, line, ms):
        if fd == self.process.stdout.fileno():
            self.run.serial.append((ms, line.decode(errors="replace").rstrip("\r")))
        else:
            self.run.stderr += line + b"\n"
            match = CH_DEBUG_PORT.search(line)
            if match and isinstance(self.vmm, CloudHypervisor):
                self.run.port80.append((int(match.group(1), 16), ms))

    def pump(self, until, timeout_s):
        """Reads events until until(run) is true or the VMM exits; False on timeout."""
        deadline = time.perf_counter() + timeout_s
        while not until(self.run):
            if self.run.exit_ms is not None:
                return until(self.run)
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            fds = list(self._open) + [self._pidfd]
            if self._listener is not None:
                fds.append(self._listener)
            if self._debug_conn is not None:
                fds.append(self._debug_conn)
            ready, _, _ = select.select(fds, [], [], remaining)
            ms = self._ms()
            for item in ready:
                if item is self._listener:
                    self._debug_conn, _ = self._listener.accept()
                elif item is self._debug_conn:
                    data = self._debug_conn.recv(4096)
                    if not data:
                        self._debug_conn.close()
                        self._debug_conn = None
                    self.run.port80.extend((byte, ms) for byte in data)
                elif item in self._buffers:
                    data = os.read(item, 65536)
                    if not data:
                        self._open.discard(item)
                        continue
                    *lines, rest = (self._buffers[item] + data).split(b"\n")
                    self._buffers[item] = rest
                    for line in lines:
                        self._on_line(item, line, ms)
            if self._pidfd in ready:
                self._drain()
                self.run.exit_code = self.process.wait()
                self.run.exit_ms = ms
        return True

    def _drain(self):
        """After exit: whatever is still in the pipes belongs to the run (timed at the exit)."""
        ms = self._ms()
        for fd in list(self._open):
            while True:
                data = os.read(fd, 65536)
                if not data:
                    break
                *lines, rest = (self._buffers[fd] + data).split(b"\n")
                self._buffers[fd] = rest
                for line in lines:
                    self._on_line(fd, line, ms)
            if self._buffers[fd]:
                self._on_line(fd, self._buffers[fd], ms)
                self._buffers[fd] = b""
        self._open.clear()
        if self._debug_conn is not None:
            self._debug_conn.setblocking(False)
            try:
                while data := self._debug_conn.recv(4096):
                    self.run.port80.extend((byte, ms) for byte in data)
            except BlockingIOError:
                pass

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        for item in (self._debug_conn, self._listener):
            if item is not None:
                item.close()
        os.close(self._pidfd)
        self.process.stdout.close()
        self.process.stderr.close()
        self._directory.cleanup()
        return False
