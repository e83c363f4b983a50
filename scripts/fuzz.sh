#!/bin/bash
# Builds the libFuzzer targets (tests/fuzz, meson option -Dfuzzing=true, clang with ASan, UBSan
# and LeakSanitizer) in build-fuzz/ and runs each for SECONDS (default 60), both at once. The
# seed corpus (tests/fuzz/corpus) is copied to a temporary working corpus, so a run never writes
# into the source tree. Exits non-zero on any crash, leak, sanitizer report, timeout or
# out-of-memory; prints the number of executions of each target. On failure the working
# directory (with the crash-* reproducers) is kept and its path printed: reproduce with
#   build-fuzz/tests/fuzz/fuzz-domain CRASH-FILE
#
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail

seconds=${1:-60}
case $seconds in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2 && exit 2 ;;
esac
cd "$(dirname "$0")/.."
root=$(pwd)
build=$root/build-fuzz
targets=(fuzz-domain fuzz-device)

die() {
    echo "fuzz.sh: $*" >&2
    exit 1
}

command -v clang >/dev/null || die "clang is not installed (Debian: clang libclang-rt-14-dev)"
if [ -f "$build/build.ninja" ]; then
    meson setup --reconfigure "$build" -Dfuzzing=true >/dev/null || die "meson setup failed"
else
    CC=clang meson setup "$build" -Dfuzzing=true -Ddaemon=disabled -Dintegration_tests=disabled \
        >/dev/null || die "meson setup failed (see $build/meson-logs/meson-log.txt)"
fi
# Only the fuzz targets: they compile the core sources themselves, with the sanitizers.
ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >/dev/null || die "building the fuzz targets failed"

work=$(mktemp -d "${TMPDIR:-/tmp}/sk-fuzz.XXXXXX")
cp -r "$root/tests/fuzz/corpus/domain" "$work/fuzz-domain"
cp -r "$root/tests/fuzz/corpus/device" "$work/fuzz-device"

# Leaks count as failures (LeakSanitizer, on by default with ASan); UBSan is built with
# -fno-sanitize-recover=all, halt_on_error is belt and braces.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:symbolize=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export SK_TEST_DATA=$root/tests/data

run_target() {
    local name=$1 max_len=$2
    timeout --kill-after=30 $((seconds + 120)) "$build/tests/fuzz/$name" \
        -dict="$root/tests/fuzz/xml.dict" -max_total_time="$seconds" -max_len="$max_len" \
        -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/$name-" \
        "$work/$name" >"$work/$name.log" 2>&1
}

declare -A pids
run_target fuzz-domain 8192 &
pids[fuzz-domain]=$!
run_target fuzz-device 4096 &
pids[fuzz-device]=$!

failed=0
for name in "${targets[@]}"; do
    status=0
    wait "${pids[$name]}" || status=$?
    log=$work/$name.log
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$status" -ne 0 ] ||
        grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log" ||
        [ -z "$runs" ]; then
        echo "fuzz.sh: $name FAILED (exit status $status, ${runs:-?} executions):" >&2
        grep -vE '^#[0-9]+' "$log" | tail -n 60 >&2
        failed=1
    else
        echo "fuzz.sh: $name: ${runs} executions in ${seconds}s, no crash, leak or sanitizer report"
    fi
done
if [ "$failed" -ne 0 ]; then
    echo "fuzz.sh: reproducers and logs kept in $work" >&2
    exit 1
fi
rm -rf "$work"
