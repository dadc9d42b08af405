#!/bin/sh
# bench-deps.sh: what `make bench` needs beyond scripts/deps.sh: Redis 7
# from Debian, the reference scripts/bench-vs-redis.sh measures whistled
# against. Installs only what is missing (CI and `make test` never run it).
# For profiling by hand (docs/performance.md): apt-get install linux-perf valgrind.
set -eu

PKGS="redis-server"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "bench-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The package enables a system-wide service; the benchmark starts its own
# instance on a free port and does not use it.
