#!/bin/sh
# Runs the README's walk-through verbatim against a real whistled, so the
# README cannot drift from what the programs do.
#
# The daemon runs on a free port with a fresh state and the fixture PKI;
# WHISTLE_PORT and WHISTLE_PKI point the README's commands at it. The
# shell blocks after "**Terminal 3**" are taken from README.md as written,
# and run with `set -e`: any command that fails fails the test. Terminal
# 2's `watch` runs in the background and must print the police order.
#
# usage: readme_walkthrough.sh SOURCE_DIR BUILD_DIR PKI_DIR
set -eu
src=$1 build=$2 pki=$3
# The README shows the commands' English output: the programs speak the
# locale's language (docs/i18n.md), so the walk-through runs in C.UTF-8
# whatever the machine's session says.
export LC_ALL=C.UTF-8
unset LANGUAGE LC_MESSAGES
tmp=$(mktemp -d /tmp/whistle-readme-XXXXXX)
daemon=
watcher=
cleanup() {
    [ -n "$watcher" ] && kill "$watcher" 2>/dev/null || true
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The demo principals' certificates (idempotent; shared with the C tests).
"$src/scripts/dev-pki.sh" "$pki" >/dev/null

cat >"$tmp/whistled.conf" <<CONF
[server]
listen = 127.0.0.1
port = 0
[tls]
ca = $pki/ca.crt
cert = $pki/server.crt
key = $pki/server.key
[store]
dir = $tmp/state
seed = $src/conf/demo-city.json
CONF
"$build/whistled" --config "$tmp/whistled.conf" --port-file "$tmp/port" 2>"$tmp/whistled.log" &
daemon=$!
i=0
while [ ! -s "$tmp/port" ]; do
    i=$((i + 1))
    [ $i -gt 300 ] && { cat "$tmp/whistled.log" >&2; echo "whistled did not start" >&2; exit 1; }
    sleep 0.1
done
export WHISTLE_PORT=$(cat "$tmp/port") WHISTLE_PKI="$pki" WHISTLE_HOST=127.0.0.1

# The README runs from the repo root, with the binaries in build/.
mkdir -p "$tmp/repo"
ln -s "$build" "$tmp/repo/build"
cd "$tmp/repo"

# Terminal 2, as written in the README.
t2=$(awk '/^\*\*Terminal 2\*\*/ {f=1} f && /^```sh$/ {g=1; next} g && /^```$/ {exit} g' "$src/README.md")
[ -n "$t2" ] || { echo "README: no Terminal 2 block" >&2; exit 1; }
sh -c "$t2" >"$tmp/watch.out" 2>&1 &
watcher=$!

# Terminal 3: every sh block from the heading to the end of the section.
awk '/^\*\*Terminal 3\*\*/ {f=1} /^## / && f && seen {exit} f && /^```sh$/ {g=1; seen=1; next} g && /^```$/ {g=0; next} g' \
    "$src/README.md" >"$tmp/t3.sh"
[ -s "$tmp/t3.sh" ] || { echo "README: no Terminal 3 blocks" >&2; exit 1; }
echo "--- running the README's Terminal 3 commands:" >&2
cat "$tmp/t3.sh" >&2
sh -e "$tmp/t3.sh" >"$tmp/t3.out" 2>&1 || {
    cat "$tmp/t3.out" >&2
    echo "FAIL: a README command failed (output above)" >&2
    exit 1
}
cat "$tmp/t3.out"
grep -q "closed" "$tmp/t3.out" || { echo "FAIL: the case did not end closed" >&2; exit 1; }

# The police desk saw its order pushed.
i=0
until grep -q "dispatch" "$tmp/watch.out"; do
    i=$((i + 1))
    [ $i -gt 100 ] && { cat "$tmp/watch.out" >&2; echo "FAIL: watch never showed the dispatch order" >&2; exit 1; }
    sleep 0.1
done
echo "1 passed, 0 failed"
