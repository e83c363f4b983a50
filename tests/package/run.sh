#!/bin/bash
# The installed-package test (tests/package/test_package.py): builds the Debian package with
# scripts/build-deb.sh into build-deb/, then lints, installs, smoke-tests against the real
# libvirtd (D-Bus activation, slotkeeper list, one hotplug into the booted test guest),
# reinstalls, upgrades, removes and purges it. As root, with libvirtd running
# (scripts/setup-host.sh). It installs a package that manages libvirt guests and boots one:
# on a shared host, run it under flock /tmp/sk-libvirt.lock.
#
#   tests/package/run.sh [--no-build | --installed] [PYTEST ARGS...]
#
#   --no-build    use the package already in build-deb/
#   --installed   only the smoke tests, on the package installed on this host (autopkgtest)
#
# Without systemd running a system bus, pytest runs in a private mount namespace where the
# test starts Debian's system bus on a tmpfs over /run/dbus (see test_package.py). Exit status:
# pytest's, 77 when something was skipped (outside CI) and nothing failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=build

die() {
    echo "package test: error: $*" >&2
    exit 1
}

case "${1:-}" in
--no-build)
    mode=prebuilt
    shift
    ;;
--installed)
    mode=installed
    shift
    ;;
esac

[ "$(id -u)" -eq 0 ] || die "run as root: the test installs and purges the package"

# As meson runs the other suites (tests/pytest.ini puts tests/lib on the path); -rA: the output
# of passed tests too (lintian's informational tags, slotkeeper list).
pytest_args=(-c "$root/tests/pytest.ini" --rootdir "$root/tests" -v -rA --durations=0)
case $mode in
build)
    "$root/scripts/build-deb.sh" || die "building the package failed"
    export SK_DEB_DIR="$root/build-deb"
    ;;
prebuilt)
    export SK_DEB_DIR="$root/build-deb"
    ;;
installed)
    unset SK_DEB_DIR
    pytest_args+=(-k smoke)
    ;;
esac

export PYTHONDONTWRITEBYTECODE=1
export SK_SOURCE_ROOT="$root"
cmd=(/usr/bin/python3 -m pytest "${pytest_args[@]}" "$here/test_package.py" "$@")
if [ -d /run/systemd/system ] && [ -S /run/dbus/system_bus_socket ]; then
    exec "${cmd[@]}"
fi
command -v unshare >/dev/null || die "unshare (util-linux) is needed to start a private system bus"
# The test mounts over /run/dbus only when it runs in another mount namespace than this one.
SK_PACKAGE_HOST_MNT_NS=$(readlink /proc/self/ns/mnt)
export SK_PACKAGE_HOST_MNT_NS
exec unshare --mount --propagation private "${cmd[@]}"
