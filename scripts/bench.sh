#!/usr/bin/env bash
# The performance suite, side by side with QEMU: every figure is measured for the published cloud-hypervisor and
# for Debian's qemu-system-x86_64 (-M microvm, or -M q35 -bios qboot.rom for PCI devices; -cpu host,-arch-capabilities,
# KVM) in the same run, booting the same guest-kit images the same way, alternating the two VMMs iteration by
# iteration.
#
#   binary_size_MiB, binary_size_with_shared_libs_MiB
#   cli_version_ms                     `--version`, spawn to exit
#   api_ping_us                        GET /api/v1/vmm.ping vs QMP query-version, kept-alive Unix socket
#   boot_first_instruction[_N_vcpus]_ms, boot_first_serial_line[_N_vcpus]_ms, boot_time[_N_vcpus]_ms
#                                      `hello` guest, 1 GiB, 1/2/16 vCPUs: spawn to its first port-0x80 write,
#                                      to its first serial line, to the VMM exiting after its ACPI poweroff
#   boot_time_pmem_ms                  boot_time_ms with a 128 MiB virtio-pmem file (QEMU -M q35, virtio-pmem-pci)
#   portio_exit_ns, portio_exit_guest_tsc_cycles   `iobench` guest's ring-3 outb loop (raw KVM shown for reference)
#   vmm_rss_beyond_guest_ram_MiB, vmm_rss_total_MiB idle `halt` guest, 1 GiB
#   block_{read,write,random_read,random_write}_{MiBps,IOPS}
#                                      `vbench` guest on a 512 MiB raw image (QEMU -M q35, virtio-blk-pci), timed
#                                      by the guest; each also as a ratio to fio on the host (psync, same file)
#   virtio_net_throughput_{single,multi}_queue_{tx,rx}_{pps,gbps}
#                                      `vbench` guest on a TAP in a private network namespace (QEMU virtio-net-pci,
#                                      vhost=off); receive is fed by tap-blast (scripts/bench/tap-blast.c); multi:
#                                      two pairs on a multi-queue TAP, driven round robin from one vCPU
#   virtio_net_latency_us              one 64-byte frame's round trip through tap-echo (scripts/bench/tap-echo.c)
#   boot_time_1g_{unconfined,seccomp,landlock,sandboxed}_ms and their *_ratio[_min]
#                                      scripts/bench-sandbox.sh (cloud-hypervisor only): start-up cost of the sandbox
# Metrics not measured yet are listed as {"name", "unavailable": "..."}.
#
# Writes build/bench/report.json (upstream performance-metrics' format: git_human_readable, git_revision,
# git_commit_date, date, results[{name, mean, std_dev, max, min}], each result extended with unit, method, qemu{...}
# and ratio_to_qemu = cloud-hypervisor mean / QEMU mean) and build/bench/report.md, and prints a table.
# Exit status 1 when any benchmark failed to produce its figure. Not part of the CI test run.
#
# Usage: scripts/bench.sh [--no-build] [--iterations N] [--out FILE] [--only TITLE,...]
#   TITLE: binary size, CLI start-up, API round trip, boot, sandbox, port I/O exits, resident memory, block, net
# Each benchmark starts after a sync and a second of rest, so none pays for the previous one's writeback.
# Environment: BIN (cloud-hypervisor), QEMU (qemu-system-x86_64).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
suite_args=()
out=build/bench/report.json
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --iterations) suite_args+=(--iterations "$2"); shift ;;
    --out) out="$2"; shift ;;
    --only) suite_args+=(--only "$2"); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

BIN="${BIN:-build/bin/cloud-hypervisor}"
QEMU="${QEMU:-$(command -v qemu-system-x86_64 || true)}"
command -v python3 >/dev/null || { echo "bench: python3 not found (run scripts/install-deps.sh)" >&2; exit 1; }
if [ -z "$QEMU" ] || [ ! -x "$QEMU" ]; then
  echo "bench: qemu-system-x86_64 not found (run scripts/install-deps.sh)" >&2
  exit 1
fi
[ -w /dev/kvm ] || { echo "bench: /dev/kvm is not usable" >&2; exit 1; }
# QEMU's q35 runs boot qboot (qemu-system-data, a dependency of qemu-system-x86), as microvm does.
[ -f /usr/share/qemu/qboot.rom ] || { echo "bench: /usr/share/qemu/qboot.rom not found (qemu-system-data)" >&2; exit 1; }

if [ "$build" = 1 ]; then
  echo "bench: building the guest kit and publishing the binaries" >&2
  scripts/build-guests.sh >/dev/null
  scripts/publish.sh >&2
fi
[ -x "$BIN" ] || { echo "bench: $BIN not found; run scripts/publish.sh (or drop --no-build)" >&2; exit 1; }
command -v fio >/dev/null || { echo "bench: fio not found (run scripts/install-deps.sh)" >&2; exit 1; }
for image in hello halt iobench kvm-portio vbench; do
  [ -f "build/guests/$image" ] || { echo "bench: build/guests/$image missing; run scripts/build-guests.sh" >&2; exit 1; }
done

exec python3 -B scripts/bench/suite.py --repo "$PWD" --ch "$BIN" --qemu "$QEMU" --guests build/guests --out "$out" \
  "${suite_args[@]}"
