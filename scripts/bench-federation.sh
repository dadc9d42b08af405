#!/bin/sh
# bench-federation.sh: a benchmark, not a test. A federated city on
# loopback (3 nats-server nodes with JetStream, TLS, R3 streams; two
# districts with whistled and whistle-bridge; whistle-router; the hotline's
# event reader), N hotline cases fed through it; prints the routed cases
# per second and the latency from the hotline to the district (its commit,
# what its console shows) and back (tests/bench/federation_bench.py says
# exactly what is measured). docs/federation.md keeps the figures.
#
#   scripts/bench-federation.sh [BUILD_DIR] [N] [RATE]
#       BUILD_DIR  default build (made, optimised, if missing)
#       N          cases (default 2000)
#       RATE       cases offered a second (default 0: as fast as JetStream
#                  acknowledges the feeder's publishes, one at a time)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-2000}
RATE=${3:-0}
command -v nats-server >/dev/null || { echo "bench-federation: nats-server is not installed (scripts/deps.sh)" >&2; exit 1; }
if ! [ -x "$BUILD/whistle-bridge" ] || ! [ -x "$BUILD/whistle-city" ]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target whistled whistle_cli whistle_city whistle_router whistle_bridge >/dev/null
exec python3 tests/bench/federation_bench.py "$BUILD" . --cases "$N" --rate "$RATE"
