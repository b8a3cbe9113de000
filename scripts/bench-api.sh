#!/usr/bin/env bash
# REST API round-trip latency over the Unix socket (driver: scripts/bench/api-ping, built on demand):
#   api_ping_keepalive        GET /api/v1/vmm.ping, every sample on one kept-alive connection
#   api_ping_new_connection   connect + GET /api/v1/vmm.ping + close, per sample
#   api_vm_info_keepalive     GET /api/v1/vm.info on one connection; only when a VM exists
#                             (give the VM through VMM_ARGS, e.g. VMM_ARGS="--kernel build/guests/x.elf")
# Targets, in this order of preference:
#   SOCKET=/path/api.sock     an API socket that is already being served
#   SELF_HOST=1               the project's HTTP engine in-process with a ping-only handler (no VMM)
#   default                   starts BIN (build/bin/cloud-hypervisor) --api-socket path=<tmp> $VMM_ARGS
# Output: one JSON object per line, in the style of upstream's performance-metrics:
#   {"name":...,"mean":...,"p50":...,"p99":...,"min":...,"max":...,"std_dev":...,"samples":N,"unit":"us"}
# Exit status 1 when the kept-alive ping p50 exceeds TARGET_US (default 100) or the API misbehaves.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
SAMPLES="${SAMPLES:-5000}"
WARMUP="${WARMUP:-500}"
TARGET_US="${TARGET_US:-100}"
DRIVER=build/bench/api-ping/ApiPingBench

if [ ! -x "$DRIVER" ] || [ -n "$(find scripts/bench/api-ping src/CloudHypervisor.Api/Http -newer "$DRIVER" -name '*.cs' -print -quit)" ]; then
  echo "bench-api: building the driver" >&2
  dotnet build scripts/bench/api-ping -c Release -o build/bench/api-ping -nologo -v quiet >&2
fi

common=(--samples "$SAMPLES" --warmup "$WARMUP" --target-us "$TARGET_US")
if [ -n "${SOCKET:-}" ]; then
  exec "$DRIVER" --socket "$SOCKET" "${common[@]}"
fi
if [ "${SELF_HOST:-0}" = 1 ]; then
  exec "$DRIVER" --self-host "${common[@]}"
fi

[ -x "$BIN" ] || { echo "bench-api: $BIN not found; run scripts/publish.sh first (or use SOCKET=... / SELF_HOST=1)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/bench-api.XXXXXX)
vmm_pid=
cleanup() {
  if [ -n "$vmm_pid" ] && kill -0 "$vmm_pid" 2>/dev/null; then
    kill "$vmm_pid" 2>/dev/null || true
    wait "$vmm_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# shellcheck disable=SC2086 # VMM_ARGS is a list of options on purpose.
"$BIN" --api-socket "path=$tmp/api.sock" ${VMM_ARGS:-} >"$tmp/vmm.log" 2>&1 &
vmm_pid=$!
for _ in $(seq 1 500); do
  [ -S "$tmp/api.sock" ] && break
  if ! kill -0 "$vmm_pid" 2>/dev/null; then
    echo "bench-api: $BIN exited before serving the API socket:" >&2
    cat "$tmp/vmm.log" >&2
    exit 1
  fi
  sleep 0.01
done
[ -S "$tmp/api.sock" ] || { echo "bench-api: no API socket after 5 s" >&2; cat "$tmp/vmm.log" >&2; exit 1; }

"$DRIVER" --socket "$tmp/api.sock" "${common[@]}"
