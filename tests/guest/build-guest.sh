#!/bin/bash
# Builds the tiny test guest used by the integration tests: Debian's cloud kernel (downloaded
# and unpacked, not installed) plus a busybox initramfs whose /init reports the guest's PCI
# devices on the serial console whenever they change. Idempotent; prints the cache directory.
#
#   tests/guest/build-guest.sh [CACHE_DIR]     (default: $SK_GUEST_CACHE, else build/guest-cache)
#
# Output: CACHE_DIR/vmlinuz and CACHE_DIR/initrd.img (+ CACHE_DIR/kernel-version).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${1:-${SK_GUEST_CACHE:-$root/build/guest-cache}}
busybox=${BUSYBOX:-/bin/busybox}

die() {
    echo "build-guest: $*" >&2
    exit 1
}

mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

if [ -s "$cache/vmlinuz" ] && [ -s "$cache/initrd.img" ] &&
    [ "$cache/initrd.img" -nt "$here/init" ] && [ "$cache/initrd.img" -nt "$0" ]; then
    echo "$cache"
    exit 0
fi

[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
# A dynamically linked busybox would need its libraries in the initramfs too.
if file "$busybox" 2>/dev/null | grep -q 'dynamically linked'; then
    die "$busybox is dynamically linked; install busybox-static"
fi
for tool in apt-get apt-cache dpkg-deb cpio gzip; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

# linux-image-cloud-amd64 is a metapackage; the kernel is in the package it depends on.
meta=linux-image-cloud-amd64
resolve() {
    apt-cache depends "$meta" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}'
}
pkg=$(resolve)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
    # Images often ship without package lists.
    apt-get update -q >&2 || true
    pkg=$(resolve)
fi
[ -n "$pkg" ] || die "cannot resolve $meta (run apt-get update first)"

work="$cache/work"
rm -rf "$work"
mkdir -p "$work/dl" "$work/kernel" "$work/initramfs"
deb=$(ls "$cache"/"$pkg"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
    echo "build-guest: downloading $pkg" >&2
    # Let apt's sandbox user write there (otherwise apt warns and downloads as root).
    if id _apt >/dev/null 2>&1; then chown _apt "$work/dl"; fi
    (cd "$work/dl" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
    mv "$work/dl"/"$pkg"_*.deb "$cache/"
    deb=$(ls "$cache"/"$pkg"_*.deb | head -n 1)
fi
dpkg-deb -x "$deb" "$work/kernel"

vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)
config=$(ls "$work"/kernel/boot/config-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
[ -s "$vmlinuz" ] || die "no kernel image in $deb"

# The test only needs hotplugged devices to show up in sysfs, which needs PCIe native hotplug
# (root ports), SHPC/ACPI hotplug (pcie-to-pci-bridge) and nothing else - no drivers.
modules=()
# (Debian's cloud kernel has no SHPC; q35's bridges use ACPI hotplug.)
for opt in CONFIG_HOTPLUG_PCI CONFIG_HOTPLUG_PCI_PCIE CONFIG_HOTPLUG_PCI_ACPI; do
    val=$(sed -n "s/^$opt=//p" "$config")
    case "$val" in
    y) ;;
    m)
        case $opt in
        CONFIG_HOTPLUG_PCI_ACPI) modules+=(acpiphp) ;;
        *) modules+=(pciehp) ;;
        esac
        ;;
    *) echo "build-guest: warning: $opt is '${val:-unset}' in $kver" >&2 ;;
    esac
done

ird="$work/initramfs"
mkdir -p "$ird"/{bin,sbin,proc,sys,dev,tmp,lib/modules}
cp "$busybox" "$ird/bin/busybox"
install -m 0755 "$here/init" "$ird/init"
for mod in "${modules[@]}"; do
    path=$(find "$work/kernel/lib/modules/$kver" -name "$mod.ko*" | head -n 1)
    [ -n "$path" ] || die "module $mod not found in $pkg"
    cp "$path" "$ird/lib/modules/"
done

(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 | gzip -9) \
    >"$work/initrd.img"
cp "$vmlinuz" "$work/vmlinuz"
chmod 0644 "$work/vmlinuz" "$work/initrd.img"
mv "$work/vmlinuz" "$cache/vmlinuz"
mv "$work/initrd.img" "$cache/initrd.img"
echo "$kver" >"$cache/kernel-version"
rm -rf "$work"
echo "$cache"
