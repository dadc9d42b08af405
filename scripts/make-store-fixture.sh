#!/bin/sh
# Builds a small store with a given whistled (the release whose layout a
# migration test needs), for tests/fixtures: the seed-small city, a few
# cases through report, file, assign, resolve, verify, whistle, check-in
# and feedback, each write with an idempotency key; then a clean stop.
#   scripts/make-store-fixture.sh BUILD_DIR OUT.mdb
# BUILD_DIR holds whistled and whistle of that release. The output is the
# store's data.mdb, compacted (mdb_copy -c).
set -eu
BUILD=$1
OUT=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
"$SRC/scripts/dev-pki.sh" "$T/pki" admin op-jianwai gw-1 police urban >/dev/null
mkdir -p "$T/state"
cat >"$T/whistled.conf" <<CONF
[server]
listen = 127.0.0.1
port = 0
[tls]
ca = $T/pki/ca.crt
cert = $T/pki/server.crt
key = $T/pki/server.key
[store]
dir = $T/state
seed = $SRC/tests/fixtures/seed-small.json
[log]
level = warn
CONF
"$BUILD/whistled" --config "$T/whistled.conf" --port-file "$T/port" 2>"$T/log" &
pid=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
W="$BUILD/whistle --pki $T/pki --port $(cat "$T/port") -q"
G=110105001001001
t1=$($W --as gw-1 report --node $G --category 0101 --contact 13800001234 "a pothole by the gate")
$W --as op-jianwai file "$t1" >/dev/null
$W --as op-jianwai assign "$t1" --to gw-1 >/dev/null
$W --as gw-1 resolve "$t1" "filled it" >/dev/null
$W --as gw-1 verify "$t1" --fail --note "still there" >/dev/null
t2=$($W --as gw-1 report --node $G --category 0101 "a blocked drain")
$W --as op-jianwai file "$t2" >/dev/null
o=$($W --as op-jianwai whistle "$t2" --dept police,urban | head -1)
$W --as police checkin "$o" --note "on the spot" >/dev/null
$W --as police feedback "$o" "cleared the drain" >/dev/null
t3=$($W --as gw-1 report --node $G --category 0101 "a broken lamp")
$W --as op-jianwai reject "$t3" --reason "duplicate of $t1" >/dev/null
kill "$pid"
wait "$pid" 2>/dev/null || true
pid=
mdb_copy -c "$T/state" "$T/copy" 2>/dev/null || { mkdir -p "$T/copy" && mdb_copy -c "$T/state" "$T/copy"; }
cp "$T/copy/data.mdb" "$OUT"
echo "$t1 $t2 $t3"
