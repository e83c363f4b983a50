#!/bin/bash
# Prepares a Debian 12 host for building and testing slotkeeper: installs the missing build and
# test packages and, unless --packages-only, starts virtlogd + libvirtd when none is running
# (no systemd needed) and waits until qemu:///system answers. Idempotent; run as root.
#
#   scripts/setup-host.sh [--packages-only | --no-packages] [--timeout SECONDS]
#
# --no-packages only starts libvirtd (the autopkgtest of debian/tests installs its own).
set -euo pipefail

build_packages=(
    meson ninja-build pkg-config gcc libglib2.0-dev libvirt-dev libxml2-dev libjson-glib-dev
    libsystemd-dev libvirt-glib-1.0-dev clang-format libpolkit-gobject-1-dev libdbus-1-dev
    clang libclang-rt-14-dev valgrind
)
runtime_packages=(
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients
    qemu-system-x86 qemu-system-arm qemu-utils virtinst python3-libvirt python3-gi
    python3-pytest python3-lxml dbus busybox-static cpio polkitd
)
# Building, linting and testing the Debian package (scripts/build-deb.sh, tests/package);
# its other build dependencies are in build_packages (debian/control has the list).
package_build_packages=(debhelper dpkg-dev lintian)
# The Cockpit page's browser test (tests/cockpit): a real web console (cockpit-ws + bridge,
# cockpit-system for the shell whose menu lists the page, cockpit-machines whose "Virtual
# machines" entry it follows) and Debian's chromium, which playwright-core (npm, installed by
# the test from tests/cockpit/package-lock.json) drives. scripts/run.sh serves the page with
# the same cockpit-ws and checks it with curl. The page's unit tests (tests/cockpit/unit) need
# only node (below).
cockpit_packages=(
    cockpit-ws cockpit-bridge cockpit-system cockpit-machines chromium curl
)
uri=qemu:///system
packages_only=false
packages=true
timeout=120

usage() {
    sed -n '2,8s/^# \{0,1\}//p' "$0"
}

while [ $# -gt 0 ]; do
    case $1 in
    --packages-only) packages_only=true ;;
    --no-packages) packages=false ;;
    --timeout)
        timeout=${2:?--timeout needs a value}
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "setup-host: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
    esac
    shift
done

say() {
    echo "setup-host: $*"
}

die() {
    echo "setup-host: error: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (sudo $0)"

missing_packages() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
        [ "${status:0:2}" = ii ] || echo "$pkg"
    done
}

install_packages() {
    local missing
    local all=("${build_packages[@]}" "${runtime_packages[@]}" "${package_build_packages[@]}"
        "${cockpit_packages[@]}")
    # Node.js (>= 20) and npm come with the machine; Debian's own are the fallback (nodejs 18
    # runs the page's unit tests, node --test; the browser test's playwright-core wants 20).
    command -v node >/dev/null || all+=(nodejs)
    command -v npm >/dev/null || all+=(npm)
    mapfile -t missing < <(missing_packages "${all[@]}")
    if [ ${#missing[@]} -eq 0 ]; then
        say "all packages present"
        return
    fi
    command -v apt-get >/dev/null || die "apt-get not found: this script expects Debian 12"
    export DEBIAN_FRONTEND=noninteractive
    # Keep existing conffiles: a hand-written /etc/libvirt/qemu.conf otherwise stops
    # libvirt-daemon-system's postinst at a prompt (and a half-configured dpkg blocks apt).
    local dpkg_opts=(-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    dpkg --force-confdef --force-confold --configure -a
    say "installing: ${missing[*]}"
    apt-get update -q
    apt-get install -y -q "${dpkg_opts[@]}" "${missing[@]}"
    mapfile -t missing < <(missing_packages "${all[@]}")
    [ ${#missing[@]} -eq 0 ] || die "still not installed: ${missing[*]}"
}

libvirt_answers() {
    timeout 10 virsh -c "$uri" version >/dev/null 2>&1
}

running() {
    pgrep -x "$1" >/dev/null 2>&1
}

# libvirt probes QEMU's capabilities with CAP_DAC_OVERRIDE (so the probe sees KVM) but later
# checks /dev/kvm as the QEMU user; when that user cannot open it (root-only /dev/kvm, as on
# hosts without udev), every API call that needs the capabilities re-probes QEMU, which
# makes each define take seconds to minutes. Give /dev/kvm the owner udev would give it.
fix_kvm_access() {
    [ -c /dev/kvm ] || return 0
    getent group kvm >/dev/null || return 0
    id libvirt-qemu >/dev/null 2>&1 || return 0
    if setpriv --reuid=libvirt-qemu --regid=kvm --init-groups test -r /dev/kvm -a -w /dev/kvm \
        2>/dev/null; then
        return 0
    fi
    say "giving group kvm access to /dev/kvm (as udev would), so libvirt's QEMU" \
        "capability cache stays valid"
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
}

# Starts "$1 -d" detached from every descriptor of ours (a CI runner waiting for its pipes to
# close must not wait for the daemon); early errors go to /var/log/libvirt/$1.stderr.
start_daemon() {
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
        done
        exec "$1" -d </dev/null >/dev/null 2>>"/var/log/libvirt/$1.stderr"
    ) || die "$1 -d failed (see /var/log/libvirt/$1.stderr)"
}

start_libvirtd() {
    fix_kvm_access
    if libvirt_answers; then
        say "libvirtd already answers on $uri"
        return
    fi
    # libvirtd's QEMU driver refuses to start without the user QEMU runs as.
    id libvirt-qemu >/dev/null 2>&1 ||
        die "user libvirt-qemu is missing (reinstall libvirt-daemon-system)"
    if [ -d /run/systemd/system ]; then
        say "starting virtlogd and libvirtd with systemctl"
        systemctl start virtlogd.socket libvirtd.socket libvirtd.service ||
            die "systemctl could not start libvirtd (see: journalctl -u libvirtd)"
    else
        mkdir -p /var/log/libvirt /var/run/libvirt
        if ! running virtlogd; then
            say "starting virtlogd"
            start_daemon virtlogd
        fi
        if ! running libvirtd; then
            say "starting libvirtd"
            start_daemon libvirtd
        fi
    fi
    say "waiting up to ${timeout}s for $uri"
    local deadline=$((SECONDS + timeout))
    until libvirt_answers; do
        if [ $SECONDS -ge $deadline ] ||
            { [ ! -d /run/systemd/system ] && ! running libvirtd; }; then
            echo "setup-host: last lines of /var/log/libvirt/libvirtd.log:" >&2
            tail -n 20 /var/log/libvirt/libvirtd.log >&2 2>/dev/null || true
            die "libvirtd did not answer on $uri within ${timeout}s"
        fi
        sleep 1
    done
    say "libvirtd answers on $uri"
}

if $packages; then
    install_packages
fi
if ! $packages_only; then
    start_libvirtd
fi
