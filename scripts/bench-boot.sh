#!/usr/bin/env bash
# Start-up latency of the published cloud-hypervisor binary, two figures:
#   boot_time_1g_ms        VMM start to the guest's first instruction, 1 GiB guest (`halt` test guest, which
#                          writes 0x41 to port 0x80 first thing). Taken from the VMM's own log timestamp on the
#                          "[Debug I/O port: Kernel code 0x41]" line (-v), as upstream's boot-time metric does.
#                          boot_time_1g_wall_ms is the same event seen from outside: spawn to the line arriving.
#                          Target: under 15 ms.
#   api_socket_ready_ms    spawn to the API socket (--api-socket path=...) accepting a connection; reported as
#                          unavailable, with the VMM's own words, when the binary refuses --api-socket.
# Prints one JSON object per figure ({"name","mean","p50","min","max","unit","samples"}).
# Environment: ITERATIONS (default 20), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-build/bin/cloud-hypervisor}"
ITERATIONS="${ITERATIONS:-20}"
[ -x "$BIN" ] || { echo "bench-boot: $BIN not found; run scripts/publish.sh first" >&2; exit 1; }
[ -w /dev/kvm ] || { echo "bench-boot: /dev/kvm is not usable" >&2; exit 1; }
[ -f build/guests/halt ] || { echo "bench-boot: build/guests/halt not found; run scripts/build-guests.sh" >&2; exit 1; }

python3 - "$BIN" "$ITERATIONS" <<'PY'
import json, os, re, socket, subprocess, sys, tempfile, time
sys.path.insert(0, "scripts/bench")
from probe import ProbeError, first_instruction, stop, summary

binary, iterations = sys.argv[1], int(sys.argv[2])

def fail(message):
    print(f"bench-boot: {message}", file=sys.stderr)
    sys.exit(1)

def boot_once():
    try:
        return first_instruction([binary, "-v", "--kernel", "build/guests/halt", "--serial", "null", "--console", "off",
                                  "--memory", "size=1G"])
    except ProbeError as error:
        fail(str(error))

def api_socket_once(path):
    start = time.perf_counter()
    process = subprocess.Popen([binary, "--api-socket", f"path={path}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while time.perf_counter() - start < 10:
            if process.poll() is not None:
                lines = [l.strip() for l in process.stderr.read().splitlines() if l.strip()]
                return None, f"the VMM exited ({process.returncode}) without serving the socket: " + (re.sub(r"^\d+: ", "", lines[-1]) if lines else "no output")
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
                try:
                    client.connect(path)
                    return (time.perf_counter() - start) * 1000.0, None
                except (FileNotFoundError, ConnectionRefusedError):
                    pass
            time.sleep(0.0002)
        return None, "the socket did not accept a connection within 10 s"
    finally:
        stop(process)
        if os.path.exists(path):
            os.unlink(path)

reported, wall = zip(*(boot_once() for _ in range(iterations)))
summary("boot_time_1g_ms", list(reported), "ms", target=15, measured="VMM start to first guest instruction (VMM log timestamp)")
summary("boot_time_1g_wall_ms", list(wall), "ms", measured="spawn to the first-instruction log line arriving")

with tempfile.TemporaryDirectory() as directory:
    path = os.path.join(directory, "api.sock")
    samples = []
    for _ in range(iterations):
        elapsed, reason = api_socket_once(path)
        if reason:
            print(json.dumps({"name": "api_socket_ready_ms", "unavailable": True, "reason": reason}))
            break
        samples.append(elapsed)
    else:
        summary("api_socket_ready_ms", samples, "ms", measured="spawn to the API socket accepting a connection")
PY
