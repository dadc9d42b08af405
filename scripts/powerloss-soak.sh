#!/bin/sh
# powerloss-soak.sh: the power-loss test of `make test`, for as long as you like.
#
#   scripts/powerloss-soak.sh [CYCLES] [crashcheck options...]
#
# Builds whistled, crashcheck, plshim.so and plrestore (in build-soak/, or
# $BUILD: an optimised build without sanitizers, so nothing but the shim
# goes in LD_PRELOAD), makes a PKI for the demo principals under
# $BUILD/soak-pki, and runs crashcheck --power-loss for CYCLES (default
# 1000) cycles, every 10th a SIGTERM: each cycle drives load, kills
# whistled at a random moment, takes away every change to the store that
# no flush covered (on odd cycles each unflushed page survives with the
# --keep-chance, 50 by default), runs whistled --check on what is left,
# restarts it and reads back every acknowledged write. Every 100 cycles it
# reads everything back once more, stops, checks and starts over on an
# empty store. Extra options go to crashcheck (--keep-chance N,
# --parallel 96, --rng-seed N to replay a run, --keep; `crashcheck
# --help`). Exit 0 when nothing acknowledged was lost and every check was
# clean. docs/reliability.md ("Power loss") lists the figures of past runs.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-soak}
cycles=${1:-1000}
[ $# -gt 0 ] && shift

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWHISTLE_TESTS=ON -DWHISTLE_SANITIZE=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target whistled crashcheck plshim plrestore >/dev/null
scripts/dev-pki.sh "$BUILD/soak-pki" gridworker operator police urban >/dev/null
exec "$BUILD/tests/crashcheck" --whistled "$BUILD/whistled" --pki "$BUILD/soak-pki" \
    --seed conf/demo-city.json --cycles "$cycles" --term-every 10 --fresh-every 100 \
    --power-loss "$BUILD/tests/plshim.so" --restore "$BUILD/tests/plrestore" --keep-chance 50 "$@"
