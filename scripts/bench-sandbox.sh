#!/usr/bin/env bash
# Cost of the sandbox on start-up: VMM start to the guest's first instruction (the `halt` guest writes 0x41 to port
# 0x80 first thing; the time is the VMM's own log timestamp on its "[Debug I/O port: Kernel code 0x41]" line, -v,
# as scripts/bench-boot.sh takes it), 1 GiB guest with a 1 MiB raw disk, a file serial port, an event monitor and
# the API socket (so the Landlock ruleset has real paths in it), for
#   boot_time_1g_unconfined_ms     --seccomp false
#   boot_time_1g_seccomp_ms        --seccomp true (the default: every thread filtered)
#   boot_time_1g_landlock_ms       --seccomp false --landlock
#   boot_time_1g_sandboxed_ms      --seccomp true --landlock
# and each one's ratio to the unconfined median (`*_ratio`, target 1.05) and fastest-to-fastest (`*_ratio_min`,
# the figure least disturbed by other load on a shared host). Runs are interleaved, the order rotating every
# iteration, so host drift hits every configuration alike. Landlock rows are reported unavailable when the host
# kernel has no Landlock. Prints one JSON object per figure. Environment: ITERATIONS (default 40: the ratios are
# of medians of ~7 ms boots that vary by about a millisecond), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
ITERATIONS="${ITERATIONS:-40}"
[ -x "$BIN" ] || { echo "bench-sandbox: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "bench-sandbox: /dev/kvm is not usable" >&2; exit 1; }
[ -f build/guests/halt ] || { echo "bench-sandbox: build/guests/halt not found; run scripts/build-guests.sh" >&2; exit 1; }

python3 - "$BIN" "$ITERATIONS" <<'PY'
import ctypes, json, os, statistics, sys, tempfile
sys.path.insert(0, "scripts/bench")
from probe import ProbeError, first_instruction, summary

binary, iterations = sys.argv[1], int(sys.argv[2])
configurations = {
    "boot_time_1g_unconfined_ms": ["--seccomp", "false"],
    "boot_time_1g_seccomp_ms": ["--seccomp", "true"],
    "boot_time_1g_landlock_ms": ["--seccomp", "false", "--landlock"],
    "boot_time_1g_sandboxed_ms": ["--seccomp", "true", "--landlock"],
}
landlock_abi = ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1)
unavailable = {}
if landlock_abi < 1:
    for name, flags in configurations.items():
        if "--landlock" in flags:
            unavailable[name] = f"the host kernel offers no Landlock (errno {ctypes.get_errno()})"

def fail(message):
    print(f"bench-sandbox: {message}", file=sys.stderr)
    sys.exit(1)

def boot_once(directory, flags):
    for name in ("api.sock", "api.sock.lock"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            os.unlink(path)
    try:
        reported, _ = first_instruction([
            binary, "-v", *flags, "--kernel", "build/guests/halt", "--console", "off", "--memory", "size=1G",
            "--serial", f"file={directory}/serial.log", "--disk", f"path={directory}/disk.img,image_type=raw",
            "--event-monitor", f"path={directory}/events.json", "--api-socket", f"path={directory}/api.sock"])
        return reported
    except ProbeError as error:
        fail(f"{' '.join(flags)}: {error}")

names = [name for name in configurations if name not in unavailable]
samples = {name: [] for name in names}
with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as directory:
    with open(os.path.join(directory, "disk.img"), "wb") as disk:
        disk.truncate(1 << 20)
    boot_once(directory, configurations[names[0]])  # warm the page cache for everyone
    for i in range(iterations):
        rotated = names[i % len(names):] + names[:i % len(names)]
        for name in rotated:
            samples[name].append(boot_once(directory, configurations[name]))

for name in configurations:
    if name in unavailable:
        print(json.dumps({"name": name, "unavailable": unavailable[name]}))
        continue
    summary(name, samples[name], "ms", flags=" ".join(configurations[name]), values=[round(v, 3) for v in samples[name]])

baseline = samples["boot_time_1g_unconfined_ms"]
for name in names[1:]:
    median_ratio = statistics.median(samples[name]) / statistics.median(baseline)
    fastest_ratio = min(samples[name]) / min(baseline)
    stem = name.replace("_ms", "")
    print(json.dumps({"name": f"{stem}_ratio", "value": round(median_ratio, 3), "unit": "ratio", "target": 1.05,
                      "within_target": median_ratio <= 1.05, "measured": "median over the unconfined median"}))
    print(json.dumps({"name": f"{stem}_ratio_min", "value": round(fastest_ratio, 3), "unit": "ratio", "target": 1.05,
                      "within_target": fastest_ratio <= 1.05, "measured": "fastest over the unconfined fastest"}))
PY
