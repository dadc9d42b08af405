#!/bin/sh
# run-dev.sh: what `make run` runs: whistled on the demo city, then
# whistle-gateway beside it (Open311 on https://127.0.0.1:7780/open311/v2/),
# both in the foreground of this terminal. Ctrl-C (or SIGTERM to this
# script) stops both cleanly: each finishes what is in flight.
#
#   scripts/run-dev.sh BUILD_DIR WHISTLED_CONF GATEWAY_CONF
set -eu
build=$1 conf=$2 gwconf=$3
dpid= gpid=
# the gateway first, so that it never sees whistled go away
stop() {
    [ -n "$gpid" ] && { kill -TERM "$gpid" 2>/dev/null || true; wait "$gpid" 2>/dev/null || true; }
    [ -n "$dpid" ] && { kill -TERM "$dpid" 2>/dev/null || true; wait "$dpid" 2>/dev/null || true; }
    gpid= dpid=
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

mkdir -p var/state
# a new city (no store yet) gets a few notices on its echo boards once
# whistled listens, posted as their authors would post them
first=
[ -e var/state/data.mdb ] || first=1
rm -f var/whistled.port
"$build/whistled" --config "$conf" --port-file var/whistled.port &
dpid=$!
i=0
while [ ! -s var/whistled.port ]; do
    if ! kill -0 "$dpid" 2>/dev/null; then
        wait "$dpid" || exit $?
        exit 1
    fi
    i=$((i + 1))
    [ $i -gt 600 ] && { echo "run-dev: whistled did not start within 60 s" >&2; exit 1; }
    sleep 0.1
done
if [ -n "$first" ]; then
    port=$(cat var/whistled.port)
    post() { "$build/whistle" -q --port "$port" "$@" >/dev/null || echo "run-dev: a demo notice was not posted" >&2; }
    post --as community board post 110105001001 --kind update \
        --title "永安里社区：本周六上午楼道杂物清理 / Saturday morning: clearing the stairwells" \
        --body "周六9:00-11:00，社区志愿者和物业清理各楼道堆放的杂物，请提前把自家物品收回。Volunteers and the property company clear what is stacked in the stairwells on Saturday, 9:00-11:00; please take your belongings in beforehand."
    post --as community board post 110105001001 --kind reply \
        --title "关于2号楼路灯不亮的答复 / Reply: the lamp by building 2" \
        --body "居民反映2号楼前路灯不亮，已由路灯所更换灯头，当晚恢复照明。感谢反映！Residents reported the lamp in front of building 2 was out; the lighting office replaced it and it works again. Thank you for telling us."
    post --as operator board post 110105001 --kind decision \
        --title "建外街道：老旧小区加装电梯第二批名单公示 / Jianwai: second list of lifts for old buildings" \
        --body "经四方议事会协商，第二批加装电梯的楼栋名单公示7天，如有意见请到社区服务站反映。After the four-party council, the second list of buildings to get lifts is shown for 7 days; comments at the community service station."
fi
"$build/whistle-gateway" --config "$gwconf" &
gpid=$!
# whichever ends first ends the other
while kill -0 "$dpid" 2>/dev/null && kill -0 "$gpid" 2>/dev/null; do
    sleep 0.5
done
stop
