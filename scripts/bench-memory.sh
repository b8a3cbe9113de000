#!/usr/bin/env bash
# Resident memory of the published cloud-hypervisor beyond the guest RAM the guest has touched, with an idle
# 1 GiB guest (the `halt` test guest, waiting in `hlt`): VmRSS from /proc/<pid>/status minus the Rss of the
# guest RAM mapping (the anonymous mapping exactly as large as the guest RAM) from /proc/<pid>/smaps.
# Target: under 15 MiB.
# Prints one JSON object per figure ({"name","mean","p50","min","max","unit","samples"}).
# Environment: RUNS (default 5), SETTLE_SECONDS (idle time before reading, default 2), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
RUNS="${RUNS:-5}"
SETTLE_SECONDS="${SETTLE_SECONDS:-2}"
[ -x "$BIN" ] || { echo "bench-memory: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "bench-memory: /dev/kvm is not usable" >&2; exit 1; }
[ -f build/guests/halt ] || { echo "bench-memory: build/guests/halt not found; run scripts/build-guests.sh" >&2; exit 1; }

python3 - "$BIN" "$RUNS" "$SETTLE_SECONDS" <<'PY'
import subprocess, sys, time
sys.path.insert(0, "scripts/bench")
from probe import stop, summary

binary, runs, settle = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
ram_kib = 1 << 20

def fail(message):
    print(f"bench-memory: {message}", file=sys.stderr)
    sys.exit(1)

def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail(f"no VmRSS in /proc/{pid}/status")

def guest_ram_rss_kib(pid):
    """Rss of the mapping whose size is the guest RAM size (the only one that large)."""
    found, size, name = [], None, None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else ""
            elif fields[0] == "Size:":
                size = int(fields[1])
            elif fields[0] == "Rss:" and size == ram_kib and name == "":
                found.append(int(fields[1]))
    if len(found) != 1:
        fail(f"expected one anonymous {ram_kib} KiB mapping (guest RAM), found {len(found)}")
    return found[0]

def measure():
    process = subprocess.Popen([binary, "--kernel", "build/guests/halt", "--serial", "tty", "--console", "off",
                                "--memory", "size=1G"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                fail(f"the VMM exited ({process.wait()}) before the guest was ready")
            if line.strip() == "halt: ready":
                break
        else:
            fail("the halt guest did not print 'halt: ready' within 30 s")
        time.sleep(settle)
        total, guest = vm_rss_kib(process.pid), guest_ram_rss_kib(process.pid)
        return total / 1024, guest / 1024
    finally:
        stop(process)

totals, guests = zip(*(measure() for _ in range(runs)))
summary("vmm_rss_beyond_guest_ram_1g_idle_mib", [t - g for t, g in zip(totals, guests)], "MiB", target=15)
summary("vmm_rss_total_1g_idle_mib", list(totals), "MiB")
summary("guest_ram_touched_1g_idle_mib", list(guests), "MiB")
PY
