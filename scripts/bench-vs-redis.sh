#!/bin/sh
# bench-vs-redis.sh: whistled measured side by side with Redis on this
# machine, in one run (`make bench`). docs/performance.md explains what is
# measured and records the figures.
#
# Starts, on free loopback ports and with the same dev certificates:
#   - a bench-only whistled (sync = full) on a fresh state directory, seeded
#     with scripts/bench-seed.sh (N departments, one principal each);
#   - redis-server 7 (Debian) with TLS, client certificates required,
#     appendonly yes, appendfsync always;
#   - openssl s_server -rev, the reference for full handshakes;
# then runs whistle-bench against each and prints the summary with the
# targets. Everything it makes is under $BENCH_OUT (var/bench); the
# processes it started are stopped at the end, whatever happens.
#
# Settings (environment):
#   BENCH_DURATION  seconds per measured operation (10)
#   BENCH_ROUNDS    rounds of the two ratio targets, each DURATION/ROUNDS s (5)
#   BENCH_CONNS     load connections (50)
#   BENCH_PIPELINE  operations in flight per connection (1)
#   BENCH_DESKS     subscribed department desks, and departments (1000)
#   BENCH_IDLE      idle connections (10000)
#   BENCH_OUT       output directory (var/bench)
#   BUILD           build directory with whistled and whistle-bench (build)
set -eu
cd "$(dirname "$0")/.."

DUR=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-5}
RDUR=$(awk -v d="$DUR" -v r="$ROUNDS" 'BEGIN { x = d / r; print (x < 1 ? 1 : x) }')
CONNS=${BENCH_CONNS:-50}
PIPE=${BENCH_PIPELINE:-1}
DESKS=${BENCH_DESKS:-1000}
IDLE=${BENCH_IDLE:-10000}
OUT=${BENCH_OUT:-var/bench}
BUILD=${BUILD:-build}
BENCH="$BUILD/whistle-bench"
prog=bench-vs-redis

die() {
    echo "$prog: $*" >&2
    exit 1
}
say() { echo "$prog: $*" >&2; }

[ -x "$BUILD/whistled" ] && [ -x "$BENCH" ] || die "build first: make bench (or cmake --build $BUILD)"
command -v redis-server >/dev/null 2>&1 || die "redis-server not found: run scripts/bench-deps.sh"
command -v openssl >/dev/null 2>&1 || die "openssl not found: run scripts/deps.sh"

# Ten thousand idle connections need as many descriptors, in the daemon
# and in the bench (both inherit this limit).
need=$((IDLE + DESKS + 1000))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$need" ]; then
    die "the hard limit of open files is $hard; $need are needed (raise it: ulimit -Hn, or limits.conf)"
fi
ulimit -n "$need" 2>/dev/null || ulimit -n "$hard"

mkdir -p "$OUT/results"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/results/*.json

pids=""
cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null || true
    done
    for p in $pids; do
        wait "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    while :; do
        p=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
        ss -ltn 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" || {
            echo "$p"
            return
        }
    done
}

# ---------------------------------------------------------------- certificates and seed

PKI="$OUT/pki"
names="admin operator gridworker $(seq -f 'd%04g' 1 "$DESKS" | tr '\n' ' ')"
if ! [ -f "$PKI/.complete-$DESKS" ]; then
    say "making $((DESKS + 3)) certificates in $PKI (once; this takes a while)"
    scripts/dev-pki.sh "$PKI" $names >/dev/null
    touch "$PKI/.complete-$DESKS"
fi
scripts/bench-seed.sh "$DESKS" >"$OUT/seed.json"

# ---------------------------------------------------------------- whistled

W="$OUT/whistled"
rm -rf "$W"
mkdir -p "$W"
cat >"$W/whistled.conf" <<EOF
[server]
listen = 127.0.0.1
port = 0
max_in_flight = 64
max_connections = $((IDLE + DESKS + 500))
idle_timeout = 0
[tls]
ca = $PKI/ca.crt
cert = $PKI/server.crt
key = $PKI/server.key
crl = $PKI/crl.pem
[store]
dir = $W/state
sync = full
seed = $OUT/seed.json
[log]
level = warn
EOF
"$BUILD/whistled" --config "$W/whistled.conf" --port-file "$W/port" >"$W/log" 2>&1 &
WPID=$!
pids="$pids $WPID"
i=0
while ! [ -s "$W/port" ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || die "whistled did not start in 60 s; see $W/log"
    kill -0 $WPID 2>/dev/null || die "whistled exited; see $W/log"
    sleep 0.1
done
WPORT=$(cat "$W/port")

# ---------------------------------------------------------------- redis

R="$OUT/redis"
rm -rf "$R"
mkdir -p "$R"
RPORT=$(free_port)
cat >"$R/redis.conf" <<EOF
bind 127.0.0.1
port 0
tls-port $RPORT
tls-cert-file $PKI/server.crt
tls-key-file $PKI/server.key
tls-ca-cert-file $PKI/ca.crt
tls-auth-clients yes
appendonly yes
appendfsync always
# no background rewrite of the append-only file in the middle of a run: its
# fork and flushes would land on whichever operation runs then
auto-aof-rewrite-percentage 0
save ""
dir $R
maxclients $((IDLE + DESKS + 500))
daemonize no
EOF
redis-server "$R/redis.conf" >"$R/log" 2>&1 &
RPID=$!
pids="$pids $RPID"
i=0
while ! grep -q "Ready to accept connections" "$R/log" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 300 ] || die "redis-server did not start in 30 s; see $R/log"
    kill -0 $RPID 2>/dev/null || die "redis-server exited; see $R/log"
    sleep 0.1
done

# ---------------------------------------------------------------- openssl s_server

S="$OUT/s_server"
mkdir -p "$S"
SPORT=$(free_port)
# The same certificates and client-certificate policy as whistled (required,
# CRL checked), no session tickets (whistled sends none); -rev answers a
# line, so each handshake ends with one round trip, as Hello does.
openssl s_server -accept "127.0.0.1:$SPORT" -cert "$PKI/server.crt" -key "$PKI/server.key" \
    -CAfile "$PKI/ca.crt" -Verify 1 -CRL "$PKI/crl.pem" -crl_check -num_tickets 0 -rev -quiet \
    >"$S/log" 2>&1 </dev/null &
SSPID=$!
pids="$pids $SSPID"
sleep 0.5
kill -0 $SSPID 2>/dev/null || die "openssl s_server exited; see $S/log"

# ---------------------------------------------------------------- runs

load_before=$(cat /proc/loadavg)
say "whistled on port $WPORT (pid $WPID), redis on $RPORT (pid $RPID), s_server on $SPORT; load $load_before"
common="--pki $PKI --json"
run() {
    label=$1
    shift
    say "$label"
    "$BENCH" "$@" $common --label "$label" --out "$OUT/results/$label.json" >/dev/null
}

# Idle connections first, on the daemon as it started: after a load, its
# heap has free memory that new connections reuse, and the growth of its
# resident memory would understate what a connection costs.
run idle idle -n "$IDLE" -p "$WPORT" --daemon-pid "$WPID"
# The two ratio targets in short rounds, whistled and its reference back to
# back, so that a machine whose load drifts weighs on both alike; the
# summary takes the median of the rounds' ratios.
i=1
while [ $i -le "$ROUNDS" ]; do
    run hs-$i-whistle handshake -p "$WPORT" --daemon-pid "$WPID" -d "$RDUR" --threads 2
    run hs-$i-s_server handshake -p "$SPORT" --daemon-pid "$SSPID" -d "$RDUR" --threads 2 --proto echo
    run durable-$i -p "$WPORT" --daemon-pid "$WPID" -c "$CONNS" -P "$PIPE" -d "$RDUR" --ops report
    run durable-$i-redis --target redis -p "$RPORT" --daemon-pid "$RPID" -c "$CONNS" -P "$PIPE" -d "$RDUR" \
        --ops xadd
    i=$((i + 1))
done
run ops -p "$WPORT" --daemon-pid "$WPID" -c "$CONNS" -P "$PIPE" -d "$DUR" --ops report,whistle,checkin,read
run ops-redis --target redis -p "$RPORT" --daemon-pid "$RPID" -c "$CONNS" -P "$PIPE" -d "$DUR" \
    --ops report,whistle,checkin,read
run mix -p "$WPORT" --daemon-pid "$WPID" -c "$CONNS" -P "$PIPE" -d "$DUR" --mix --ops report,whistle,checkin,read
run mix-redis --target redis -p "$RPORT" --daemon-pid "$RPID" -c "$CONNS" -P "$PIPE" -d "$DUR" --mix \
    --ops report,whistle,checkin,read
run push -p "$WPORT" --daemon-pid "$WPID" -c "$CONNS" -P "$PIPE" -d "$DUR" -S "$DESKS" --ops whistle
run push-redis --target redis -p "$RPORT" --daemon-pid "$RPID" -c "$CONNS" -P "$PIPE" -d "$DUR" -S "$DESKS" \
    --ops whistle

load_after=$(cat /proc/loadavg)
{
    echo "whistle-bench, $(date -u '+%Y-%m-%d %H:%M UTC'); load before: $load_before; after: $load_after"
    echo "duration $DUR s per operation ($ROUNDS rounds of $RDUR s for the ratios), $CONNS connections x $PIPE" \
        "in flight, $DESKS desks, $IDLE idle connections"
    echo
    "$BENCH" summary "$OUT"/results/*.json
} | tee "$OUT/summary.txt"
echo
say "results in $OUT/results/*.json, summary in $OUT/summary.txt"
