#!/bin/sh
# Install the Debian packages whistle needs to build, test and run, but only
# those that are missing: a machine that has them all is left untouched and
# no package index is fetched.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libuv1-dev libprotobuf-c-dev protobuf-c-compiler liblmdb-dev lmdb-utils
libssl-dev openssl libcriterion-dev libncurses-dev libinih-dev
libsystemd-dev libjansson-dev gettext tmux locales"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
