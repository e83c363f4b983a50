#!/bin/sh
# Fails when any C file differs from what .clang-format asks for (prints the offending diffs)
# or has a line over 100 columns.
set -eu
root=${1:-.}
cd "$root"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find src tests bench -name '*.[ch]')
[ -n "$files" ] || { echo "no C files found" >&2; exit 1; }
# shellcheck disable=SC2086
clang-format --dry-run --Werror $files
# clang-format leaves long comments and strings alone; the limit holds for them too.
# shellcheck disable=SC2086
long=$(awk 'length > 100 { print FILENAME ":" FNR ": " length " columns" }' $files)
if [ -n "$long" ]; then
    echo "$long" >&2
    echo "lines over 100 columns (the limit in .clang-format)" >&2
    exit 1
fi
echo "clang-format: $(echo "$files" | wc -w) files clean"
