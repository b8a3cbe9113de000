#!/usr/bin/env bash
# Cost of the Landlock sandbox on start-up: VMM start to the guest's first instruction with and without
# --landlock, and their ratio (target: within 5%, ratio <= 1.05).
#   boot_time_1g_ms            without --landlock
#   boot_time_1g_landlock_ms   with --landlock (the VMM thread builds and enforces its ruleset at vm.create,
#                              the main, http-server, event-monitor and finalizer threads confine themselves)
#   landlock_boot_ratio        median with / median without
#   landlock_boot_ratio_min    fastest with / fastest without (least disturbed by other load on the host)
# Both boot the `halt` guest (it writes 0x41 to port 0x80 first thing) with 1 GiB of RAM, a 1 MiB raw disk,
# a file serial port, an event monitor and the API socket, so the ruleset has real paths in it. The time is
# the VMM's own log timestamp on its "[Debug I/O port: Kernel code 0x41]" line (-v), as in bench-boot.sh.
# Runs alternate in ABBA order (without, with, with, without, ...) so host drift and ordering affect both alike.
# Prints one JSON object per figure. Environment: ITERATIONS (default 20), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
ITERATIONS="${ITERATIONS:-20}"
[ -x "$BIN" ] || { echo "bench-landlock: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "bench-landlock: /dev/kvm is not usable" >&2; exit 1; }
[ -f build/guests/halt ] || { echo "bench-landlock: build/guests/halt not found; run scripts/build-guests.sh" >&2; exit 1; }

python3 - "$BIN" "$ITERATIONS" <<'PY'
import ctypes, json, os, re, signal, statistics, subprocess, sys, tempfile, time

binary, iterations = sys.argv[1], int(sys.argv[2])
first_instruction = re.compile(r"^cloud-hypervisor:\s+(\d+\.\d+)s: .*\[Debug I/O port: Kernel code 0x41\]")

def fail(message):
    print(f"bench-landlock: {message}", file=sys.stderr)
    sys.exit(1)

abi = ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1)
if abi < 1:
    fail(f"the host kernel offers no Landlock (errno {ctypes.get_errno()}): there is nothing to measure")

def summary(name, samples, **extra):
    ordered = sorted(samples)
    print(json.dumps({"name": name, "mean": round(statistics.mean(samples), 3), "p50": round(statistics.median(samples), 3),
                      "min": round(ordered[0], 3), "max": round(ordered[-1], 3), "unit": "ms", "samples": len(samples), **extra}))

def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

def boot_once(directory, landlock):
    for name in ("api.sock", "api.sock.lock"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            os.unlink(path)
    arguments = [binary, "-v", "--kernel", "build/guests/halt", "--console", "off", "--memory", "size=1G",
                 "--serial", f"file={directory}/serial.log", "--disk", f"path={directory}/disk.img,image_type=raw",
                 "--event-monitor", f"path={directory}/events.json", "--api-socket", f"path={directory}/api.sock"]
    if landlock:
        arguments.append("--landlock")
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.perf_counter() + 10
        seen = []
        while time.perf_counter() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            match = first_instruction.match(line)
            if match:
                return float(match.group(1)) * 1000.0
        fail(f"no 'Kernel code 0x41' line within 10 s ({'with' if landlock else 'without'} --landlock):\n" + "".join(seen[-20:]))
    finally:
        stop(process)

with tempfile.TemporaryDirectory(prefix="bench-landlock-") as directory:
    with open(os.path.join(directory, "disk.img"), "wb") as disk:
        disk.truncate(1 << 20)
    boot_once(directory, False)  # warm the page cache for both
    without, with_landlock = [], []
    for i in range(iterations):
        # ABBA order: neither variant always runs first after the other.
        for landlock in ((False, True) if i % 2 == 0 else (True, False)):
            (with_landlock if landlock else without).append(boot_once(directory, landlock))

summary("boot_time_1g_ms", without, measured="VMM start to first guest instruction, without --landlock")
summary("boot_time_1g_landlock_ms", with_landlock, measured=f"VMM start to first guest instruction, with --landlock (Landlock ABI {abi})")
ratio = statistics.median(with_landlock) / statistics.median(without)
print(json.dumps({"name": "landlock_boot_ratio", "value": round(ratio, 3), "unit": "ratio", "target": 1.05,
                  "measured": "median with --landlock / median without", "within_target": ratio <= 1.05}))
# On a busy host the minimum is the figure least disturbed by other load.
best = min(with_landlock) / min(without)
print(json.dumps({"name": "landlock_boot_ratio_min", "value": round(best, 3), "unit": "ratio", "target": 1.05,
                  "measured": "fastest with --landlock / fastest without", "within_target": best <= 1.05}))
PY
