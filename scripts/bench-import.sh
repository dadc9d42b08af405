#!/bin/sh
# bench-import.sh: a benchmark, not a test. Imports a city of 16 districts x
# 20 streets x 15 communities x 20 grids (96,000 grids, 101,136 places) into
# a fresh whistled with `whistle admin import`, and prints the time, the
# store's size, and how a lookup by code scales from that size to ten
# times it. Takes a minute or two on a small machine; run it on a quiet one.
#
#   scripts/bench-import.sh [BUILD_DIR]     (default: build, made if missing)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ -x "$BUILD/whistled" ] || { cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build "$BUILD" -j "$(nproc)" >/dev/null; }
cmake --build "$BUILD" --target bench_lookup >/dev/null

T=$(mktemp -d /tmp/whistle-bench-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT INT TERM

scripts/dev-pki.sh "$T/pki" admin >/dev/null
# The smallest seed that lets an admin in: the first district and the admin.
cat >"$T/seed.json" <<JSON
{"nodes":[{"code":"110101","kind":"district","name_zh":"东城区","name_en":"Dongcheng District"}],
 "principals":[{"name":"admin","role":"admin","scope":"110101"}]}
JSON
cat >"$T/whistled.conf" <<CONF
[server]
listen = 127.0.0.1
port = 0
[tls]
ca = $T/pki/ca.crt
cert = $T/pki/server.crt
key = $T/pki/server.key
crl = $T/pki/crl.pem
[store]
dir = $T/state
seed = $T/seed.json
sync = full
[log]
level = warn
CONF
mkdir -p "$T/state"

# The city: the 16 districts of Beijing (GB/T 2260), 20 streets each, 15
# communities per street, 20 grids per community, children before parents
# nowhere guaranteed (one file, in code order).
awk 'BEGIN {
    split("110101 110102 110105 110106 110107 110108 110109 110111 110112 110113 110114 110115 110116 110117 110118 110119", d, " ");
    print "code,parent_code,kind,name_zh,name_en";
    for (i = 1; i <= 16; i++) {
        printf "%s,,district,区%d,District %d\n", d[i], i, i;
        for (s = 1; s <= 20; s++) {
            st = sprintf("%s%03d", d[i], s);
            printf "%s,%s,street,街道%d,Street %d\n", st, d[i], s, s;
            for (c = 1; c <= 15; c++) {
                cm = sprintf("%s%03d", st, c);
                printf "%s,%s,community,社区%d,Community %d\n", cm, st, c, c;
                for (g = 1; g <= 20; g++)
                    printf "%s%03d,%s,grid,第%d网格,Grid %d\n", cm, g, cm, g, g;
            }
        }
    }
}' >"$T/city.csv"
rows=$(($(wc -l <"$T/city.csv") - 1))
bytes=$(wc -c <"$T/city.csv")

"$BUILD/whistled" --config "$T/whistled.conf" --port-file "$T/port" 2>"$T/log" &
pid=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
W="$BUILD/whistle --pki $T/pki --as admin --port $(cat "$T/port") --timeout 600000"

now() { date +%s.%N; }
t0=$(now)
$W admin import "$T/city.csv" >"$T/out"
t1=$(now)
$W admin import "$T/city.csv" >"$T/out2"
t2=$(now)
$W admin export --output "$T/back.csv" 2>/dev/null
t3=$(now)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=

echo "bench-import: $rows places ($(grep -c ',grid,' "$T/city.csv") grids) in a $((bytes / 1024)) KiB CSV"
awk -v a="$t0" -v b="$t1" -v c="$t2" -v e="$t3" -v n="$rows" 'BEGIN {
    printf "  import into an empty city:     %.2f s (%.0f places/s), one transaction, every place audited\n", b - a, n / (b - a);
    printf "  the same file again (no change): %.2f s\n", c - b;
    printf "  export of the whole tree:      %.2f s\n", e - c }'
sed 's/^/  /' "$T/out"
used=$(mdb_stat -e "$T/state" | awk '/Number of pages used/ {print $5}')
psize=$(mdb_stat -e "$T/state" | awk '/Page size/ {print $3}')
echo "  store: $((used * psize / 1048576)) MiB used ($(du -k "$T/state/data.mdb" | cut -f1) KiB on disk), of which:"
for db in nodes audit audit_by_time audit_by_target audit_by_principal; do
    mdb_stat -s "$db" "$T/state" | awk -v db="$db" -v ps="$psize" '
        /Tree depth/ {d=$3} /Branch pages/ {b=$3} /Leaf pages/ {l=$3} /Overflow pages/ {o=$3} /Entries/ {e=$2}
        END {printf "    %-19s %7d entries, %6.1f MiB, depth %d\n", db, e, (b+l+o)*ps/1048576, d}'
done
echo "lookups by code (an LMDB B-tree: depth grows with the logarithm of the count):"
"$BUILD/tests/bench_lookup" "$T/state"
mkdir -p "$T/x10"
"$BUILD/tests/bench_lookup" --synth $((rows * 10)) "$T/x10"
