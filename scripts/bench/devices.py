"""Block and network throughput: the `vbench` guest drives virtio-blk / virtio-net from ring 3 under both VMMs.

The guest times its own loop with rdtsc (the host's TSC: KVM does not scale it here), so the figure excludes boot
and the harness's latency; cycles are turned into seconds with the host's TSC frequency. QEMU runs `-M q35` (qboot) with
modern-only virtio-pci devices, the same raw image (format=raw, cache=writeback: QEMU's default) or the same TAP
(vhost=off, its default).

Block: one 512 MiB image of random bytes, page-cache warm, shared by both VMMs and by the host baseline, which is
fio doing the same pattern on the same file with psync (one request at a time; the VMMs too serve one request at
a time per queue). Net: a private network namespace with a TAP and a multi-queue TAP that both VMMs open by name;
transmit counts the frames the device completes, receive counts the frames the guest gets while tap-blast floods the
TAP (on the multi-queue TAP with 64 UDP flows, which tun's steering spreads over its queues), latency the round trip
of one frame through tap-echo. The multi-queue jobs boot MULTI_QUEUE_VCPUS vCPUs, as upstream does (vCPUs = queues),
but the guest drives every pair from its first vCPU, round robin.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time

from common import BenchError, alternate, log

MIB = 1 << 20
DISK_MIB = 512
GUEST_MEMORY_MIB = 512
NET_ETHERTYPE = 0x88B5
RESULT = re.compile(r"vbench: (\S+) .*requests=(\d+) bytes=(\d+) errors=(\d+) tsc-cycles=(\d+)")
PER_PAIR = re.compile(r"vbench: per-pair requests=([\d,]+)")

BLOCK_JOBS = [
    # (metric stem, guest mode, fio rw, block size, queue depth, requests)
    ("block_read", "blk-read", "read", MIB, 4, 2048),
    ("block_write", "blk-write", "write", MIB, 4, 1024),
    ("block_random_read", "blk-randread", "randread", 4096, 32, 50000),
    ("block_random_write", "blk-randwrite", "randwrite", 4096, 32, 50000),
]

NET_JOBS = [
    # (metric, guest mode, frame bytes, frames, figure, queue pairs)
    ("virtio_net_throughput_single_queue_tx_pps", "net-tx", 64, 200000, "pps", 1),
    ("virtio_net_throughput_single_queue_tx_gbps", "net-tx", 1514, 100000, "gbps", 1),
    ("virtio_net_throughput_single_queue_rx_pps", "net-rx", 64, 100000, "pps", 1),
    ("virtio_net_throughput_single_queue_rx_gbps", "net-rx", 1514, 50000, "gbps", 1),
    ("virtio_net_latency_us", "net-ping", 64, 2000, "us", 1),
    # upstream: num_queues=4 (two pairs), as many vCPUs as queues, one iperf3 stream per pair
    ("virtio_net_throughput_multi_queue_tx_pps", "net-tx-mq", 64, 200000, "pps", 2),
    ("virtio_net_throughput_multi_queue_tx_gbps", "net-tx-mq", 1514, 100000, "gbps", 2),
    ("virtio_net_throughput_multi_queue_rx_pps", "net-rx-mq", 64, 100000, "pps", 2),
    ("virtio_net_throughput_multi_queue_rx_gbps", "net-rx-mq", 1514, 50000, "gbps", 2),
]
MULTI_QUEUE_VCPUS = 4
RX_FLOWS = 64
MIN_PAIR_SHARE = 0.1  # a pair carrying less than this share of the frames means they were not spread over the pairs


def tsc_hz():
    """The host TSC frequency: the kernel's calibration from the log, else /proc/cpuinfo's first `cpu MHz`."""
    try:
        text = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
        for pattern in (r"Refined TSC clocksource calibration: ([\d.]+) MHz", r"tsc: Detected ([\d.]+) MHz"):
            found = re.findall(pattern, text)
            if found:
                return float(found[-1]) * 1e6
    except OSError:
        pass
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("cpu MHz"):
                return float(line.split(":", 1)[1]) * 1e6
    raise BenchError("cannot tell the host TSC frequency (no dmesg calibration line, no cpu MHz)")


def run_vbench(vmm, guests, cmdline, timeout_s, cpus=1, **devices):
    """Boots vbench with cmdline; returns (requests, bytes, tsc cycles, [requests per queue pair] or None) of its
    timed loop."""
    with vmm.start(os.path.join(guests, "vbench"), cpus=cpus, memory_mib=GUEST_MEMORY_MIB, cmdline=cmdline,
                   **devices) as guest:
        if not guest.pump(lambda run: run.serial_line("vbench: done") is not None, timeout_s=timeout_s):
            raise BenchError(f"{vmm.name}: vbench `{cmdline}` did not finish within {timeout_s} s\n"
                             + guest.run.describe())
        run = guest.run
    line = next((line for _, line in run.serial if RESULT.match(line)), None)
    if line is None:
        raise BenchError(f"{vmm.name}: vbench `{cmdline}` printed no result\n" + run.describe())
    _, requests, size, errors, cycles = RESULT.match(line).groups()
    if int(errors) or int(cycles) == 0:
        raise BenchError(f"{vmm.name}: vbench `{cmdline}`: {line}")
    per_pair = next((PER_PAIR.match(line).group(1) for _, line in run.serial if PER_PAIR.match(line)), None)
    return int(requests), int(size), int(cycles), per_pair and [int(n) for n in per_pair.split(",")]


# --- block ---------------------------------------------------------------------------------------------------

def make_disk(directory):
    path = os.path.join(directory, "vbench-disk.img")
    if not os.path.exists(path) or os.path.getsize(path) != DISK_MIB * MIB:
        log(f"writing a {DISK_MIB} MiB image of random bytes to {path}")
        with open(path + ".tmp", "wb") as out:
            for _ in range(DISK_MIB):
                out.write(os.urandom(MIB))
        os.replace(path + ".tmp", path)
    with open(path, "rb") as warm:  # page cache warm for everyone
        while warm.read(8 * MIB):
            pass
    return path


def fio_figures(fio, disk, rw, block_size, requests):
    """(MiB/s, IOPS) of fio doing rw with block_size on disk, psync, as many bytes as the guest moves."""
    out = subprocess.run(
        [fio, "--name=host", f"--filename={disk}", f"--rw={rw}", f"--bs={block_size}", "--ioengine=psync", "--invalidate=0",
         f"--size={DISK_MIB}M", f"--io_size={requests * block_size}", "--randrepeat=0", "--norandommap",
         "--output-format=json"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise BenchError(f"fio {rw} failed: {out.stderr.strip()[-300:]}")
    job = json.loads(out.stdout)["jobs"][0]
    side = job["read"] if rw in ("read", "randread") else job["write"]
    return side["bw_bytes"] / MIB, side["iops"]


def bench_block(report, ch, qemu, guests, iterations, workdir):
    fio = shutil.which("fio")
    if fio is None:
        raise BenchError("fio not found (run scripts/install-deps.sh)")
    disk = make_disk(workdir)
    hz = tsc_hz()
    for stem, mode, rw, block_size, depth, requests in BLOCK_JOBS:
        cmdline = f"{mode} bs={block_size} qd={depth} count={requests}"

        def measure(vmm):
            done, moved, cycles, _ = run_vbench(vmm, guests, cmdline, 300, disks=(disk,))
            if done != requests or moved != requests * block_size:
                raise BenchError(f"{vmm.name}: `{cmdline}` completed {done} of {requests} requests")
            seconds = cycles / hz
            return moved / MIB / seconds, done / seconds

        for vmm in (ch, qemu):
            measure(vmm)  # warm-up
        ours, theirs = alternate(iterations, (ch, qemu), measure)
        host = [fio_figures(fio, disk, rw, block_size, requests) for _ in range(iterations)]
        pattern = "sequential" if rw in ("read", "write") else "random"
        method = (f"`vbench` guest, {pattern} {rw.replace('rand', '')}s of {block_size // 1024} KiB, {depth} in flight, "
                  f"{requests} requests over a {DISK_MIB} MiB raw image (page-cache warm), timed by the guest's "
                  "rdtsc; host baseline: fio psync on the same file")
        for index, unit in enumerate(("MiBps", "IOPS")):
            host_mean = sum(h[index] for h in host) / len(host)
            ch_mean = sum(s[index] for s in ours) / len(ours)
            report.add(f"{stem}_{unit}", unit, method, [s[index] for s in ours], [s[index] for s in theirs],
                       host_fio={"mean": round(host_mean, 3)},
                       ratio_to_host=round(ch_mean / host_mean, 3) if host_mean else None)


# --- net -----------------------------------------------------------------------------------------------------

class NetNamespace:
    """A private network namespace holding a TAP and a multi-queue TAP, up; removed on exit."""

    def __init__(self, tap="vbtap0", multi_queue_tap="vbmq0"):
        self.name = f"chbench-{os.getpid()}"
        self.tap = tap
        self.multi_queue_tap = multi_queue_tap

    def __enter__(self):
        for argv in (["ip", "netns", "add", self.name],
                     ["ip", "-n", self.name, "link", "set", "lo", "up"],
                     ["ip", "-n", self.name, "tuntap", "add", "dev", self.tap, "mode", "tap"],
                     ["ip", "-n", self.name, "link", "set", self.tap, "up"],
                     ["ip", "-n", self.name, "tuntap", "add", "dev", self.multi_queue_tap, "mode", "tap",
                      "multi_queue"],
                     ["ip", "-n", self.name, "link", "set", self.multi_queue_tap, "up"]):
            out = subprocess.run(argv, capture_output=True, text=True)
            if out.returncode != 0:
                self.__exit__()
                raise BenchError(f"{' '.join(argv)}: {out.stderr.strip()}")
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)
        return False


def build_tool(workdir, name):
    """Compiles scripts/bench/<name>.c into workdir (again when the source is newer)."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.c")
    binary = os.path.join(workdir, name)
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(source):
        out = subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-o", binary, source], capture_output=True, text=True)
        if out.returncode != 0:
            raise BenchError(f"building {name} failed: {out.stderr.strip()[-400:]}")
    return binary


class HostPeer:
    """A host-side helper on one of the namespace's TAPs (tap-blast flooding it, tap-echo answering the guest) while
    a guest runs; its closing JSON line once stopped."""

    def __init__(self, binary, namespace, tap, *args):
        self.name = os.path.basename(binary)
        self.process = subprocess.Popen(["ip", "netns", "exec", namespace.name, binary, tap, *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if self.process.stdout.readline().strip() != "ready":
            self.process.kill()
            raise BenchError(f"{self.name} did not start: {self.process.stderr.read().strip()[-300:]}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=10)
        if self.process.returncode != 0:
            raise BenchError(f"{self.name} failed: {err.strip()[-300:]}")
        return json.loads(out.strip().splitlines()[-1])


def bench_net(report, ch, qemu, guests, iterations, workdir):
    if not os.access("/dev/net/tun", os.W_OK):
        raise BenchError("/dev/net/tun is not usable")
    blaster_binary = build_tool(workdir, "tap-blast")
    echo_binary = build_tool(workdir, "tap-echo")
    hz = tsc_hz()
    with NetNamespace() as namespace:
        for name, mode, frame, frames, figure, pairs in NET_JOBS:
            multi_queue = pairs > 1
            cmdline = f"{mode} pairs={pairs} frame={frame} count={frames}" if multi_queue else \
                f"{mode} frame={frame} count={frames}"
            tap = namespace.multi_queue_tap if multi_queue else namespace.tap
            receive = mode.startswith("net-rx")
            blaster_rates = []
            shares = {ch.name: [], qemu.name: []}

            def measure(vmm):
                blaster_args = [str(frame), str(RX_FLOWS)] if multi_queue else [str(frame)]
                peer = (HostPeer(blaster_binary, namespace, tap, *blaster_args) if receive else
                        HostPeer(echo_binary, namespace, tap) if mode == "net-ping" else None)
                try:
                    done, moved, cycles, per_pair = run_vbench(
                        vmm, guests, cmdline, 300, cpus=MULTI_QUEUE_VCPUS if multi_queue else 1, tap=tap,
                        net_queue_pairs=pairs, netns=namespace.name)
                finally:
                    if peer is not None:
                        closing = peer.stop()
                        if receive:
                            blaster_rates.append(closing["pps"])
                if done != frames:
                    raise BenchError(f"{vmm.name}: `{cmdline}` moved {done} of {frames} frames")
                if multi_queue:
                    if per_pair is None or len(per_pair) != pairs or sum(per_pair) != done:
                        raise BenchError(f"{vmm.name}: `{cmdline}` reported per-pair counts {per_pair}")
                    share = [n / done for n in per_pair]
                    if min(share) < MIN_PAIR_SHARE:
                        raise BenchError(f"{vmm.name}: `{cmdline}`: the pairs carried {per_pair} frames: "
                                         "not spread over the queues")
                    shares[vmm.name].append(share)
                seconds = cycles / hz
                return (done / seconds if figure == "pps" else moved * 8 / seconds / 1e9 if figure == "gbps"
                        else seconds / done * 1e6)

            for vmm in (ch, qemu):
                measure(vmm)  # warm-up
            for samples in shares.values():
                samples.clear()
            ours, theirs = alternate(iterations, (ch, qemu), measure)
            direction = {
                "net-tx": "transmit: the guest keeps its whole queue of broadcast frames in flight",
                "net-rx": "receive: tap-blast floods the TAP from the namespace (sendmmsg), the guest counts its frames",
                "net-ping": "round trip: the guest sends one frame and waits for tap-echo (AF_PACKET in the namespace) "
                            "to return it, one at a time",
                "net-tx-mq": "transmit: the guest keeps every pair's transmit queue full of broadcast frames",
                "net-rx-mq": f"receive: tap-blast floods the TAP from the namespace (sendmmsg) with IPv4/UDP frames of "
                             f"{RX_FLOWS} flows, which tun's flow-hash steering spreads over the TAP's queues; the guest "
                             "counts the frames of every pair",
            }[mode]
            extra = {}
            if blaster_rates:
                extra["tap_blast_pps"] = {"mean": round(sum(blaster_rates) / len(blaster_rates), 3)}
            if multi_queue:
                extra["pair_share"] = {name: [round(sum(s[p] for s in samples) / len(samples), 3) for p in range(pairs)]
                                       for name, samples in shares.items()}
                queues = (f"{pairs} queue pairs (cloud-hypervisor --net num_queues={2 * pairs}, QEMU queues={pairs} "
                          f"mq=on) on a multi-queue TAP, {MULTI_QUEUE_VCPUS} vCPUs as upstream, but every pair is "
                          "driven from the guest's first vCPU, round robin (the guest kit runs ring 3 on one vCPU)")
            else:
                queues = "one queue pair over a TAP"
            report.add(name, figure, f"`vbench` guest, {queues}, {frame}-byte frames, {frames} per run, in a "
                       f"private network namespace, timed by the guest's rdtsc; {direction}",
                       ours, theirs, **extra)
