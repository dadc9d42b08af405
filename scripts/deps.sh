#!/bin/sh
# Install the Debian packages whistle needs to build, test and run, but only
# those that are missing: a machine that has them all is left untouched and
# no package index is fetched.
set -eu

PKGS="libnats-dev nats-server build-essential cmake pkg-config clang libclang-rt-14-dev
libuv1-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev lmdb-utils
libssl-dev openssl libcriterion-dev libncurses-dev libinih-dev
libsystemd-dev libjansson-dev libgeos-dev gettext tmux locales python3 clang-format
libh2o-dev libxml2-dev python3-jsonschema python3-lxml curl
help2man debhelper dpkg-dev fakeroot lintian python3-prometheus-client
libargon2-dev chromium chromium-driver python3-selenium
libvips-dev libexif-dev libvips-tools nats-server libnats-dev"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ -n "$missing" ]; then
    echo "deps: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The kiosk and the console are tested in Chinese and in English, in real
# locales: generate those this machine lacks (a minimal Debian has only
# C.UTF-8). localedef writes them to the locale archive; nothing else changes.
for loc in zh_CN en_US; do
    if ! locale -a 2>/dev/null | grep -qix "$loc.utf-\{0,1\}8"; then
        echo "deps: generating the $loc.UTF-8 locale" >&2
        $SUDO localedef -i "$loc" -c -f UTF-8 -A /usr/share/locale/locale.alias "$loc.UTF-8"
    fi
done
