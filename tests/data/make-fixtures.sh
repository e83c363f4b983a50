#!/bin/sh
# Regenerates the domain fixtures in this directory from input/ with the real libvirtd:
# define, dump the inactive XML libvirt produced (addresses exactly as libvirt assigns them),
# undefine. Needs libvirtd (qemu:///system), qemu-system-x86_64 and qemu-system-aarch64.
# Usage: ./make-fixtures.sh [NAME...]   (default: every fixture)
# SK_FIXTURE_URI picks another libvirt URI, SK_FIXTURE_OUT another output directory.
set -eu
cd "$(dirname "$0")"
V="virsh -q -c ${SK_FIXTURE_URI:-qemu:///system}"
OUT=${SK_FIXTURE_OUT:-.}

defined_fixture() { # NAME: define input/NAME.xml, dump, undefine
    name=$1
    dom=skfx-$name
    $V define "input/$name.xml" >/dev/null
    $V dumpxml --inactive "$dom" >"$OUT/$name.xml"
    $V undefine "$dom" >/dev/null
    echo "wrote $name.xml"
}

live_fixture() {
    dom=skfx-q35-live
    $V define input/q35-live.xml >/dev/null
    $V start "$dom" >/dev/null
    # Persistent only: libvirt puts the NIC on the first free root port (bus 3).
    $V attach-device "$dom" input/live-nic-config.xml --config >/dev/null
    # Live only, explicit bus 4: the two definitions now differ.
    $V attach-device "$dom" input/live-nic-live.xml --live >/dev/null
    $V dumpxml "$dom" >"$OUT/q35-live.xml"
    $V dumpxml --inactive "$dom" >"$OUT/q35-live-inactive.xml"
    $V destroy "$dom" >/dev/null
    $V undefine "$dom" >/dev/null
    echo "wrote q35-live.xml q35-live-inactive.xml"
}

all="q35-default q35-cap-spare q35-bare q35-virt-manager q35-legacy-chain q35-hotplug-off q35-full q35-cap
q35-switch q35-dmi q35-root-full virt-aarch64 virt-aarch64-mmio virt-aarch64-mmio-ports
q35-scsi-virtio pc-default pc-noacpi
pc-hotplug-off pc-bridge pc-full q35-live"
for name in ${*:-$all}; do
    case $name in
    q35-live) live_fixture ;;
    *) defined_fixture "$name" ;;
    esac
done
