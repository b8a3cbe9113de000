#!/usr/bin/env bash
# Builds the guest test kit (test_data/guests) and the raw KVM port-I/O harness
# (test_data/kvm-harness) into build/guests/. Incremental: make skips whatever
# is up to date. Needs only gcc, binutils and make.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$repo_root/build/guests"
mkdir -p "$out"

for tool in gcc ld objcopy nm readelf make; do
    command -v "$tool" >/dev/null || { echo "build-guests: $tool not found (run scripts/install-deps.sh)" >&2; exit 1; }
done

jobs="$(nproc 2>/dev/null || echo 2)"
make -C "$repo_root/test_data/guests" -j"$jobs" --no-print-directory OUT="$out"
make -C "$repo_root/test_data/kvm-harness" --no-print-directory OUT="$out"

echo "build-guests: images in $out:"
for image in hello acpi pci halt iobench serial-echo events numa smp virtio vbench balloon vsock net-mq hello-bzimage kvm-portio; do
    [[ -f "$out/$image" ]] || { echo "build-guests: $out/$image was not built" >&2; exit 1; }
    echo "  $out/$image"
done
