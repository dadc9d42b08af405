#!/bin/sh
# The Debian packages as an operator gets them: built with `make deb`'s
# script (dpkg-buildpackage -b, lintian without errors), installed on this
# machine with dpkg -i, the programs run from /usr (whistled --version and
# --check-config, whistle --version), the whistle user and the state
# directory made, an integrator's program built with pkg-config against
# libwhistle-dev, an edited config kept across a reinstall, removal and
# purge that keep the data; then everything removed again, also when a
# step fails. Needs root (dpkg); skipped (exit 77) without it.
#
# usage: package_test.sh SOURCE_DIR BUILD_DIR PKI_DIR
set -eu
src=$1 build=$2 pki=$3
export LC_ALL=C.UTF-8
unset LANGUAGE LC_MESSAGES
if [ "$(id -u)" != 0 ]; then
    echo "package test: needs root for dpkg -i; skipped"
    exit 77
fi
out=$build/deb
tmp=$(mktemp -d /tmp/whistle-pkg-XXXXXX)
pkgs="whistled whistle whistle-gateway whistle-bridge libwhistle-dev libwhistle0"
had_user=false
getent passwd whistle >/dev/null && had_user=true
had_state=false
[ -e /var/lib/whistled ] && had_state=true
had_backups=false
[ -e /var/lib/whistle-backups ] && had_backups=true
installed=false
cleanup() {
    # shellcheck disable=SC2086
    $installed && { dpkg_retry --purge $pkgs >/dev/null 2>&1 || true; rm -f "$marker"; }
    # what the test itself made, never what was there before it
    $had_state || rm -rf /var/lib/whistled
    $had_backups || rm -rf /var/lib/whistle-backups
    $had_user || userdel whistle 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; exit 1; }
# dpkg, waiting up to a minute for its lock (another install on the machine)
dpkg_retry() {
    i=0
    while :; do
        if dpkg "$@" >"$tmp/dpkg.last" 2>&1; then return 0; fi
        if grep -q "lock" "$tmp/dpkg.last" && [ $i -lt 30 ]; then
            i=$((i + 1))
            sleep 2
            continue
        fi
        cat "$tmp/dpkg.last"
        return 1
    done
}
# one package test at a time on this machine, from whatever build tree
exec 8>/tmp/whistle-package-test.lock
flock -w 1500 8 || fail "another package test holds /tmp/whistle-package-test.lock"

# A run killed before its cleanup (a timeout's SIGKILL) leaves its packages
# and this marker: the next run removes them. Packages installed otherwise
# are an operator's, and are left alone.
marker=/var/tmp/whistle-package-test.installed
if [ -e "$marker" ]; then
    # shellcheck disable=SC2086
    dpkg_retry --purge $pkgs >/dev/null 2>&1 || true
    rm -f "$marker"
fi
for p in $pkgs; do
    if dpkg -s "$p" >/dev/null 2>&1; then
        fail "$p is installed on this machine already; the test would replace it (dpkg --purge $p first)"
    fi
done
(flock 9; "$src/scripts/dev-pki.sh" "$pki" admin >/dev/null) 9>"$pki.lock"

start=$(date +%s)
JOBS=2 sh "$src/scripts/build-deb.sh" "$out" >"$tmp/build.out" 2>&1 || { cat "$tmp/build.out"; fail "make deb"; }
grep -q "^E:" "$tmp/build.out" && { cat "$tmp/build.out"; fail "lintian errors"; }
built=$(date +%s)
echo "package test: built in $((built - start)) s"
debs=""
for p in $pkgs; do
    f=$(ls "$out/${p}_"*.deb 2>/dev/null | head -n 1)
    [ -n "$f" ] || fail "no $p package in $out"
    debs="$debs $f"
done

installed=true
touch "$marker"
# shellcheck disable=SC2086
dpkg_retry -i $debs || fail "dpkg -i"
cp "$tmp/dpkg.last" "$tmp/dpkg.out"
/usr/sbin/whistled --version | grep -q '^whistled [0-9]' || fail "/usr/sbin/whistled --version"
/usr/bin/whistle --version | grep -q '[0-9]\.' || fail "/usr/bin/whistle --version"
for p in whistle-console whistle-kiosk whistle-bench; do
    "/usr/bin/$p" --version >/dev/null || fail "/usr/bin/$p --version"
done
/usr/sbin/whistle-gateway --version >/dev/null || fail "/usr/sbin/whistle-gateway --version"
/usr/sbin/whistle-bridge --version >/dev/null || fail "/usr/sbin/whistle-bridge --version"
/usr/bin/whistle-city --version >/dev/null || fail "/usr/bin/whistle-city --version"
/usr/sbin/whistle-router --version >/dev/null || fail "/usr/sbin/whistle-router --version"
[ "$(stat -c '%G %a' /etc/whistle/whistle-gateway.conf)" = "whistle 640" ] ||
    fail "whistle-gateway.conf: $(stat -c '%G %a' /etc/whistle/whistle-gateway.conf), expected group whistle, 0640"
man -w whistled >/dev/null 2>&1 || [ -s /usr/share/man/man8/whistled.8.gz ] || fail "no man page for whistled"
getent passwd whistle >/dev/null || fail "no whistle user"
[ "$(stat -c '%U %a' /var/lib/whistled)" = "whistle 700" ] || fail "/var/lib/whistled: $(stat -c '%U %a' /var/lib/whistled)"
[ -d /var/lib/whistle-backups ] || fail "no /var/lib/whistle-backups"
[ -f /lib/systemd/system/whistled.service ] || fail "no whistled.service"
grep -q '^ExecStart=/usr/sbin/whistled --config /etc/whistle/whistled.conf$' /lib/systemd/system/whistled.service ||
    fail "whistled.service does not start /usr/sbin/whistled"
if command -v systemd-analyze >/dev/null; then
    for u in whistled.service whistled-backup.service whistled-backup.timer whistle-gateway.service whistle-bridge.service; do
        systemd-analyze verify "/lib/systemd/system/$u" >"$tmp/verify.out" 2>&1 ||
            { cat "$tmp/verify.out"; fail "systemd-analyze verify $u"; }
    done
fi

# the config as installed: without the street's certificates it says so
if /usr/sbin/whistled --config /etc/whistle/whistled.conf --check-config >"$tmp/check.out" 2>&1; then
    fail "--check-config passed without certificates"
fi
grep -q "/etc/whistle/ca.crt" "$tmp/check.out" || { cat "$tmp/check.out"; fail "--check-config does not name the CA file"; }
# ... and with them (only their paths changed) it passes
sed -e "s#^ca = .*#ca = $pki/ca.crt#" -e "s#^cert = .*#cert = $pki/server.crt#" -e "s#^key = .*#key = $pki/server.key#" \
    /etc/whistle/whistled.conf >"$tmp/whistled.conf"
/usr/sbin/whistled --config "$tmp/whistled.conf" --check-config | grep -q "configuration OK" ||
    fail "/usr/sbin/whistled --check-config"

# an integrator's program against libwhistle-dev
cat >"$tmp/hello.c" <<'C'
#include <stdio.h>
#include <whistle/client.h>
int main(void)
{
    Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_PING;
    r.ping = &p;
    printf("write=%d\n", whistle_request_is_write(&r));
    return 0;
}
C
# shellcheck disable=SC2046
cc -o "$tmp/hello" "$tmp/hello.c" $(pkg-config --cflags --libs whistle) || fail "cc \$(pkg-config --cflags --libs whistle)"
[ "$("$tmp/hello")" = "write=0" ] || fail "the program linked to libwhistle"

# an operator's edit of the config survives a reinstall
echo "; edited by the operator" >>/etc/whistle/whistled.conf
# shellcheck disable=SC2086
dpkg_retry -i $debs || fail "second dpkg -i"
grep -q "edited by the operator" /etc/whistle/whistled.conf || fail "a reinstall replaced the edited config"

# removal and purge keep the data
echo marker >/var/lib/whistled/keep-me
dpkg_retry -r whistled || fail "dpkg -r whistled"
[ -f /var/lib/whistled/keep-me ] || fail "dpkg -r removed the store"
dpkg_retry --purge whistled || fail "dpkg --purge whistled"
cp "$tmp/dpkg.last" "$tmp/purge.out"
[ -f /var/lib/whistled/keep-me ] || fail "dpkg --purge removed the store"
grep -q "kept /var/lib/whistled" "$tmp/purge.out" || { cat "$tmp/purge.out"; fail "purge does not say the data was kept"; }
[ ! -e /etc/whistle/whistled.conf ] || fail "purge left the config"
dpkg_retry --purge whistle whistle-gateway whistle-bridge libwhistle-dev libwhistle0 || fail "dpkg --purge of the rest"
[ ! -e /usr/sbin/whistled ] && [ ! -e /usr/bin/whistle ] || fail "programs left after purge"
echo "package test: OK (build $((built - start)) s, total $(($(date +%s) - start)) s)"
