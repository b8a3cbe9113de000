#!/usr/bin/env bash
# Whole-process wall time of the published cloud-hypervisor binary for `--version` and for a
# 20-option command line that ends in a validation error (so no VM is started).
# Prints one JSON object per benchmark: {"name":..., "mean":..., "std_dev":..., "max":..., "min":...} in ms.
set -euo pipefail
BIN="${BIN:-$(dirname "$0")/../build/bin/cloud-hypervisor}"
ITERATIONS="${ITERATIONS:-50}"
[ -x "$BIN" ] || { echo "error: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }

# 20 options; the rate-limit group without buckets is a validation error, so nothing starts.
ARGS_20=(--kernel /nonexistent/vmlinux --cmdline "console=ttyS0" --initramfs /nonexistent/initrd
  --cpus boot=2,max=4 --memory size=1G,shared=on --disk path=/a path=/b --net tap=t0,mac=12:34:56:78:9a:bc
  --rng src=/dev/urandom --serial tty --console off --balloon size=128M --fs tag=fs0,socket=/s
  --pmem file=/p --vsock cid=3,socket=/v --platform num_pci_segments=2 --pci-segment pci_segment=1
  --numa guest_numa_id=0 --watchdog --pvpanic --seccomp false --rate-limit-group id=g)

bench() {
  local name="$1"; shift
  python3 - "$name" "$ITERATIONS" "$BIN" "$@" <<'PY'
import json, statistics, subprocess, sys, time
name, iterations, binary, args = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
samples = []
for _ in range(iterations):
    start = time.perf_counter()
    subprocess.run([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples.append((time.perf_counter() - start) * 1000.0)
print(json.dumps({"name": name, "mean": round(statistics.mean(samples), 3), "std_dev": round(statistics.pstdev(samples), 3),
                  "max": round(max(samples), 3), "min": round(min(samples), 3), "iterations": iterations}))
PY
}

bench cli_version --version
bench cli_parse_20_options "${ARGS_20[@]}"
