#!/usr/bin/env bash
# Builds the static binaries and the guest test kit, then boots the bundled `hello` guest:
# its serial output is printed here and the VMM exits when the guest powers off.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build-guests.sh
scripts/publish.sh

build/bin/cloud-hypervisor --version
exec build/bin/cloud-hypervisor \
  --kernel build/guests/hello \
  --cmdline "demo from cloud-hypervisor-cs" \
  --cpus boot=1 --memory size=128M \
  --serial tty --console off
