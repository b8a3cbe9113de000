#!/usr/bin/env python3
"""The performance suite: every figure measured for cloud-hypervisor and for QEMU in the same run, the same way.

Driven by scripts/bench.sh. Writes upstream performance-metrics' JSON report (see report.py) and prints a table.
Exit status 1 when any benchmark that should produce a figure did not.
"""
import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import BenchError, alternate, log  # noqa: E402
from devices import BLOCK_JOBS, NET_JOBS, bench_block, bench_net  # noqa: E402
from report import Report  # noqa: E402
from vmm import CloudHypervisor, Qemu  # noqa: E402

MIB = 1 << 20
BOOT_MEMORY_MIB = 1024
BOOT_VCPUS = (1, 2, 16)
PMEM_MIB = 128

UNAVAILABLE = {
    "not supported yet: snapshot/restore": ["restore_latency_time_ms"],
}


# --- binary size ---------------------------------------------------------------------------------------------

def shared_libraries(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True)
    paths = set()
    for line in out.stdout.splitlines():
        fields = line.split()
        if "=>" in fields and len(fields) > fields.index("=>") + 1 and fields[fields.index("=>") + 1].startswith("/"):
            paths.add(os.path.realpath(fields[fields.index("=>") + 1]))
        elif fields and fields[0].startswith("/"):
            paths.add(os.path.realpath(fields[0]))
    return paths


def bench_binary_size(report, ch, qemu):
    sizes = {}
    for vmm in (ch, qemu):
        own = os.path.getsize(vmm.binary)
        libraries = sum(os.path.getsize(path) for path in shared_libraries(vmm.binary))
        sizes[vmm.name] = (own / MIB, (own + libraries) / MIB)
    report.add("binary_size_MiB", "MiB", "size of the executable file (cloud-hypervisor: static; QEMU: dynamic)",
               [sizes[ch.name][0]], [sizes[qemu.name][0]])
    report.add("binary_size_with_shared_libs_MiB", "MiB", "executable plus every shared library ldd resolves",
               [sizes[ch.name][1]], [sizes[qemu.name][1]])


# --- CLI start-up --------------------------------------------------------------------------------------------

def bench_cli_version(report, ch, qemu, iterations, per_iteration=40, warmup=10):
    expected = {ch.name: "cloud-hypervisor ", qemu.name: "QEMU emulator version"}
    for vmm in (ch, qemu):
        out = subprocess.run([vmm.binary, "--version"], capture_output=True, text=True, timeout=10)
        if out.returncode != 0 or not out.stdout.startswith(expected[vmm.name]):
            raise BenchError(f"{vmm.binary} --version: exit {out.returncode}, {out.stdout.strip()[:80]!r}")
    devnull = os.open("/dev/null", os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, fd) for fd in (0, 1, 2)]

    def spawn_ms(vmm):
        argv = [vmm.binary, "--version"]
        start = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        _, status = os.waitpid(pid, 0)
        elapsed = (time.perf_counter() - start) * 1000.0
        if os.waitstatus_to_exitcode(status) != 0:
            raise BenchError(f"{vmm.binary} --version failed during timing")
        return elapsed

    def batch(vmm):
        return sum(spawn_ms(vmm) for _ in range(per_iteration)) / per_iteration

    try:
        for vmm in (ch, qemu):
            for _ in range(warmup):
                spawn_ms(vmm)
        ours, theirs = alternate(iterations, (ch, qemu), batch)
    finally:
        os.close(devnull)
    report.add("cli_version_ms", "ms", f"posix_spawn to waitpid of `<binary> --version`, output to /dev/null; "
               f"each iteration is the mean of {per_iteration} runs", ours, theirs)


# --- API round trip ------------------------------------------------------------------------------------------

class LineSocket:
    def __init__(self, path, timeout_s=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout_s)
        self.sock.connect(path)
        self.buffer = b""

    def read_until(self, marker):
        while marker not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                raise BenchError("the API socket closed")
            self.buffer += data
        head, _, self.buffer = self.buffer.partition(marker)
        return head

    def read_exactly(self, count):
        while len(self.buffer) < count:
            data = self.sock.recv(65536)
            if not data:
                raise BenchError("the API socket closed")
            self.buffer += data
        head, self.buffer = self.buffer[:count], self.buffer[count:]
        return head

    def close(self):
        self.sock.close()


def wait_for_socket(path, process, what):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{what} exited ({process.returncode}) before serving {path}: "
                             f"{process.stderr.read().decode(errors='replace')[-400:]}")
        if os.path.exists(path):
            try:
                return LineSocket(path)
            except (ConnectionRefusedError, FileNotFoundError):
                pass
        time.sleep(0.005)
    raise BenchError(f"{what}: no API socket at {path} after 10 s")


def ch_ping_client(ch, directory):
    path = os.path.join(directory, "ch.sock")
    process = subprocess.Popen([ch.binary, "--api-socket", f"path={path}"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = wait_for_socket(path, process, ch.binary)
    request = b"GET /api/v1/vmm.ping HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n"

    def ping():
        client.sock.sendall(request)
        head = client.read_until(b"\r\n\r\n").decode()
        length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n")
                       if line.lower().startswith("content-length:")), 0)
        body = client.read_exactly(length)
        return head, body

    head, body = ping()
    if not head.startswith("HTTP/1.1 200") or b"build_version" not in body:
        raise BenchError(f"vmm.ping answered {head.splitlines()[0]!r} {body[:80]!r}")
    return process, client, ping


def qemu_ping_client(qemu, directory):
    path = os.path.join(directory, "qmp.sock")
    process = subprocess.Popen([qemu.binary, "-M", "microvm,accel=kvm", "-cpu", "host,-arch-capabilities",
                                "-m", f"{BOOT_MEMORY_MIB}M", "-nodefaults", "-no-user-config", "-display", "none",
                                "-S", "-serial", "none", "-monitor", "none",
                                "-qmp", f"unix:{path},server=on,wait=off"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    client = wait_for_socket(path, process, qemu.binary)
    greeting = client.read_until(b"\n")
    if b"QMP" not in greeting:
        raise BenchError(f"unexpected QMP greeting {greeting[:80]!r}")
    client.sock.sendall(b'{"execute": "qmp_capabilities"}\n')
    client.read_until(b"\n")
    request = b'{"execute": "query-version"}\n'

    def ping():
        client.sock.sendall(request)
        return client.read_until(b"\n")

    reply = ping()
    if b'"return"' not in reply or b'"qemu"' not in reply:
        raise BenchError(f"query-version answered {reply[:80]!r}")
    return process, client, ping


def bench_api_ping(report, ch, qemu, iterations, per_iteration=1000, warmup=200):
    with tempfile.TemporaryDirectory(prefix="ch-bench-api-") as directory:
        started = []
        try:
            pings = {}
            for vmm, factory in ((ch, ch_ping_client), (qemu, qemu_ping_client)):
                process, client, ping = factory(vmm, directory)
                started.append((process, client))
                for _ in range(warmup):
                    ping()
                pings[vmm.name] = ping

            def batch(vmm):
                ping = pings[vmm.name]
                start = time.perf_counter()
                for _ in range(per_iteration):
                    ping()
                return (time.perf_counter() - start) * 1e6 / per_iteration

            ours, theirs = alternate(iterations, (ch, qemu), batch)
        finally:
            for process, client in started:
                client.close()
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    report.add("api_ping_us", "us", "request/response round trip on one kept-alive Unix-socket connection: "
               "cloud-hypervisor `GET /api/v1/vmm.ping` (no VM), QEMU QMP `query-version` (paused microvm); "
               f"each iteration is the mean of {per_iteration} round trips", ours, theirs)


# --- boot ----------------------------------------------------------------------------------------------------

def boot_once(vmm, kernel, cpus, **devices):
    with vmm.start(kernel, cpus=cpus, memory_mib=BOOT_MEMORY_MIB, watch_port80=True, **devices) as guest:
        if not guest.pump(lambda run: run.exit_ms is not None, timeout_s=30):
            raise BenchError(f"{vmm.name}: hello ({cpus} vCPU(s)) did not power off within 30 s\n"
                             + guest.run.describe())
        run = guest.run
    first_instruction = run.first_port80_ms(0x41)
    first_line = run.first_serial_line_ms()
    if run.exit_code != 0 or first_instruction is None or first_line is None \
            or run.serial_line("hello: done") is None:
        raise BenchError(f"{vmm.name}: hello ({cpus} vCPU(s)) did not run to a clean poweroff\n" + run.describe())
    return first_instruction, first_line, run.exit_ms


def boot_samples(ch, qemu, kernel, cpus, iterations, **devices):
    """(first instruction, first serial line, exit) in ms per boot of each VMM, after one warm-up boot each."""
    for vmm in (ch, qemu):
        boot_once(vmm, kernel, cpus, **devices)  # warm-up: page cache, first-run costs
    return alternate(iterations, (ch, qemu), lambda vmm: boot_once(vmm, kernel, cpus, **devices))


def make_pmem_file(directory):
    """A PMEM_MIB file of zeros (written, not sparse) for the pmem boot; kept for the next run."""
    path = os.path.join(directory, "boot-pmem.img")
    if not os.path.exists(path) or os.path.getsize(path) != PMEM_MIB * MIB:
        with open(path + ".tmp", "wb") as out:
            for _ in range(PMEM_MIB):
                out.write(bytes(MIB))
        os.replace(path + ".tmp", path)
    return path


def bench_boot(report, ch, qemu, guests, iterations, workdir):
    kernel = os.path.join(guests, "hello")
    for cpus in BOOT_VCPUS:
        suffix = "" if cpus == 1 else f"_{cpus}_vcpus"
        ours, theirs = boot_samples(ch, qemu, kernel, cpus, iterations)
        common = f"`hello` PVH guest, {cpus} vCPU(s), {BOOT_MEMORY_MIB} MiB; cloud-hypervisor --kernel, " \
                 "QEMU -M microvm -kernel (qboot firmware included); timed from spawn by the harness"
        for index, (name, what) in enumerate((
                (f"boot_first_instruction{suffix}_ms",
                 "to the guest's first port-0x80 write (0x41, its first instruction) reaching the harness: "
                 "cloud-hypervisor's debug-port log line, QEMU's isa-debugcon at 0x80 on a socket"),
                (f"boot_first_serial_line{suffix}_ms", "to the guest's first serial line on the VMM's stdout"),
                (f"boot_time{suffix}_ms", "to the VMM process exiting after the guest's ACPI poweroff"))):
            report.add(name, "ms", f"{common}; {what}", [s[index] for s in ours], [s[index] for s in theirs])

    pmem = make_pmem_file(workdir)
    ours, theirs = boot_samples(ch, qemu, kernel, 1, iterations, pmem=pmem)
    report.add("boot_time_pmem_ms", "ms", f"as boot_time_ms (`hello` guest, 1 vCPU, {BOOT_MEMORY_MIB} MiB, spawn to "
               f"the VMM exiting after the guest's ACPI poweroff) with a {PMEM_MIB} MiB virtio-pmem file attached "
               "(upstream boots its root filesystem from it; `hello` does not read it): cloud-hypervisor --pmem file=, "
               "QEMU -M q35 -bios qboot.rom (microvm has no PCI slot for virtio-pmem-pci; qboot is microvm's "
               "firmware) with -object memory-backend-file,share=on and -device virtio-pmem-pci",
               [s[2] for s in ours], [s[2] for s in theirs])


# --- port I/O exits ------------------------------------------------------------------------------------------

def portio_once(vmm, kernel, loops):
    with vmm.start(kernel, cpus=1, memory_mib=BOOT_MEMORY_MIB, cmdline=f"iters={loops}", watch_port80=True) as guest:
        if not guest.pump(lambda run: run.exit_ms is not None, timeout_s=120):
            raise BenchError(f"{vmm.name}: iobench did not finish within 120 s\n" + guest.run.describe())
        run = guest.run
    begin, end = run.first_port80_ms(0x42), run.first_port80_ms(0x43)
    cycles = run.serial_line("iobench: tsc-cycles total=")
    if run.exit_code != 0 or begin is None or end is None or cycles is None:
        raise BenchError(f"{vmm.name}: iobench did not report its loop\n" + run.describe())
    total_cycles = int(cycles.split("total=")[1].split()[0])
    return (end - begin) * 1e6 / loops, total_cycles / loops


def raw_kvm_once(harness, loops):
    out = subprocess.run([harness, str(loops), "long64"], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise BenchError(f"kvm-portio failed: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)["mean_exit_ns"]


def bench_portio(report, ch, qemu, guests, iterations, loops):
    kernel = os.path.join(guests, "iobench")
    ours, theirs = alternate(iterations, (ch, qemu), lambda vmm: portio_once(vmm, kernel, loops))
    raw = [raw_kvm_once(os.path.join(guests, "kvm-portio"), loops) for _ in range(iterations)]
    raw_stats = {key: round(value, 3) for key, value in
                 zip(("mean", "min", "max"), (sum(raw) / len(raw), min(raw), max(raw)))}
    common = f"`iobench` guest: {loops} ring-3 `outb` to unclaimed port 0x500, 1 vCPU"
    report.add("portio_exit_ns", "ns", f"{common}; time between its port-0x80 writes 0x42 and 0x43 around the loop "
               "as they reach the harness, divided by the loop count", [s[0] for s in ours], [s[0] for s in theirs],
               raw_kvm=raw_stats)
    report.add("portio_exit_guest_tsc_cycles", "cycles", f"{common}; the guest's own rdtsc count per iteration",
               [s[1] for s in ours], [s[1] for s in theirs])
    return raw_stats


# --- resident memory -----------------------------------------------------------------------------------------

def resident_kib(pid, guest_ram_kib):
    with open(f"/proc/{pid}/status") as status:
        total = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    guest, name, size = [], None, None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                name, size = (fields[5] if len(fields) > 5 else ""), None
            elif fields[0] == "Size:":
                size = int(fields[1])
            elif fields[0] == "Rss:" and size == guest_ram_kib and name == "":
                guest.append(int(fields[1]))
    if len(guest) != 1:
        raise BenchError(f"expected one anonymous {guest_ram_kib} KiB mapping (guest RAM) in pid {pid}, "
                         f"found {len(guest)}")
    return total, guest[0]


def memory_once(vmm, kernel, settle_s):
    with vmm.start(kernel, cpus=1, memory_mib=BOOT_MEMORY_MIB) as guest:
        if not guest.pump(lambda run: run.serial_line("halt: ready") is not None, timeout_s=30):
            raise BenchError(f"{vmm.name}: the halt guest did not print 'halt: ready'\n" + guest.run.describe())
        if guest.run.exit_ms is not None:
            raise BenchError(f"{vmm.name}: the halt guest's VMM exited\n" + guest.run.describe())
        time.sleep(settle_s)
        total, touched = resident_kib(guest.pid, BOOT_MEMORY_MIB * 1024)
    return (total - touched) / 1024, total / 1024, touched / 1024


def bench_memory(report, ch, qemu, guests, iterations, settle_s):
    kernel = os.path.join(guests, "halt")
    ours, theirs = alternate(iterations, (ch, qemu), lambda vmm: memory_once(vmm, kernel, settle_s))
    common = f"idle `halt` guest (in `hlt` after 'halt: ready' + {settle_s} s), {BOOT_MEMORY_MIB} MiB, 1 vCPU"
    report.add("vmm_rss_beyond_guest_ram_MiB", "MiB", f"{common}; VmRSS minus the Rss of the guest-RAM mapping "
               "(the one anonymous mapping exactly the guest RAM size)", [s[0] for s in ours], [s[0] for s in theirs],
               guest_ram_touched_MiB={"cloud-hypervisor": round(sum(s[2] for s in ours) / len(ours), 3),
                                      "qemu": round(sum(s[2] for s in theirs) / len(theirs), 3)})
    report.add("vmm_rss_total_MiB", "MiB", f"{common}; VmRSS", [s[1] for s in ours], [s[1] for s in theirs])


# --- sandbox start-up cost (cloud-hypervisor only: QEMU's -sandbox is a different thing) ----------------------

def bench_sandbox(report, ch, repo, iterations):
    out = subprocess.run([os.path.join(repo, "scripts", "bench-sandbox.sh")], capture_output=True, text=True,
                         timeout=600, env={**os.environ, "BIN": ch.binary, "ITERATIONS": str(iterations)})
    if out.returncode != 0:
        raise BenchError(f"bench-sandbox.sh failed: {out.stderr.strip()[-400:]}")
    figures = {}
    for line in out.stdout.splitlines():
        figure = json.loads(line)
        figures[figure["name"]] = figure
    for name, figure in figures.items():
        if "unavailable" in figure:
            report.unavailable(name, figure["unavailable"])
        elif figure.get("unit") == "ms":
            report.add(name, "ms", "scripts/bench-sandbox.sh: VMM start to the `halt` guest's first instruction (the VMM's "
                       "log timestamp), 1 GiB, disk, file serial, event monitor, API socket; " + figure["flags"],
                       figure["values"])
        else:
            report.add(name, "ratio", f"{figure['measured']} (target {figure['target']})", [figure["value"]])


# --- driver --------------------------------------------------------------------------------------------------

def host_description(qemu_binary):
    cpu = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/cpuinfo") as cpuinfo:
        nested = " hypervisor " in f" {cpuinfo.read().replace(chr(10), ' ')} "
    version = subprocess.run([qemu_binary, "--version"], capture_output=True, text=True).stdout.splitlines()
    return {"kernel": platform.release(), "cpu": cpu, "cpus": os.cpu_count(),
            "runs_under_a_hypervisor": nested, "qemu": version[0] if version else "",
            "loadavg_start": open("/proc/loadavg").read().split()[:3]}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--ch", required=True)
    parser.add_argument("--qemu", required=True)
    parser.add_argument("--guests", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--iterations", type=int, default=None, help="override every benchmark's iteration count")
    parser.add_argument("--portio-loops", type=int, default=50000)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--workdir", default=None, help="where the disk image and helpers go (default: next to --out)")
    parser.add_argument("--only", default=None, help="comma-separated benchmark titles to run (e.g. block,net)")
    args = parser.parse_args()

    ch, qemu = CloudHypervisor(args.ch), Qemu(args.qemu)
    args.workdir = args.workdir or os.path.dirname(os.path.abspath(args.out))
    os.makedirs(args.workdir, exist_ok=True)
    report = Report(args.repo)
    host = host_description(args.qemu)
    started = time.monotonic()

    def iterations(default):
        return args.iterations or default

    raw_kvm = None
    benchmarks = [
        ("binary size", ["binary_size_MiB", "binary_size_with_shared_libs_MiB"],
         lambda: bench_binary_size(report, ch, qemu)),
        ("CLI start-up", ["cli_version_ms"], lambda: bench_cli_version(report, ch, qemu, iterations(10))),
        ("API round trip", ["api_ping_us"], lambda: bench_api_ping(report, ch, qemu, iterations(10))),
        ("boot", [f"boot_{what}{'' if n == 1 else f'_{n}_vcpus'}_ms" for n in BOOT_VCPUS
                  for what in ("first_instruction", "first_serial_line", "time")] + ["boot_time_pmem_ms"],
         lambda: bench_boot(report, ch, qemu, args.guests, iterations(20), args.workdir)),
        ("sandbox", ["boot_time_1g_unconfined_ms", "boot_time_1g_seccomp_ms", "boot_time_1g_landlock_ms",
                     "boot_time_1g_sandboxed_ms"],
         lambda: bench_sandbox(report, ch, args.repo, iterations(40))),
        ("port I/O exits", ["portio_exit_ns", "portio_exit_guest_tsc_cycles"],
         lambda: bench_portio(report, ch, qemu, args.guests, iterations(5), args.portio_loops)),
        ("resident memory", ["vmm_rss_beyond_guest_ram_MiB", "vmm_rss_total_MiB"],
         lambda: bench_memory(report, ch, qemu, args.guests, iterations(5), args.settle)),
        ("block", [f"{job[0]}_{unit}" for job in BLOCK_JOBS for unit in ("MiBps", "IOPS")],
         lambda: bench_block(report, ch, qemu, args.guests, iterations(3), args.workdir)),
        ("net", [job[0] for job in NET_JOBS],
         lambda: bench_net(report, ch, qemu, args.guests, iterations(3), args.workdir)),
    ]
    if args.only:
        wanted = set(args.only.split(","))
        benchmarks = [b for b in benchmarks if b[0] in wanted]
    for title, names, run in benchmarks:
        # A benchmark must not pay for the previous one's dirty pages (the block writes leave gigabytes).
        os.sync()
        time.sleep(1)
        log(f"{title} ...")
        clock = time.monotonic()
        try:
            result = run()
            if title == "port I/O exits":
                raw_kvm = result
        except (BenchError, OSError, subprocess.SubprocessError, ValueError, StopIteration) as error:
            log(f"{title} FAILED: {error}")
            produced = {r["name"] for r in report.results}
            missing = [name for name in names if name not in produced] or [title.replace(" ", "_")]
            for name in missing:
                report.failed(name, str(error) or type(error).__name__)
        log(f"{title}: {time.monotonic() - clock:.1f} s")
    for reason, names in UNAVAILABLE.items():
        for name in names:
            report.unavailable(name, reason)

    host["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    host["suite_seconds"] = round(time.monotonic() - started, 1)
    report.write(args.out, host)
    with open(os.path.splitext(args.out)[0] + ".md", "w") as markdown:
        markdown.write(report.markdown() + "\n")

    print(report.table())
    if raw_kvm:
        print(f"portio_exit_ns reference, raw KVM harness (no VMM, same ring-3 loop): {raw_kvm['mean']} ns")
    print(f"host: {host['cpu']}, {host['cpus']} CPUs, kernel {host['kernel']}, "
          f"{'nested (runs under a hypervisor)' if host['runs_under_a_hypervisor'] else 'bare metal'}; "
          f"load {' '.join(host['loadavg_start'])} -> {' '.join(host['loadavg_end'])}; {host['qemu']}")
    measured = sum("mean" in r for r in report.results)
    print(f"report: {args.out} ({measured} figures, "
          f"{sum('unavailable' in r for r in report.results)} unavailable, {len(report.failures)} failed) "
          f"in {host['suite_seconds']} s")
    if report.failures:
        log(f"FAILED: {', '.join(report.failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
