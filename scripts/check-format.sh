#!/bin/sh
# check-format.sh: the C sources are as clang-format makes them (the
# project's .clang-format). Run by make test as the ctest unit/format;
# lists the files that differ and exits 1. To fix them:
#   scripts/check-format.sh --fix
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || { echo "check-format: clang-format not found: run scripts/deps.sh"; exit 1; }
files=$(git ls-files 'daemon/*.[ch]' 'client/*.[ch]' 'include/*.h' 'tests/*.[ch]' 2>/dev/null ||
    find daemon client include tests -name '*.[ch]')
if [ "${1:-}" = --fix ]; then
    # shellcheck disable=SC2086
    clang-format -i $files
    exit 0
fi
bad=0
for f in $files; do
    if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
        echo "check-format: $f is not formatted (scripts/check-format.sh --fix)"
        bad=$((bad + 1))
    fi
done
if [ "$bad" -gt 0 ]; then
    echo "check-format: FAIL: $bad file(s)"
    exit 1
fi
echo "check-format: $(echo "$files" | wc -w) files formatted"
