#!/usr/bin/env bash
# Installs the Debian packages the build, the guest test kit and the tests need.
# Idempotent: does nothing when every package is already installed.
set -euo pipefail

packages=(
  gcc make binutils libc6-dev          # NativeAOT static link, guest kit
  qemu-system-x86                      # side-by-side reference VMM
  acpica-tools                         # iasl: disassembles the VMM's ACPI tables in tests
  dmidecode                            # decodes the VMM's SMBIOS tables in tests
  busybox-static cpio xz-utils zstd    # initramfs and kernel extraction
  file iproute2 procps util-linux      # `file`, network namespaces, TAP, ps
  python3                              # benchmark harnesses (scripts/bench*.sh)
  fio                                  # host-side baseline of the block benchmarks
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
