#!/bin/sh
# bench-photos.sh: the proof that reports without photos are not slowed
# while photos upload (docs/performance.md, Photos), in one command.
#
# Starts a bench-only whistled (sync = full) on a fresh state directory on
# a free loopback port, then runs
#   whistle-bench --mix --ops report,photo --rounds N
# which, round after round, runs reports alone on half the connections,
# then the same reports while the other half upload photos, and prints
# the reports' rate beside photos against alone (median and range of the
# rounds' ratios), with the load average and the benchmark's own CPU.
# Stops the daemon at the end, whatever happens.
#
# Settings (environment):
#   BENCH_ROUNDS      rounds (5)
#   BENCH_DURATION    seconds of each half of a round (5)
#   BENCH_CONNS       connections, half of them uploading photos (50)
#   BENCH_PHOTO_DIR   [photos] dir: where the photos' files go (default:
#                     beside the store); e.g. a tmpfs, as a control
#   BENCH_INGEST_MIBS [photos] ingest_mib_per_s (default: whistled's)
#   BENCH_OUT         output directory (var/bench-photos)
#   BENCH_PKI         a dev PKI with admin, operator, gridworker (made in
#                     BENCH_OUT/pki if not given)
#   BUILD             build directory with whistled and whistle-bench (build)
set -eu
cd "$(dirname "$0")/.."

ROUNDS=${BENCH_ROUNDS:-5}
DUR=${BENCH_DURATION:-5}
CONNS=${BENCH_CONNS:-50}
OUT=${BENCH_OUT:-var/bench-photos}
BUILD=${BUILD:-build}
prog=bench-photos

die() {
    echo "$prog: $*" >&2
    exit 1
}

[ -x "$BUILD/whistled" ] && [ -x "$BUILD/whistle-bench" ] || die "build first (cmake --build $BUILD)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PKI=${BENCH_PKI:-$OUT/pki}
if ! [ -f "$PKI/clients/operator.crt" ]; then
    echo "$prog: making a dev PKI in $PKI" >&2
    scripts/dev-pki.sh "$PKI" admin operator gridworker d0001 d0002 >/dev/null
fi

W="$OUT/whistled"
rm -rf "$W"
mkdir -p "$W"
scripts/bench-seed.sh 2 >"$W/seed.json"
{
    cat <<EOC
[server]
listen = 127.0.0.1
port = 0
max_in_flight = 64
idle_timeout = 0
[tls]
ca = $PKI/ca.crt
cert = $PKI/server.crt
key = $PKI/server.key
crl = $PKI/crl.pem
[store]
dir = $W/state
sync = full
seed = $W/seed.json
[log]
level = warn
[photos]
EOC
    [ -z "${BENCH_PHOTO_DIR:-}" ] || echo "dir = $BENCH_PHOTO_DIR"
    [ -z "${BENCH_INGEST_MIBS:-}" ] || echo "ingest_mib_per_s = $BENCH_INGEST_MIBS"
} >"$W/whistled.conf"

pid=""
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$BUILD/whistled" --config "$W/whistled.conf" --port-file "$W/port" >"$W/log" 2>&1 &
pid=$!
i=0
while ! [ -s "$W/port" ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || die "whistled did not start in 60 s; see $W/log"
    kill -0 "$pid" 2>/dev/null || die "whistled exited; see $W/log"
    sleep 0.1
done

echo "$prog: $(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -r); $(nproc) cpus; store $(df -T "$W/state" | awk 'NR == 2 { print $2 " on " $1 }'); photos ${BENCH_PHOTO_DIR:-beside the store}; uptime:$(uptime | sed 's/.*load/ load/')"
"$BUILD/whistle-bench" -p "$(cat "$W/port")" --pki "$PKI" --daemon-pid "$pid" -c "$CONNS" -d "$DUR" \
    --mix --ops report,photo --rounds "$ROUNDS" --out "$OUT/result.json"
echo "$prog: uptime at the end:$(uptime | sed 's/.*load/ load/'); the result is in $OUT/result.json"
