#!/usr/bin/env bash
# Cost of the sandbox on start-up: VMM start to the guest's first instruction (the `halt` guest's port-0x80 write,
# timestamped by the VMM's own log as scripts/bench-boot.sh does), 1 GiB guest, for
#   --seccomp false            (baseline)
#   --seccomp true             (the default: every thread filtered)
#   --seccomp true --landlock  (when the binary supports Landlock; reported unavailable otherwise)
# Runs are interleaved so load drift on a shared machine hits every configuration alike. Prints one JSON object per
# configuration ({"name","mean","p50","min","max","unit","samples"}) and one per ratio to the baseline's median
# ({"name","ratio","target":1.05}). Environment: ITERATIONS (default 20), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
ITERATIONS="${ITERATIONS:-20}"
[ -x "$BIN" ] || { echo "bench-seccomp: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "bench-seccomp: /dev/kvm is not usable" >&2; exit 1; }
[ -f build/guests/halt ] || { echo "bench-seccomp: build/guests/halt not found; run scripts/build-guests.sh" >&2; exit 1; }

python3 - "$BIN" "$ITERATIONS" <<'PY'
import json, re, signal, statistics, subprocess, sys, time

binary, iterations = sys.argv[1], int(sys.argv[2])
first_instruction = re.compile(r"^cloud-hypervisor:\s+(\d+\.\d+)s: .*\[Debug I/O port: Kernel code 0x41\]")
guest = ["-v", "--kernel", "build/guests/halt", "--serial", "null", "--console", "off", "--memory", "size=1G"]
configurations = {
    "boot_time_1g_seccomp_off_ms": ["--seccomp", "false"],
    "boot_time_1g_seccomp_on_ms": ["--seccomp", "true"],
    "boot_time_1g_seccomp_landlock_ms": ["--seccomp", "true", "--landlock"],
}

def boot_once(extra):
    process = subprocess.Popen([binary, *extra, *guest], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            match = first_instruction.match(line)
            if match:
                return float(match.group(1)) * 1000.0, None
        return None, "".join(seen[-5:]).strip() or f"exited with {process.poll()}"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

samples = {name: [] for name in configurations}
unavailable = {}
for _ in range(iterations):
    for name, extra in configurations.items():
        if name in unavailable:
            continue
        elapsed, reason = boot_once(extra)
        if elapsed is None:
            if name == "boot_time_1g_seccomp_landlock_ms":
                unavailable[name] = reason
                continue
            print(f"bench-seccomp: {name}: no first-instruction line: {reason}", file=sys.stderr)
            sys.exit(1)
        samples[name].append(elapsed)

for name, values in samples.items():
    if name in unavailable:
        print(json.dumps({"name": name, "unavailable": True, "reason": unavailable[name]}))
        continue
    ordered = sorted(values)
    print(json.dumps({"name": name, "mean": round(statistics.mean(values), 3), "p50": round(statistics.median(values), 3),
                      "min": round(ordered[0], 3), "max": round(ordered[-1], 3), "unit": "ms", "samples": len(values),
                      "flags": " ".join(configurations[name])}))

baseline = statistics.median(samples["boot_time_1g_seccomp_off_ms"])
for name in ("boot_time_1g_seccomp_on_ms", "boot_time_1g_seccomp_landlock_ms"):
    if name not in unavailable:
        print(json.dumps({"name": name.replace("_ms", "_ratio"), "ratio": round(statistics.median(samples[name]) / baseline, 3),
                          "target": 1.05, "measured": "median boot-to-first-instruction over the --seccomp false median"}))
PY
