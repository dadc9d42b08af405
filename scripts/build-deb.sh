#!/bin/sh
# build-deb.sh OUT_DIR: the Debian packages from the working tree (what
# git tracks, plus new files it does not ignore), built with
# dpkg-buildpackage -b in OUT_DIR/src, so that nothing is written into
# the tree or beside it; the .deb files are moved to OUT_DIR, then lintian
# checks them (any error fails). `make deb` runs it.
set -eu
out=${1:-build-deb}
cd "$(dirname "$0")/.."
src=$(pwd)
version=$(sed -n 's/^whistle (\([^)]*\)).*/\1/p' debian/changelog | head -n 1)
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/src" "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
mkdir -p "$out/src/whistle-$version"
git -C "$src" ls-files -co --exclude-standard -z | (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$out/src/whistle-$version"
cd "$out/src/whistle-$version"
DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1 || {
    tail -n 60 "$out/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
    exit 1
}
mv "$out/src"/*.deb "$out/"
mv "$out/src"/*.buildinfo "$out/src"/*.changes "$out/" 2>/dev/null || true
cd "$out"
rm -rf "$out/src"
ls "$out"/*.deb
# Errors fail; warnings are shown.
lintian --fail-on error --suppress-tags-from-file /dev/null "$out"/*.deb
echo "build-deb: packages in $out"
