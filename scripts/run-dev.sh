#!/bin/sh
# run-dev.sh: what `make run` runs: whistled on the demo city, then
# whistle-gateway beside it (Open311 on https://127.0.0.1:7780/open311/v2/),
# both in the foreground of this terminal. Ctrl-C (or SIGTERM to this
# script) stops both cleanly: each finishes what is in flight.
#
#   scripts/run-dev.sh BUILD_DIR WHISTLED_CONF GATEWAY_CONF
set -eu
build=$1 conf=$2 gwconf=$3
dpid= gpid=
# the gateway first, so that it never sees whistled go away
stop() {
    [ -n "$gpid" ] && { kill -TERM "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; }
    [ -n "$dpid" ] && { kill -TERM "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; }
    gpid= dpid=
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

mkdir -p var/state
rm -f var/whistled.port
"$build/whistled" --config "$conf" --port-file var/whistled.port &
dpid=$!
i=0
while [ ! -s var/whistled.port ]; do
    if ! kill -0 "$dpid" 2>/dev/null; then
        wait "$dpid" || exit $?
        exit 1
    fi
    i=$((i + 1))
    [ $i -gt 600 ] && { echo "run-dev: whistled did not start within 60 s" >&2; exit 1; }
    sleep 0.1
done
"$build/whistle-gateway" --config "$gwconf" &
gpid=$!
# whichever ends first ends the other
while kill -0 "$dpid" 2>/dev/null && kill -0 "$gpid" 2>/dev/null; do
    sleep 0.5
done
stop
