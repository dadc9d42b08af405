#!/bin/sh
# fuzz.sh: build the libFuzzer targets with clang and run them.
#
#   scripts/fuzz.sh short          every target for FUZZ_SECONDS (default 20)
#                                  from the committed corpus and the generated
#                                  seeds: what make test runs
#   scripts/fuzz.sh long [SECONDS] every target for SECONDS (default 3600),
#                                  growing a scratch corpus under build-fuzz/
#   scripts/fuzz.sh capture        remake the committed corpus: run the
#                                  integration tests with WHISTLE_FUZZ_CAPTURE
#                                  set (every request they send is saved) and
#                                  merge what adds coverage into
#                                  tests/fuzz/corpus/{frame,request}/
#
# Inputs come from three places: tests/fuzz/corpus/ (committed: requests the
# integration tests sent, minimised by coverage), build-fuzz/seeds (a valid
# request of every call, generated from the proto by tests/fuzz/seeds.c, and
# small photos for fuzz_media, made by tests/fuzz/media_seeds.c) and
# build-fuzz/corpus (scratch: what earlier runs found, kept between runs).
# fuzz_media (model/media.c: a photo decoded, stripped and thumbnailed) takes
# inputs up to 64 KiB and runs for FUZZ_MEDIA_SECONDS (default the same as
# the others); fuzz_multipart (whistle-gateway's multipart/form-data parser,
# from tests/fuzz/corpus/multipart) for FUZZ_MULTIPART_SECONDS (default 10).
# Crashes are written to build-fuzz/crashes/ and fail the run; reproduce one
# with build-fuzz/fuzz_<target> build-fuzz/crashes/<file>.
set -eu
cd "$(dirname "$0")/.."
mode=${1:-short}
BUILD=${FUZZ_BUILD:-build-fuzz}

CC=clang cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWHISTLE_FUZZ=ON \
    -DWHISTLE_TESTS=OFF -DWHISTLE_WERROR=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target fuzz_frame fuzz_request fuzz_media fuzz_multipart fuzz_seeds \
    fuzz_media_seeds >/dev/null
# A valid request of every call, made from the current proto, to start from;
# and a few photos.
"$BUILD/fuzz_seeds" "$BUILD/seeds"
"$BUILD/fuzz_media_seeds" "$BUILD/seeds"

case "$mode" in
short) secs=${FUZZ_SECONDS:-20} ;;
long) secs=${2:-3600} ;;
capture)
    TEST_BUILD=${TEST_BUILD:-build-asan}
    cmake -S . -B "$TEST_BUILD" -DCMAKE_BUILD_TYPE=Debug -DWHISTLE_SANITIZE=ON >/dev/null
    cmake --build "$TEST_BUILD" -j "$(nproc)" >/dev/null
    rm -rf "$BUILD/captured"
    WHISTLE_FUZZ_CAPTURE=$PWD/$BUILD/captured ctest --test-dir "$TEST_BUILD" -L integration -E crash \
        -j "$(nproc)" >/dev/null
    for t in frame request; do
        mkdir -p "tests/fuzz/corpus/$t"
        before=$(ls "tests/fuzz/corpus/$t" | wc -l)
        "$BUILD/fuzz_$t" -merge=1 -max_len=65536 -timeout=10 "tests/fuzz/corpus/$t" "$BUILD/captured/$t" \
            >/dev/null 2>&1
        echo "fuzz: $t: $(ls "$BUILD/captured/$t" | wc -l) captured, corpus $before -> $(ls "tests/fuzz/corpus/$t" | wc -l) files"
    done
    exit 0
    ;;
*) echo "usage: scripts/fuzz.sh short | long [SECONDS] | capture" >&2; exit 2 ;;
esac

mkdir -p "$BUILD/crashes"
status=0
for t in frame request media multipart; do
    seeds=$BUILD/seeds/$t
    work=$BUILD/corpus/$t
    corpus=tests/fuzz/corpus/$t
    mkdir -p "$work" "$seeds"
    [ -d "$corpus" ] || corpus=""
    t_secs=$secs
    [ "$t" = media ] && [ "$mode" = short ] && t_secs=${FUZZ_MEDIA_SECONDS:-$secs}
    [ "$t" = multipart ] && [ "$mode" = short ] && t_secs=${FUZZ_MULTIPART_SECONDS:-10}
    # The first directory collects new inputs; the seeds and the committed
    # corpus are read only.
    # shellcheck disable=SC2086
    out=$("$BUILD/fuzz_$t" -max_total_time="$t_secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$BUILD/crashes/$t-" -print_final_stats=1 "$work" "$seeds" $corpus 2>&1) ||
        status=1
    execs=$(printf '%s\n' "$out" | sed -n 's/^stat::number_of_executed_units: *//p')
    cov=$(printf '%s\n' "$out" | sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' | tail -n 1)
    echo "fuzz: $t: ${execs:-?} executions in ${t_secs}s, coverage ${cov:-?} edges$([ $status -ne 0 ] && echo ', FAILED')"
    if [ $status -ne 0 ]; then
        printf '%s\n' "$out" | tail -n 40 >&2
        break
    fi
done
exit $status
