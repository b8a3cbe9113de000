#!/usr/bin/env bash
# Port-I/O exit round trip: the iobench guest's ring-3 `outb` loop under the published cloud-hypervisor
# versus the raw C KVM harness (build/guests/kvm-portio) running the same kind of loop (64-bit long mode,
# paging on, CPL 3), alternated in the same run. Target: VMM within 1.2x of raw KVM.
#
# The VMM figure is the time between the guest's port 0x80 writes 0x42 and 0x43 around the loop, as the
# VMM logs them ("[Debug I/O port: Kernel code 0x4N] ..."), divided by the iteration count.
# The harness's unpaged 32-bit mode (prot32) is reported too, for information only: on a host whose KVM
# shadows guest page tables its exits are several times cheaper than any paged guest's.
#
# Prints one JSON object per figure ({"name","mean","p50","min","max","unit","samples"}).
# Environment: ITERATIONS (guest loop count, default 100000), RUNS (pairs, default 5), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
ITERATIONS="${ITERATIONS:-100000}"
RUNS="${RUNS:-5}"
[ -x "$BIN" ] || { echo "bench-portio: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "bench-portio: /dev/kvm is not usable" >&2; exit 1; }
scripts/build-guests.sh >/dev/null || { echo "bench-portio: scripts/build-guests.sh failed" >&2; exit 1; }

python3 - "$BIN" "$ITERATIONS" "$RUNS" <<'PY'
import json, re, subprocess, sys
sys.path.insert(0, "scripts/bench")
from probe import summary

binary, iterations, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
debug_port = re.compile(r"\[Debug I/O port: Kernel code 0x(4[23])\] \d+\.(\d+) seconds")

def fail(message):
    print(f"bench-portio: {message}", file=sys.stderr)
    sys.exit(1)

def harness(mode):
    out = subprocess.run(["build/guests/kvm-portio", str(iterations), mode], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        fail(f"kvm-portio {mode} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)["mean_exit_ns"]

def vmm():
    out = subprocess.run([binary, "-v", "--kernel", "build/guests/iobench", "--cmdline", f"iters={iterations}",
                          "--serial", "tty", "--console", "off", "--memory", "size=1G"],
                         capture_output=True, text=True, timeout=600)
    # Upstream's debug-port format prints the total elapsed microseconds after the dot.
    marks = {code: int(micros) for code, micros in debug_port.findall(out.stderr)}
    if out.returncode != 0 or "42" not in marks or "43" not in marks:
        fail(f"iobench under {binary} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")
    return (marks["43"] - marks["42"]) * 1000.0 / iterations

raw, ours, ratios, unpaged = [], [], [], []
for _ in range(runs):
    r = harness("long64")
    v = vmm()
    raw.append(r)
    ours.append(v)
    ratios.append(v / r)
    unpaged.append(harness("prot32"))

summary("portio_exit_vmm_ns", ours, "ns", iterations=iterations)
summary("portio_exit_raw_kvm_ns", raw, "ns", iterations=iterations, mode="long64")
summary("portio_exit_vmm_over_raw", ratios, "ratio", target=1.2)
summary("portio_exit_raw_kvm_unpaged_ns", unpaged, "ns", iterations=iterations, mode="prot32")
PY
