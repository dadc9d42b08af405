#!/bin/sh
# bench-seed.sh: a directory seed for benchmarks (docs/directory-seed.md):
# one street of the demo district with four grids, a few categories, and N
# departments d0001..dN, each with a principal of the same name, plus the
# principals admin, operator and gridworker. scripts/bench-vs-redis.sh
# loads it into a bench-only whistled; the certificates come from
#   scripts/dev-pki.sh DIR admin operator gridworker d0001 ... dN
#
#   scripts/bench-seed.sh [N] > seed.json      N defaults to 1000 (1..9999)
set -eu
n=${1:-1000}
case $n in
'' | *[!0-9]*) echo "bench-seed: N must be a number, not '$n'" >&2; exit 2 ;;
esac
if [ "$n" -lt 1 ] || [ "$n" -gt 9999 ]; then
    echo "bench-seed: N must be from 1 to 9999" >&2
    exit 2
fi
awk -v n="$n" 'BEGIN {
    print "{"
    print "  \"nodes\": ["
    print "    {\"code\": \"110105\", \"parent\": \"\", \"kind\": \"district\", \"name_zh\": \"朝阳区\", \"name_en\": \"Chaoyang District\"},"
    print "    {\"code\": \"110105001\", \"parent\": \"110105\", \"kind\": \"street\", \"name_zh\": \"建外街道\", \"name_en\": \"Jianwai Subdistrict\"},"
    print "    {\"code\": \"110105001001\", \"parent\": \"110105001\", \"kind\": \"community\", \"name_zh\": \"永安里社区\", \"name_en\": \"Yongan Community\"},"
    for (g = 1; g <= 4; g++)
        printf "    {\"code\": \"110105001001%03d\", \"parent\": \"110105001001\", \"kind\": \"grid\", \"name_zh\": \"第%d网格\", \"name_en\": \"Grid %d\"}%s\n", g, g, g, g < 4 ? "," : ""
    print "  ],"
    print "  \"departments\": ["
    for (i = 1; i <= n; i++)
        printf "    {\"code\": \"d%04d\", \"name_zh\": \"部门%d\", \"name_en\": \"Department %d\"}%s\n", i, i, i, i < n ? "," : ""
    print "  ],"
    print "  \"categories\": ["
    print "    {\"code\": \"01\", \"name_zh\": \"市容环境\", \"name_en\": \"City appearance\"},"
    print "    {\"code\": \"0102\", \"name_zh\": \"暴露垃圾\", \"name_en\": \"Exposed rubbish\", \"departments\": [\"d0001\"], \"check_in_minutes\": 30, \"resolve_hours\": 4},"
    print "    {\"code\": \"04\", \"name_zh\": \"街面秩序\", \"name_en\": \"Street order\"},"
    print "    {\"code\": \"0401\", \"name_zh\": \"占道经营\", \"name_en\": \"Street vending\", \"departments\": [\"d0001\"], \"check_in_minutes\": 60, \"resolve_hours\": 24}"
    print "  ],"
    print "  \"principals\": ["
    print "    {\"name\": \"admin\", \"role\": \"admin\", \"scope\": \"110105\"},"
    print "    {\"name\": \"operator\", \"role\": \"operator\", \"scope\": \"110105001\"},"
    print "    {\"name\": \"gridworker\", \"role\": \"grid_worker\", \"scope\": \"110105001001001\"},"
    for (i = 1; i <= n; i++)
        printf "    {\"name\": \"d%04d\", \"role\": \"department\", \"scope\": \"110105\", \"department\": \"d%04d\"}%s\n", i, i, i < n ? "," : ""
    print "  ]"
    print "}"
}'
