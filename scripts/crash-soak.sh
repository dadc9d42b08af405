#!/bin/sh
# crash-soak.sh: the crash test of `make test`, for as long as you like.
#
#   scripts/crash-soak.sh [CYCLES] [crashcheck options...]
#
# Builds whistled and crashcheck (in build/, or $BUILD), makes a PKI for
# the demo principals under $BUILD/soak-pki, and runs crashcheck for CYCLES
# (default 1000) kill/restart cycles, every 10th a SIGTERM: each cycle
# drives load, kills whistled at a random moment, runs whistled --check on
# the store it left, restarts it and reads back every acknowledged write.
# Every 100 cycles it reads everything back once more, stops, checks and
# starts over on an empty store, so that the store (and the time each
# check takes) stays bounded.
# Extra options go to crashcheck (--sync none, --parallel 96, --rng-seed N
# to replay a run, --keep; `crashcheck --help`). Exit 0 when nothing
# acknowledged was lost and every check was clean. docs/reliability.md
# lists the figures of past runs.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
cycles=${1:-1000}
[ $# -gt 0 ] && shift

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target whistled crashcheck >/dev/null
scripts/dev-pki.sh "$BUILD/soak-pki" gridworker operator police urban >/dev/null
exec "$BUILD/tests/crashcheck" --whistled "$BUILD/whistled" --pki "$BUILD/soak-pki" \
    --seed conf/demo-city.json --cycles "$cycles" --term-every 10 --fresh-every 100 "$@"
