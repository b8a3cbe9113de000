#!/usr/bin/env bash
# Whole-process wall time of the published cloud-hypervisor binary, NativeAOT start-up included:
#   cli_version            `cloud-hypervisor --version` (exit 0)
#   cli_parse_20_options   a 20-option command line that is parsed and validated completely and then
#                          fails on upstream's last validation rule (a --landlock-rules path that does not
#                          exist), so no VM is created. As upstream, /dev/kvm is opened before the VM
#                          configuration is parsed; that open is part of what is timed.
#   spawn_baseline         /bin/true through the same harness: the cost of fork/exec/wait alone.
# Each sample is posix_spawn() to waitpid() with stdout/stderr on /dev/null, after WARMUP unmeasured runs.
# Output: one JSON object per line, in the style of upstream's performance-metrics:
#   {"name":...,"mean":...,"p50":...,"p99":...,"min":...,"max":...,"std_dev":...,"samples":N,"unit":"ms"}
# Exit status 1 when a mean exceeds TARGET_MS (default 5) or the binary does not behave as expected.
set -euo pipefail
BIN="${BIN:-$(dirname "$0")/../build/bin/cloud-hypervisor}"
SAMPLES="${SAMPLES:-300}"
WARMUP="${WARMUP:-20}"
TARGET_MS="${TARGET_MS:-5}"
[ -x "$BIN" ] || { echo "bench-cli: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }

MISSING_RULE=/nonexistent/bench-cli-landlock
ARGS_20=(
  --kernel /nonexistent/vmlinux
  --cmdline "console=ttyS0 root=/dev/vda1 rw"
  --initramfs /nonexistent/initrd
  --cpus "boot=2,max=4,topology=1:2:1:2,affinity=[0@[0-1],1@[0-1]]"
  --memory size=1G,shared=on,hotplug_size=1G
  --disk path=/a,num_queues=2,queue_size=256 path=/b,readonly=on,id=data
  --net tap=t0,mac=12:34:56:78:9a:bc,ip=192.168.1.1,mask=255.255.255.0
  --rng src=/dev/urandom
  --serial tty
  --console off
  --balloon size=128M,deflate_on_oom=on
  --fs tag=fs0,socket=/s
  --pmem file=/p,size=128M
  --vsock cid=3,socket=/v
  --platform num_pci_segments=2
  --pci-segment pci_segment=1,mmio32_aperture_weight=2
  --numa "guest_numa_id=0,cpus=[0-3]"
  --watchdog
  --rate-limit-group id=g,bw_size=1048576,bw_refill_time=100
  --landlock-rules "path=$MISSING_RULE,access=rw"
)

# The timed runs discard output, so check once that each command does what this script claims.
version_out=$("$BIN" --version)
[[ "$version_out" == "cloud-hypervisor "* ]] || { echo "bench-cli: unexpected --version output: $version_out" >&2; exit 1; }
set +e
parse_err=$("$BIN" "${ARGS_20[@]}" 2>&1 >/dev/null)
parse_rc=$?
set -e
expected="Path \"$MISSING_RULE\" provided in landlock-rules does not exist"
if [ "$parse_rc" -ne 1 ] || [[ "$parse_err" != *"$expected"* ]]; then
  echo "bench-cli: the 20-option command line did not end in the expected validation error (exit $parse_rc):" >&2
  echo "$parse_err" >&2
  exit 1
fi

python3 - "$SAMPLES" "$WARMUP" "$TARGET_MS" "$BIN" "${ARGS_20[@]}" <<'PY'
import json, os, statistics, sys, time

samples, warmup, target = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
binary, args_20 = sys.argv[4], sys.argv[5:]
devnull = os.open("/dev/null", os.O_RDWR)
actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]

def measure(argv):
    times = []
    for i in range(warmup + samples):
        start = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        os.waitpid(pid, 0)
        if i >= warmup:
            times.append((time.perf_counter_ns() - start) / 1e6)
    times.sort()
    return times

def percentile(sorted_times, p):
    return sorted_times[min(len(sorted_times) - 1, int(round(p / 100.0 * (len(sorted_times) - 1))))]

failed = False
for name, argv, checked in [
    ("cli_version", [binary, "--version"], True),
    ("cli_parse_20_options", [binary, *args_20], True),
    ("spawn_baseline", ["/bin/true"], False),
]:
    t = measure(argv)
    mean = statistics.mean(t)
    print(json.dumps({
        "name": name, "mean": round(mean, 3), "p50": round(percentile(t, 50), 3), "p99": round(percentile(t, 99), 3),
        "min": round(t[0], 3), "max": round(t[-1], 3), "std_dev": round(statistics.pstdev(t), 3),
        "samples": len(t), "unit": "ms",
    }))
    if checked and mean > target:
        print(f"bench-cli: {name} mean {mean:.3f} ms exceeds the {target} ms target", file=sys.stderr)
        failed = True
sys.exit(1 if failed else 0)
PY
