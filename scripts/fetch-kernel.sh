#!/usr/bin/env bash
# Fetches Debian's stock x86-64 kernel and builds a tiny busybox initramfs:
#   vmlinuz            the bzImage
#   vmlinux            the ELF extracted from it (must carry the PVH note)
#   initramfs.cpio.gz  busybox /init that prints a marker line and powers off
#   VERSION            the linux-image package and version
# Cached in ${XDG_CACHE_HOME:-$HOME/.cache}/ch-cs/kernel, linked into build/kernel/.
# Idempotent: does nothing when the cache is complete.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ch-cs/kernel"
out="$repo_root/build/kernel"
files=(vmlinuz vmlinux initramfs.cpio.gz VERSION)

log() { echo "fetch-kernel: $*" >&2; }
fail() { log "$*"; exit 1; }

has_pvh_note() {
    # XEN_ELFNOTE_PHYS32_ENTRY: owner "Xen", type 0x12
    readelf -nW "$1" 2>/dev/null | grep -Eq '^\s*Xen\s+0x[0-9a-f]+\s+.*(0x00000012|PHYS32_ENTRY)'
}

# extract-vmlinux: find a compressed stream's magic inside the bzImage and
# decompress from there until the result is an ELF file.
extract_vmlinux() {
    local image="$1" dest="$2" magic tool offset
    for spec in '28b52ffd:zstd -dcq' 'fd377a585a00:xz -dcq' '1f8b0800:gzip -dcq' '5d000000:xz -dcq --format=lzma'; do
        magic="${spec%%:*}"
        tool="${spec#*:}"
        command -v "${tool%% *}" >/dev/null || continue
        for offset in $(od -An -v -tx1 -w1 "$image" | tr -d ' \n' | grep -ob "$magic" | cut -d: -f1); do
            (( offset % 2 == 0 )) || continue
            tail -c +$((offset / 2 + 1)) "$image" | $tool > "$dest" 2>/dev/null || true
            if [[ "$(head -c 4 "$dest" | od -An -tx1 | tr -d ' ')" == 7f454c46 ]]; then
                log "vmlinux: ${tool%% *} stream at offset $((offset / 2))"
                return 0
            fi
        done
    done
    return 1
}

build_initramfs() {
    local dest="$1" root
    local busybox
    busybox="$(command -v busybox || true)"
    [[ -n "$busybox" ]] && file_is_static "$busybox" || busybox=/bin/busybox
    [[ -x "$busybox" ]] || fail "busybox not found (apt-get install busybox-static)"
    file_is_static "$busybox" || fail "$busybox is not statically linked (apt-get install busybox-static)"
    command -v cpio >/dev/null || fail "cpio not found (apt-get install cpio)"
    root="$(mktemp -d)"
    mkdir -p "$root"/{bin,dev,proc,sys}
    cp "$busybox" "$root/bin/busybox"
    for applet in sh mount echo cat poweroff; do ln -s busybox "$root/bin/$applet"; done
    # The kernel's built-in initramfs already has /dev/console; make one anyway when allowed.
    mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
    cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
echo "initramfs: guest kit init started"
echo "initramfs: cmdline=$(cat /proc/cmdline)"
echo "initramfs: powering off"
poweroff -f
INIT
    chmod 755 "$root/init"
    (cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9n > "$dest"
    rm -rf "$root"
}

file_is_static() {
    ! readelf -lW "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

cache_complete() {
    for f in "${files[@]}"; do [[ -s "$cache/$f" ]] || return 1; done
    has_pvh_note "$cache/vmlinux"
}

if ! cache_complete; then
    mkdir -p "$cache"
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
    package="$(resolve)"
    if [[ -z "$package" ]]; then
        log "resolving linux-image-amd64 needs package lists: running apt-get update"
        apt-get update -qq || fail "apt-get update failed"
        package="$(resolve)"
    fi
    [[ -n "$package" ]] || fail "cannot resolve linux-image-amd64 to a linux-image-*-amd64 package"
    log "downloading $package"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get download -q "$package" >&2) || fail "apt-get download $package failed"
    deb="$(ls "$work"/*.deb)"
    dpkg-deb -x "$deb" "$work/root"
    vmlinuz="$(ls "$work"/root/boot/vmlinuz-* | head -n1)"
    [[ -f "$vmlinuz" ]] || fail "$deb has no /boot/vmlinuz-*"
    cp "$vmlinuz" "$cache/vmlinuz.tmp"
    extract_vmlinux "$cache/vmlinuz.tmp" "$cache/vmlinux.tmp" || fail "no compressed ELF found inside $vmlinuz"
    has_pvh_note "$cache/vmlinux.tmp" || fail "vmlinux has no PVH note (Xen, type 0x12)"
    build_initramfs "$cache/initramfs.cpio.gz.tmp"
    mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
    mv "$cache/vmlinux.tmp" "$cache/vmlinux"
    mv "$cache/initramfs.cpio.gz.tmp" "$cache/initramfs.cpio.gz"
    dpkg-deb -f "$deb" Package Version | tr '\n' ' ' | sed 's/ $/\n/' > "$cache/VERSION"
fi

mkdir -p "$out"
for f in "${files[@]}"; do
    ln -f "$cache/$f" "$out/$f" 2>/dev/null || cp -f "$cache/$f" "$out/$f"
done
log "kernel ($(cat "$cache/VERSION")) in $out: ${files[*]}"
