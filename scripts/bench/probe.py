"""What the stand-alone benchmark scripts (scripts/bench-*.sh) share: a figure printed in upstream
performance-metrics' shape, stopping a VMM, and the guest's first instruction as the VMM logs it."""
import json
import re
import signal
import statistics
import subprocess
import time

# The `halt` guest writes 0x41 to port 0x80 first thing; cloud-hypervisor -v logs it with its own timestamp.
FIRST_INSTRUCTION = re.compile(r"^cloud-hypervisor:\s+(\d+\.\d+)s: .*\[Debug I/O port: Kernel code 0x41\]")


class ProbeError(Exception):
    pass


def summary(name, samples, unit, **extra):
    """One JSON line: mean, p50, min, max of samples, plus extra fields."""
    ordered = sorted(samples)
    print(json.dumps({"name": name, "mean": round(statistics.mean(samples), 3), "p50": round(statistics.median(samples), 3),
                      "min": round(ordered[0], 3), "max": round(ordered[-1], 3), "unit": unit, "samples": len(samples),
                      **extra}))


def stop(process):
    """SIGTERM, then SIGKILL after 5 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def first_instruction(argv, timeout_s=10):
    """Runs argv (a cloud-hypervisor command line with -v booting the `halt` guest) until its first-instruction
    line; returns (the VMM's own timestamp, spawn to the line arriving), both in ms. ProbeError without it."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        while time.perf_counter() - start < timeout_s:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            match = FIRST_INSTRUCTION.match(line)
            if match:
                return float(match.group(1)) * 1000.0, (time.perf_counter() - start) * 1000.0
        raise ProbeError(f"no 'Kernel code 0x41' line within {timeout_s} s:\n" + "".join(seen[-20:]))
    finally:
        stop(process)
