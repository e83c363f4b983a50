#!/bin/bash
# The whole test suite, as root on Debian 12: prepares the host (packages, libvirtd), builds
# build/ (warnings are errors under CI) and runs there the suites that need no libvirtd plus
# the service under valgrind; builds build-asan/ with ASan+UBSan and runs every other suite
# there (unit, style, cli, install, integration, daemon, cockpit: the service itself runs
# sanitized; cockpit drives the web console page in a real browser);
# builds the Debian package and tests it installed (tests/package/run.sh); then runs the
# fuzzers for a bounded time (SK_FUZZ_SECONDS, default 60, per target).
# The last line is "N passed, N failed, N skipped",
# counted from meson's test logs and the package test's JUnit XML; the exit status is
# non-zero when anything failed.
#
#   scripts/test.sh            (CI=true: integration tests fail instead of skipping)
set -uo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
builds=(build build-asan)
# pytest's JUnit XML of the tests that run outside meson.
junit_logs=(build-deb/test-package.xml)
step_failures=0

note() {
    printf '\n==== %s\n' "$*"
}

fail_step() {
    echo "test.sh: FAILED: $*" >&2
    step_failures=$((step_failures + 1))
}

# "passed failed skipped" of a JUnit XML file: a <testcase> failed when it holds a <failure> or
# an <error> (a fixture's teardown may add one to a passed test), else skipped when it holds a
# <skipped>.
junit_counts() {
    /usr/bin/python3 -c '
import sys
import xml.etree.ElementTree as ET
counts = [0, 0, 0]
for case in ET.parse(sys.argv[1]).iter("testcase"):
    tags = {child.tag for child in case}
    counts[1 if tags & {"failure", "error"} else 2 if "skipped" in tags else 0] += 1
print(*counts)
' "$1"
}

# Meson's testlog.json has one JSON object per test; count the "result" values of all builds,
# and the test cases of the JUnit logs.
summary() {
    local passed=0 failed=0 skipped=0 result dir log
    for dir in "${builds[@]}"; do
        log="$root/$dir/meson-logs/testlog.json"
        [ -f "$log" ] || continue
        while read -r result; do
            case $result in
            OK | EXPECTEDFAIL) passed=$((passed + 1)) ;;
            SKIP) skipped=$((skipped + 1)) ;;
            *) failed=$((failed + 1)) ;;
            esac
        done < <(grep -o '"result": *"[A-Z]*"' "$log" | sed 's/.*"\([A-Z]*\)"$/\1/')
    done
    local counts p f s
    for log in "${junit_logs[@]}"; do
        [ -f "$root/$log" ] || continue
        if ! counts=$(junit_counts "$root/$log"); then
            echo "test.sh: cannot read $log" >&2
            failed=$((failed + 1))
            continue
        fi
        read -r p f s <<<"$counts"
        passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    done
    failed=$((failed + step_failures))
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: run as root (sudo $0): it installs packages and starts libvirtd" >&2
    exit 1
fi

# A stale log from an earlier run must not be counted if this run stops before its tests.
for dir in "${builds[@]}"; do
    rm -f "$root/$dir/meson-logs/testlog.json"
done
for log in "${junit_logs[@]}"; do
    rm -f "$root/$log"
done

integration=auto
if [ -n "${CI:-}" ] && [ "${CI}" != false ]; then
    # Under CI nothing may be skipped for lack of libvirt, QEMU or the Python modules.
    integration=enabled
    export SK_REQUIRE_INTEGRATION=1
fi

# After a failed "meson test": failed tests are counted from the log, but a run that failed
# without logging a failed test (meson itself broke) must count too.
check_log() {
    local log="$root/$1/meson-logs/testlog.json"
    if ! grep -q '"result": *"\(FAIL\|ERROR\|TIMEOUT\|UNEXPECTEDPASS\)"' "$log" 2>/dev/null; then
        fail_step "meson test in $1/"
    fi
}

# After a failed step that writes JUnit XML: as check_log, a failure that no test case records
# (the package did not build, pytest did not start) counts as one.
check_junit() {
    local counts f
    if counts=$(junit_counts "$root/$1" 2>/dev/null); then
        f=$(echo "$counts" | cut -d' ' -f2)
        [ "$f" -gt 0 ] && return
    fi
    fail_step "$2"
}

# configure DIR [meson options...]: set up DIR, or reconfigure it with the same options.
configure() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@"
    else
        meson setup "$dir" "$@"
    fi
}

run_suites() {
    note "host setup"
    if ! scripts/setup-host.sh; then
        fail_step "scripts/setup-host.sh"
        return
    fi

    note "build/: configure and build"
    # -Ddaemon=enabled: a missing libvirt-glib or libsystemd must fail the build, not
    # silently drop slotkeeperd and its tests.
    if ! configure build -Dintegration_tests="$integration" -Ddaemon=enabled ||
        ! meson compile -C build; then
        fail_step "building build/"
        return
    fi
    # The suites that need libvirtd run once, in the sanitizer build below; this build (with
    # the CI warning flags) runs the rest, and the service under valgrind (which cannot run a
    # sanitized binary).
    note "build/: meson test (unit, style, cli, install, valgrind)"
    meson test -C build --no-suite integration --no-suite daemon --no-suite cockpit \
        --print-errorlogs || check_log build

    note "build-asan/: configure and build with -fsanitize=address,undefined"
    if ! configure build-asan -Db_sanitize=address,undefined -Db_lundef=false \
        -Dintegration_tests="$integration" -Ddaemon=enabled || ! meson compile -C build-asan; then
        fail_step "building build-asan/"
        return
    fi
    note "build-asan/: meson test (every suite, the service under ASan/UBSan)"
    # UBSan only prints by default: make each report fail the test that caused it.
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs || check_log build-asan

    note "package: build the .deb, lint, install, smoke test, upgrade, remove, purge"
    # The booting test guest is the one the integration and daemon suites of build-asan/ built.
    # 77: something was skipped (outside CI); the summary counts that from the JUnit XML.
    local status=0
    SK_GUEST_CACHE="$root/build-asan/guest-cache" \
        tests/package/run.sh --junitxml="$root/${junit_logs[0]}" || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
        check_junit "${junit_logs[0]}" "tests/package/run.sh"
    fi

    note "fuzzing: each libFuzzer target for ${SK_FUZZ_SECONDS:-60}s"
    scripts/fuzz.sh "${SK_FUZZ_SECONDS:-60}" || fail_step "scripts/fuzz.sh"
}

run_suites
note "summary"
summary
