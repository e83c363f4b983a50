#!/bin/sh
# Fails when any C file differs from what .clang-format asks for; prints the offending diffs.
set -eu
root=${1:-.}
cd "$root"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')
[ -n "$files" ] || { echo "no C files found" >&2; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
echo "clang-format: $(echo "$files" | wc -w) files clean"
