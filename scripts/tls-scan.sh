#!/bin/sh
# tls-scan.sh: check whistled's TLS listener with testssl.sh, by hand.
#
#   scripts/tls-scan.sh [testssl options...]
#
# Builds whistled (in build/, or $BUILD), makes a dev PKI under
# $BUILD/scan-pki, starts whistled on a free loopback port with a fresh
# store, runs testssl.sh against it (installing the Debian package
# testssl.sh if it is missing), and stops the daemon. Everything stays on
# this machine. The full report goes to $BUILD/tls-scan.log and whistled's
# log (one line per refused handshake: testssl makes hundreds) to
# $BUILD/tls-scan-whistled.log. testssl.sh has no client certificate, so it
# sees what anyone on the network sees: the protocols, ciphers, key
# exchange and certificate offered before the client certificate is
# required. docs/reliability.md has the result of the last run.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

if ! command -v testssl >/dev/null 2>&1; then
    echo "tls-scan: installing testssl.sh" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends testssl.sh >/dev/null
fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target whistled >/dev/null
scripts/dev-pki.sh "$BUILD/scan-pki" admin >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/whistle-tls-scan.XXXXXX")
pki=$PWD/$BUILD/scan-pki
cat >"$work/whistled.conf" <<CONF
[server]
listen = 127.0.0.1
port = 0
[tls]
ca = $pki/ca.crt
cert = $pki/server.crt
key = $pki/server.key
crl = $pki/crl.pem
[store]
dir = $work/state
seed = $PWD/conf/demo-city.json
CONF
"$BUILD/whistled" --config "$work/whistled.conf" --port-file "$work/port" 2>"$BUILD/tls-scan-whistled.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
i=0
while ! [ -s "$work/port" ]; do
    i=$((i + 1))
    [ $i -lt 300 ] || { echo "tls-scan: whistled did not start; see $BUILD/tls-scan-whistled.log" >&2; exit 1; }
    sleep 0.1
done
port=$(cat "$work/port")
echo "tls-scan: testssl.sh against whistled on 127.0.0.1:$port (a few minutes)" >&2
testssl --quiet --color 0 --warnings off --add-ca "$pki/ca.crt" --openssl-timeout 10 "$@" \
    "127.0.0.1:$port" | tee "$BUILD/tls-scan.log"
