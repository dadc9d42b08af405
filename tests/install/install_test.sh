#!/bin/sh
# `make install DESTDIR=...` as a packager runs it, then the installed
# programs run from the staging tree: --version, --help, --check-config on
# the installed config (with the fixture PKI's files in place of
# /etc/whistle's), a second install keeps an operator's edited config,
# the units name the installed programs, every program has its man page,
# and a program built with `pkg-config --cflags --libs whistle` against
# the staged library links and runs.
#
# usage: install_test.sh SOURCE_DIR BUILD_DIR PKI_DIR PREFIX SYSCONFDIR LIBDIR "EXTRA_CFLAGS"
set -eu
src=$1 build=$2 pki=$3 prefix=$4 sysconfdir=$5 libdir=$6 extra=${7:-}
export LC_ALL=C.UTF-8
unset LANGUAGE LC_MESSAGES
tmp=$(mktemp -d /tmp/whistle-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }

(flock 9; "$src/scripts/dev-pki.sh" "$pki" admin >/dev/null) 9>"$pki.lock"

d=$tmp/stage
DESTDIR=$d cmake --install "$build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }

# programs
sbin=$d$prefix/sbin bin=$d$prefix/bin
"$sbin/whistled" --version | grep -q '^whistled [0-9]' || fail "whistled --version"
"$sbin/whistle-gateway" --version >/dev/null || fail "whistle-gateway --version"
[ -s "$d$sysconfdir/whistle/whistle-gateway.conf" ] || fail "no whistle-gateway.conf"
[ "$(stat -c %a "$d$sysconfdir/whistle/whistle-gateway.conf")" = 640 ] || fail "whistle-gateway.conf readable by all"
"$sbin/whistle-bridge" --version >/dev/null || fail "whistle-bridge --version"
[ -s "$d$sysconfdir/whistle/whistle-bridge.conf" ] || fail "no whistle-bridge.conf"
[ -s "$d$prefix/lib/systemd/system/whistle-bridge.service" ] || fail "no whistle-bridge.service"
"$sbin/whistle-router" --version >/dev/null || fail "whistle-router --version"
[ -s "$d$prefix/lib/systemd/system/whistle-router.service" ] || fail "no whistle-router.service"
for p in whistle whistle-console whistle-kiosk whistle-bench whistle-city; do
    [ -x "$bin/$p" ] || fail "$p not installed in $prefix/bin"
    "$bin/$p" --version >/dev/null 2>&1 || fail "$p --version"
done
"$bin/whistle" --version | grep -q '0\.' || fail "whistle --version"

# man pages: one per program, made from its own --help
for m in man8/whistled.8 man1/whistle.1 man1/whistle-console.1 man1/whistle-kiosk.1 man1/whistle-bench.1 \
    man8/whistle-gateway.8 man8/whistle-bridge.8 man1/whistle-city.1 man8/whistle-router.8; do
    [ -s "$d$prefix/share/man/$m" ] || fail "man page $m missing"
done
for m in whistled.8 whistle.1 whistle-console.1 whistle-kiosk.1 whistle-bench.1 whistle-gateway.8 whistle-bridge.8 \
    whistle-city.1 whistle-router.8; do
    name=${m%.*}
    # help2man took the version from the program's own --version
    grep -q "^\\.TH $(echo "$name" | tr a-z A-Z) .*\"$name [0-9][^\"]*\"" "$d$prefix/share/man/man${m##*.}/$m" ||
        fail "$m: no version from $name --version"
done
grep -q -- 'check\\-config' "$d$prefix/share/man/man8/whistled.8" || fail "whistled.8 does not show --check-config"

# the config, checked as installed (only the certificates' paths changed)
conf=$d$sysconfdir/whistle/whistled.conf
[ -s "$conf" ] || fail "no $sysconfdir/whistle/whistled.conf"
sed -e "s#^ca = .*#ca = $pki/ca.crt#" -e "s#^cert = .*#cert = $pki/server.crt#" \
    -e "s#^key = .*#key = $pki/server.key#" -e "s#^dir = .*#dir = $tmp/state#" "$conf" >"$tmp/check.conf"
"$sbin/whistled" --config "$tmp/check.conf" --check-config | grep -q "configuration OK" ||
    fail "whistled --check-config on the installed config"
# ... and a typo in it is refused
sed 's/^sync = full/sync = fulll/' "$tmp/check.conf" >"$tmp/bad.conf"
if "$sbin/whistled" --config "$tmp/bad.conf" --check-config >/dev/null 2>&1; then fail "a bad config passed"; fi
# ... and so is a metrics address that is none
printf '[metrics]\nenabled = yes\nlisten = localhost-ish\n' | cat "$tmp/check.conf" - >"$tmp/bad2.conf"
if "$sbin/whistled" --config "$tmp/bad2.conf" --check-config >"$tmp/bad2.out" 2>&1; then fail "a bad metrics.listen passed"; fi
grep -q "metrics.listen = localhost-ish" "$tmp/bad2.out" || fail "the error does not name metrics.listen"

# a reinstall keeps the operator's config
echo "; edited by the operator" >>"$conf"
DESTDIR=$d cmake --install "$build" >"$tmp/install2.log" 2>&1 || fail "second cmake --install"
grep -q "edited by the operator" "$conf" || fail "a reinstall overwrote whistled.conf"
grep -q "Keeping" "$tmp/install2.log" || fail "the reinstall did not say it kept whistled.conf"

# units name what was installed
unit=$d$prefix/lib/systemd/system/whistled.service
grep -q "^ExecStart=$prefix/sbin/whistled --config $sysconfdir/whistle/whistled.conf\$" "$unit" ||
    fail "whistled.service does not start $prefix/sbin/whistled"
grep -q "^After=network-online.target" "$unit" || fail "whistled.service not after network-online.target"
grep -q "$prefix/sbin/whistled" "$d$prefix/lib/systemd/system/whistled-backup.service" || fail "backup unit"
[ -s "$d$prefix/lib/sysusers.d/whistle.conf" ] || fail "sysusers entry"
[ -s "$d$prefix/share/whistle/proto/whistle/v1/whistle.proto" ] || fail "proto not installed"
[ -s "$d$prefix/share/whistle/web/index.html" ] && [ -s "$d$prefix/share/whistle/web/app.js" ] ||
    fail "the web console's pages not installed"
[ -s "$d$prefix/share/doc/whistle/operations.md" ] || fail "docs not installed"
[ -s "$d$prefix/share/locale/zh_CN/LC_MESSAGES/whistle.mo" ] || fail "catalogue not installed"

# an integrator's program, against the staged library
cat >"$tmp/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <whistle/client.h>
int main(void)
{
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
    p.sent_ms = 42;
    r.id = 7;
    r.call_case = WHISTLE__V1__REQUEST__CALL_PING;
    r.ping = &p;
    char key[64];
    if (whistle_idempotency_key(key, sizeof key) != 0 || strlen(key) == 0)
        return 1;
    printf("packed %zu bytes, write=%d\n", whistle__v1__request__get_packed_size(&r), whistle_request_is_write(&r));
    return 0;
}
C
pc=$d$libdir/pkgconfig
[ -s "$pc/whistle.pc" ] || fail "whistle.pc missing"
flags=$(PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$d pkg-config --cflags --libs whistle) || fail "pkg-config whistle"
# shellcheck disable=SC2086
cc $extra -o "$tmp/hello" "$tmp/hello.c" $flags || fail "cc \$(pkg-config --cflags --libs whistle)"
out=$(LD_LIBRARY_PATH=$d$libdir ASAN_OPTIONS=detect_leaks=0 "$tmp/hello") || fail "the program linked to libwhistle.so"
[ "$out" = "packed 6 bytes, write=0" ] || fail "unexpected output: $out"
# shellcheck disable=SC2086
cc $extra -o "$tmp/hello-static" "$tmp/hello.c" -I"$d$prefix/include" "$d$libdir/libwhistle.a" \
    $(pkg-config --libs libprotobuf-c libuv openssl inih) -lpthread -lm || fail "static link"
"$tmp/hello-static" >/dev/null || fail "the statically linked program"
echo "install test: OK ($prefix, $(find "$d" -type f | wc -l) files)"
