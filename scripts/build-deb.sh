#!/bin/bash
# Builds the Debian packages of this tree (debian/): installs the build dependencies that
# debian/control declares if any is missing (apt-get build-dep, as root), copies the tree's
# files (tracked and untracked, not ignored) to build-deb/slotkeeper-VERSION/ and runs
# dpkg-buildpackage there, so the source tree stays clean and the results land in build-deb/.
# Prints the path of the .changes file last.
#
#   scripts/build-deb.sh [--no-deps] [DPKG-BUILDPACKAGE OPTIONS...]   (default: -us -uc)
#
# DEB_BUILD_OPTIONS is passed on (parallel=N defaults to the number of CPUs; nocheck skips
# the build-time tests).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/build-deb
install_deps=true

die() {
    echo "build-deb: error: $*" >&2
    exit 1
}

if [ "${1:-}" = --no-deps ]; then
    install_deps=false
    shift
fi
if [ $# -eq 0 ]; then
    set -- -us -uc
fi

for tool in dpkg-buildpackage dpkg-parsechangelog dh; do
    command -v "$tool" >/dev/null ||
        die "$tool not found (apt-get install dpkg-dev debhelper, or run as root: this" \
            "script installs them with the other build dependencies)"
done
[ -f debian/control ] || die "no debian/control in $root"

version=$(dpkg-parsechangelog -S Version)
src=$out/slotkeeper-$version

# A fresh copy: nothing of an earlier build or of a build/ directory gets into the package.
rm -rf "$out"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Files deleted in the work tree but still in the index are skipped (with a warning).
    git ls-files -z --cached --others --exclude-standard |
        tar --null --files-from=- --ignore-failed-read -cf - | tar -xf - -C "$src"
else
    tar --exclude='./build*' --exclude=./.git -cf - . | tar -xf - -C "$src"
fi

cd "$src"
if ! dpkg-checkbuilddeps >/dev/null 2>&1; then
    if ! $install_deps; then
        dpkg-checkbuilddeps || true
        die "build dependencies are missing (run without --no-deps as root to install them)"
    fi
    [ "$(id -u)" -eq 0 ] ||
        die "build dependencies are missing: run as root, or 'sudo apt-get build-dep $root'"
    echo "build-deb: installing the build dependencies"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 build-dep -y -q ./
fi

case " ${DEB_BUILD_OPTIONS:-} " in
*" parallel="*) ;;
*) export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc)" ;;
esac

dpkg-buildpackage "$@"
changes=$(ls "$out"/slotkeeper_"$version"_*.changes 2>/dev/null | head -n 1)
[ -n "$changes" ] || die "dpkg-buildpackage left no .changes file in $out"
echo "$changes"
