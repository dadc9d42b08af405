#!/bin/sh
# open311_doc.sh: the curl examples of docs/open311.md, run as written
# against a real whistled and whistle-gateway configured as `make run`
# configures them (conf/whistle-gateway-dev.conf, the demo city), so that
# the page cannot drift from what the gateway does.
#
# Only the ports differ: both programs take free ones, and the examples'
# https://127.0.0.1:7780 is pointed at the gateway's. The examples run
# from a directory whose var/pki is the fixture PKI, as the repository
# root's is after `make pki`. Every ```sh block of the page runs in one
# shell with `set -e`; the error documents the page shows after them must
# be what the gateway printed, line for line.
#
# usage: open311_doc.sh SOURCE_DIR BUILD_DIR PKI_DIR
set -eu
src=$1 build=$2 pki=$3
tmp=$(mktemp -d /tmp/whistle-open311doc-XXXXXX)
dpid= gpid=
fail() {
    echo "open311_doc: FAIL: $*" >&2
    for f in "$tmp/whistled.log" "$tmp/gateway.log" "$tmp/out"; do
        [ -f "$f" ] && { echo "---- $f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}
cleanup() {
    [ -n "$gpid" ] && { kill -TERM "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; }
    [ -n "$dpid" ] && { kill -TERM "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; }
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
waitfile() {
    i=0
    while [ ! -s "$1" ]; do
        i=$((i + 1))
        [ $i -gt 300 ] && fail "$2 did not start"
        sleep 0.1
    done
}

"$src/scripts/dev-pki.sh" "$pki" >/dev/null
mkdir -p "$tmp/repo/var"
ln -s "$pki" "$tmp/repo/var/pki"
# the web console's pages, where the dev config looks for them (web.root)
ln -s "$src/client" "$tmp/repo/client"
cd "$tmp/repo"
# the dev config's resident archive: its key and its made-up households
"$src/scripts/archive-key.sh" var/archive.key
mkdir -p conf && cp "$src/conf/demo-archive.csv" conf/

sed -e 's/^port = 7730$/port = 0/' -e "s#^dir = .*#dir = $tmp/state#" -e "s#^seed = .*#seed = $src/conf/demo-city.json#" -e "s#^seed_volunteers = .*#seed_volunteers = $src/conf/demo-volunteers.json#" \
    "$src/conf/whistled-dev.conf" >"$tmp/whistled.conf"
"$build/whistled" --config "$tmp/whistled.conf" --port-file "$tmp/wport" 2>"$tmp/whistled.log" &
dpid=$!
waitfile "$tmp/wport" whistled
wport=$(cat "$tmp/wport")
sed -e 's/^port = 7780$/port = 0/' -e "s/^port = 7730$/port = $wport/" \
    "$src/conf/whistle-gateway-dev.conf" >"$tmp/gateway.conf"
"$build/whistle-gateway" --config "$tmp/gateway.conf" --port-file "$tmp/gport" 2>"$tmp/gateway.log" &
gpid=$!
waitfile "$tmp/gport" whistle-gateway
gport=$(cat "$tmp/gport")
i=0
until curl -sf --cacert var/pki/ca.crt "https://127.0.0.1:$gport/open311/v2/services.json" >/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && fail "the gateway did not serve services"
    sleep 0.1
done

awk '/^```sh$/ {f=1; next} f && /^```$/ {f=0} f' "$src/docs/open311.md" |
    sed "s#https://127.0.0.1:7780#https://127.0.0.1:$gport#" >"$tmp/examples.sh"
[ -s "$tmp/examples.sh" ] || fail "no sh blocks in docs/open311.md"
sh -e "$tmp/examples.sh" >"$tmp/out" 2>&1 || fail "the examples failed (exit $?)"

grep -Eq '^E[0-9]{13}$' "$tmp/out" || fail "the report's ticket was not printed"
grep -q '"service_notice":"部门接单时限2小时，办结时限24小时"' "$tmp/out" || fail "no service_notice for 0401"
grep -q '"address_id":"110105001001004"' "$tmp/out" || fail "the report at 39.9087,116.4605 is not in Jianwai Avenue's grid"
# the error documents the page shows, line for line
awk 'BEGIN{n=0} /^```sh$/ {s=1; next} s && /^```$/ {s=0; last=NR; next} /^```$/ && NR==last+2 && !s {o=1; next} o && /^```$/ {o=0; next} o' \
    "$src/docs/open311.md" >"$tmp/shown"
[ -s "$tmp/shown" ] || fail "the page shows no answers after its examples"
while IFS= read -r line; do
    grep -qxF -- "$line" "$tmp/out" || fail "the page shows \"$line\"; the gateway did not print it"
done <"$tmp/shown"

# and no other error: every example before the refusals succeeded
grep -a -e '^\[{"code":' -e '<errors>' "$tmp/out" | while IFS= read -r line; do
    grep -qxF -- "$line" "$tmp/shown" || fail "an example the page shows as working answered: $line"
done

# the web console's demo login as docs/web.md and the README give it
curl -sf --cacert var/pki/ca.crt -H 'Content-Type: application/json' \
    -d '{"login":"operator","password":"operator-demo"}' "https://127.0.0.1:$gport/web/api/login" >"$tmp/login" ||
    fail "the demo login operator / operator-demo of docs/web.md was refused"
grep -q '"role":"operator"' "$tmp/login" || fail "the demo login is not the operator: $(cat "$tmp/login")"
curl -sf --cacert var/pki/ca.crt -o /dev/null -H 'Content-Type: application/json' \
    -d '{"login":"urban","password":"urban-demo"}' "https://127.0.0.1:$gport/web/api/login" ||
    fail "the demo login urban / urban-demo of docs/web.md was refused"

kill -TERM "$gpid"
wait "$gpid" || fail "whistle-gateway did not stop cleanly"
gpid=
echo "open311_doc: the examples of docs/open311.md work as written"
