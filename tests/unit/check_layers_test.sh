#!/bin/sh
# check_layers_test.sh: scripts/check-layers.py finds what it must find.
# A tree made here has an upward include (base -> store), a cycle inside a
# layer (domain a <-> b) and one client program including another's file;
# the script must name all three and exit 1, and pass the same tree once
# they are mended.
set -eu
script="$1/scripts/check-layers.py"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/daemon/base" "$t/daemon/store" "$t/daemon/domain" "$t/client/cli" "$t/client/kiosk" \
    "$t/client/lib" "$t/include/whistle"
printf '#include "s.h"\n' >"$t/daemon/base/x.c"
: >"$t/daemon/base/x.h"
printf '#include "x.h"\n' >"$t/daemon/store/s.h"
printf '#include "b.h"\n' >"$t/daemon/domain/a.h"
printf '#include "a.h"\n' >"$t/daemon/domain/b.h"
printf '#include "../kiosk/k.h"\n#include "whistle/w.h"\n' >"$t/client/cli/m.c"
: >"$t/client/kiosk/k.h"
: >"$t/include/whistle/w.h"
if out=$(python3 "$script" "$t"); then
    echo "FAIL: check-layers passed a tree with violations"; exit 1
fi
for want in "daemon/base/x.c:1: includes daemon/store/s.h" "include cycle: daemon/domain/a -> daemon/domain/b" \
    "client/cli/m.c:1: includes client/kiosk/k.h"; do
    case "$out" in *"$want"*) ;; *) echo "FAIL: no \"$want\" in:"; echo "$out"; exit 1 ;; esac
done
case "$out" in *"whistle/w.h"*) echo "FAIL: a public header counted as a violation"; exit 1 ;; esac
: >"$t/daemon/base/x.c"
: >"$t/daemon/domain/b.h"
printf '#include "whistle/w.h"\n' >"$t/client/cli/m.c"
python3 "$script" "$t" >/dev/null || { echo "FAIL: the mended tree does not pass"; exit 1; }
echo "check-layers: 4 passed, 0 failed"
