#!/bin/sh
# fuzz.sh: build the libFuzzer targets with clang and run them.
#
#   scripts/fuzz.sh short          every target for FUZZ_SECONDS (default 20)
#                                  from the generated seeds: what make test runs
#   scripts/fuzz.sh long [SECONDS] every target for SECONDS (default 3600),
#                                  growing a scratch corpus under build-fuzz/
#
# Crashes are written to build-fuzz/crashes/ and fail the run.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-short}
BUILD=${FUZZ_BUILD:-build-fuzz}

CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWHISTLE_FUZZ=ON \
    -DWHISTLE_TESTS=OFF -DWHISTLE_WERROR=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target fuzz_frame fuzz_request fuzz_seeds >/dev/null
# A valid request of every call, made from the current proto, to start from.
"$BUILD/fuzz_seeds" "$BUILD/seeds"

case "$mode" in
short) secs=${FUZZ_SECONDS:-20} ;;
long) secs=${2:-3600} ;;
*) echo "usage: scripts/fuzz.sh short | long [SECONDS]" >&2; exit 2 ;;
esac

mkdir -p "$BUILD/crashes"
status=0
for t in frame request; do
    seeds=$BUILD/seeds/$t
    work=$BUILD/corpus/$t
    mkdir -p "$work"
    # The seeds stay as they are; new inputs go to the scratch dir, kept
    # between runs so that coverage accumulates.
    out=$("$BUILD/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$BUILD/crashes/$t-" -print_final_stats=1 "$work" "$seeds" 2>&1) || status=1
    execs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
    echo "fuzz: $t: ${execs:-?} executions in ${secs}s$([ $status -ne 0 ] && echo ', FAILED')"
    if [ $status -ne 0 ]; then
        printf '%s\n' "$out" | tail -n 40 >&2
        break
    fi
done
exit $status
