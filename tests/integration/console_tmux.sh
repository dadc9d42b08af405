#!/bin/sh
# console_tmux.sh: whistle-console tested as a person uses it. A real
# whistled (on a test clock) and the console in a tmux session of its own;
# the whistle CLI plays the grid worker and the kiosk; tmux send-keys types
# the operator's keys and capture-pane reads the screen:
#
#   a reported case appears; f files it; w whistles it to the departments
#   the category proposes (Enter, Enter); the orders show their countdown;
#   the clock passes the check-in deadline: the alert comes and the
#   countdown goes negative; Chinese names keep the board's column; an
#   emergency call takes over the screen until Enter; 80x24 still works;
#   Tab shows the statistics, then the open wishes; whistled stops, time passes, whistled comes
#   back: the console reconnects by itself and shows what fell due meanwhile;
#   q quits cleanly.
#
#   The console's stderr is its terminal: no log line may ever show on the
#   screen (issue 11, item 1); the first console logs to --log FILE, the
#   Chinese one to syslog.
#
#   tests/integration/console_tmux.sh BUILD_DIR SOURCE_DIR
#
# The screens it saw are left in BUILD_DIR/console-*.txt (docs/console.md
# shows them). Every wait is bounded.
set -eu

BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
WHISTLED=$BUILD/whistled
CLI=$BUILD/whistle
CONSOLE=$BUILD/whistle-console
START=1795399200000 # Monday 2026-11-23 10:00 in Beijing
MIN=60000

if ! command -v tmux >/dev/null 2>&1; then
    echo "console_tmux: tmux is not installed (scripts/deps.sh installs it)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/whistle-console-XXXXXX)
sock=whistle-console-test-$$
dpid=
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null || true
    if [ -n "$dpid" ]; then
        kill "$dpid" 2>/dev/null || true
        wait "$dpid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

target=console
screen() { tmux -L "$sock" capture-pane -p -t "$target"; }

fail() {
    echo "console_tmux: FAIL: $*" >&2
    echo "---- screen" >&2
    screen >&2 || true
    for f in "$work"/console*.log "$work"/console*.status "$work"/console*.san*; do
        [ -e "$f" ] || continue
        echo "---- $f" >&2
        cat "$f" >&2
    done
    echo "---- whistled log (tail)" >&2
    tail -n 20 "$work/whistled.log" >&2 2>/dev/null || true
    exit 1
}

. "$SRC/tests/integration/screen_lib.sh"

set_clock() {
    echo "$1" >"$work/clock.tmp"
    mv "$work/clock.tmp" "$work/clock"
}

# first_case TICKET: the feed's first case is TICKET
first_case() {
    f=$(screen | grep -oE '^E[0-9]{13} ' | head -n 1)
    [ "$f" = "$1 " ] || fail "the first case is ${f:-none}, not $1"
}

# The board's column separator must stand at the same display column on
# every line of the feed, whatever script the names are in.
check_alignment() {
    cols=$(screen | sed -n '2,$p' | grep '│' | while IFS= read -r line; do
        printf '%s' "${line%%│*}" | LC_ALL=C.UTF-8 wc -L
    done | sort -u)
    [ "$(printf '%s\n' "$cols" | wc -l)" -eq 1 ] || fail "the board's column moves: at columns $(echo $cols)"
}

# ---------------------------------------------------------------- set-up

sh "$SRC/scripts/dev-pki.sh" "$work/pki" operator gridworker kiosk sensor urban police community >/dev/null
set_clock $START
cat >"$work/whistled.conf" <<EOF
[server]
listen = 127.0.0.1
port = 0
[tls]
ca = $work/pki/ca.crt
cert = $work/pki/server.crt
key = $work/pki/server.key
crl = $work/pki/crl.pem
[store]
dir = $work/state
seed = $SRC/conf/demo-city.json
[log]
level = info
EOF
start_daemon
port=$(cat "$work/port")
# a restart must come back on the same port: the console knows only it
sed -i "s/^port = 0$/port = $port/" "$work/whistled.conf"

export WHISTLE_PKI="$work/pki" WHISTLE_PORT="$port" WHISTLE_HOST=127.0.0.1
W() { "$CLI" "$@"; }

# stderr is the pane, as on a desk's terminal; the log goes to --log
tmux -L "$sock" new-session -d -s console -x 100 -y 30 \
    "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=C.UTF-8 TZ=CST-8 WHISTLE_PKI=$work/pki WHISTLE_PORT=$port WHISTLE_HOST=127.0.0.1 \
     $(san_env console) $CONSOLE --as operator --log $work/console.log; echo \$? >$work/console.status; sleep 600"

# ---------------------------------------------------------------- the feed

wait_for "● live" 20
no_log_text
grep -q "whistle-console: following street:110105001 as operator" "$work/console.log" ||
    fail "the log does not say the console is following its street"
T=$(W --as gridworker report --node 110105001001001 --category 0401 "Stall blocking the pavement at gate 3" |
    awk '{print $1}')
[ -n "$T" ] || fail "report failed"
# in English, the names come in English too (the data has both)
wait_for "$T reported +Street vending · Yong'an Dongli" 10

tmux -L "$sock" send-keys -t console f
wait_for "$T filed" 10

# whistle: the departments the category proposes, by their names (item 8),
# accepted as they are
tmux -L "$sock" send-keys -t console w
wait_for "^Whistle $T to \(departments, between commas\): *$" 5
wait_for "^Urban management enforcement team, Market supervision office *$" 5
tmux -L "$sock" send-keys -t console Enter
wait_for "^Kind \(routine, tackle, emergency\): *$" 5
wait_for "^routine *$" 5
tmux -L "$sock" send-keys -t console Enter
wait_for "$T whistled" 10
wait_for "#[0-9]+ Urban management[^│]* pending +check-in (2:00:00|1:59:[0-9]{2})" 10
wait_for "#[0-9]+ Market supervision[^│]* pending +check-in (2:00:00|1:59:[0-9]{2})" 10
screen >"$BUILD/console-whistled.txt"
check_alignment

# ---------------------------------------------------------------- the deadline

set_clock $((START + 121 * MIN))
wait_for "OVERDUE $T: .* missed its check-in deadline" 10
wait_for "Urban management[^│]* pending ! +check-in -0:0[0-9]:[0-9]{2}" 15
screen >"$BUILD/console-overdue.txt"
check_alignment

# ---------------------------------------------------------------- the emergency

# an SOS button in an elderly person's flat, through the sensor gateway
E=$(W --as sensor emergency --node 110105001001001003 --device sos-3-1201 --contact 13900001111 \
    "独居老人按下呼叫按钮" | awk '{print $1}')
[ -n "$E" ] || fail "the emergency call failed"
wait_for "!!! 紧急呼叫  EMERGENCY CALL !!!" 5
wait_for "$E" 2
screen >"$BUILD/console-emergency.txt"
# nothing but Enter (or w) lets go of it
tmux -L "$sock" send-keys -t console j Tab
sleep 0.3
screen | grep -q "!!! 紧急呼叫" || fail "the emergency let go without being acknowledged"
tmux -L "$sock" send-keys -t console Enter
wait_gone "!!! 紧急呼叫" 5
wait_for "$E filed +urgent Elderly person living alone[^│]*" 10
# urgent comes first, above the routine case with late orders (item 3)
first_case "$E"

# ---------------------------------------------------------------- another desk whistles

# A second desk (the CLI) files and whistles a case while this console is
# open: its orders, their countdowns and the department board must come in
# through the street's feed, as the console's own whistle does (issue 11,
# item 2). Then the departments finish it and the street closes it.
# It comes with a photo (made by libvips-tools' vips): the row shows ▣1,
# then ▣2 once the police feed back with theirs (docs/photos.md).
vips black "$work/before.jpg" 64 48 && vips black "$work/after.png" 32 24 || fail "vips could not make the photos"
C=$(W -q --as gridworker report --node 110105001001001002 --category 0401 --photo "$work/before.jpg" \
    "Fruit stall at building 2") || fail "report failed"
W --as operator file "$C" >/dev/null || fail "file $C failed"
W --as operator whistle "$C" --dept police,urban >/dev/null || fail "whistle $C from the CLI failed"
wait_for "$C whistled +▣1 " 10
wait_for "#[0-9]+ Police station[^│]* pending +check-in [0-9]+:[0-9]{2}:[0-9]{2}" 10
wait_for "#[0-9]+ Urban management[^│]* pending +check-in [0-9]+:[0-9]{2}:[0-9]{2}" 5
wait_for "│Police station +1 +0 +0" 5
wait_for "│Urban management[^│0-9]* +2 +0 +1" 5
no_log_text
screen >"$BUILD/console-other-desk.txt"
# The police ask for more time: x acts on the order the alert line names,
# wherever the selection is (item 9)
po=$(W -q --as police orders --ticket "$C") || fail "whistle orders failed"
W --as police checkin "$po" >/dev/null || fail "check-in of $po failed"
W --as police extend "$po" --hours 4 --reason "the owner is away until tonight" >/dev/null ||
    fail "extend $po failed"
wait_for "Police station asks for more time on #$po \($C\): x approve, X refuse" 5
tmux -L "$sock" send-keys -t console g x
wait_for "approve the extension of #$po: done" 5
W --as operator show "$C" >"$work/show.txt"
grep -qi "extension_approved\|extension approved" "$work/show.txt" || fail "the extension was not approved: $(cat "$work/show.txt")"
for d in police urban; do
    o=$(W -q --as "$d" orders --ticket "$C") || fail "whistle orders failed"
    [ -n "$o" ] || fail "no $d order for $C"
    [ "$d" = police ] || W --as "$d" checkin "$o" >/dev/null || fail "check-in of $o failed"
    if [ "$d" = police ]; then
        W --as "$d" feedback "$o" "stall moved on" --photo "$work/after.png" >/dev/null || fail "feedback on $o failed"
    else
        W --as "$d" feedback "$o" "stall moved on" >/dev/null || fail "feedback on $o failed"
    fi
done
wait_for "$C resolved +▣2 " 10
wait_for "#[0-9]+ Police station[^│]* done +done ✓" 5
W --as gridworker verify "$C" --pass >/dev/null || fail "verify $C failed"
W --as operator close "$C" >/dev/null || fail "close $C failed"
wait_gone "^$C " 10
wait_for "│Urban management[^│0-9]* +1 +0 +1" 5

# ---------------------------------------------------------------- 80x24, statistics

tmux -L "$sock" resize-window -t console -x 80 -y 24
wait_for "^ f file r reject" 5
[ "$(screen | wc -l)" -eq 24 ] || fail "not 24 lines at 80x24"
wait_for "DEPARTMENTS +open +in late" 5
check_alignment
screen >"$BUILD/console-80x24.txt"
# at 80 columns the prompts and a server's refusal are whole (item 8): the
# urgent call proposes its category's departments and the emergency kind
tmux -L "$sock" send-keys -t console g w
wait_for "^Whistle $E to \(departments, between commas\): *$" 5
wait_for "^Health commission, Civil affairs *$" 5
tmux -L "$sock" send-keys -t console Enter
wait_for "^Kind \(routine, tackle, emergency\): *$" 5
wait_for "^emergency *$" 5
tmux -L "$sock" send-keys -t console Escape
sleep 0.15
wait_for "cancelled" 5
# the street vending case already has urban's order: the refusal, whole
tmux -L "$sock" send-keys -t console j w
wait_for "^Whistle $T to" 5
tmux -L "$sock" send-keys -t console C-u
tmux -L "$sock" send-keys -t console -l "urban"
tmux -L "$sock" send-keys -t console Enter
wait_for "^routine *$" 5
tmux -L "$sock" send-keys -t console Enter
refusal="whistle $T: ALREADY_EXISTS: case $T already has a live order for urban; re-dispatch goes to other departments"
i=0
until screen | tail -n 5 | tr '\n' ' ' | tr -s ' ' | grep -Fq -- "$refusal"; do
    i=$((i + 1))
    [ "$i" -lt 50 ] || fail "the refusal is not whole on the screen: $refusal"
    sleep 0.1
done
screen >"$BUILD/console-refusal.txt"
tmux -L "$sock" send-keys -t console Tab
wait_for "THIS MONTH +Jianwai Subdistrict" 10
wait_for "whistle +[0-9.]+% +█" 5
wait_for "ARCHIVE +0 households, 0 visits this month, 0 special-care visits overdue" 5
screen >"$BUILD/console-stats.txt"
# then the communities' open wishes (docs/volunteers.md)
W --as community volunteer config 110105001001 --category 'carry:搬运:Carrying:10' >/dev/null
W --as kiosk wish add 110105001001001 --category carry --text '刘奶奶家的煤要搬上5楼' --phone 13800138002 >/dev/null
tmux -L "$sock" send-keys -t console Tab
wait_for "OPEN WISHES" 5
wait_for "ordered +Yong'an Dongli +carry +10 +刘奶奶家的煤" 5
screen | grep -q 13800138002 && fail "the console shows a resident's phone"
screen >"$BUILD/console-wishes.txt"
tmux -L "$sock" send-keys -t console Tab
wait_for "CASES +2 open" 5

# ---------------------------------------------------------------- reconnect

kill -TERM "$dpid"
wait "$dpid" || true
dpid=
wait_for "offline" 10
# four hours pass while the daemon is down: the follow-ups fall due
set_clock $((START + 245 * MIN))
start_daemon
wait_for "● live" 30
wait_for "connected again; resumed street:110105001" 10
wait_for "ESCALATED $T" 15
no_log_text
grep -Eq "whistle-console: connection: .*(refused|closed)" "$work/console.log" ||
    fail "the log does not have the lost connection"
grep -q "whistle-console: following street:110105001 as operator, again" "$work/console.log" ||
    fail "the log does not have the connection coming back"
screen >"$BUILD/console-reconnected.txt"

# ---------------------------------------------------------------- in Chinese

# A second desk with a Chinese locale (generated or not: the console falls
# back to C.UTF-8 and LANGUAGE): the words come from the catalog, and the
# columns still line up.
tmux -L "$sock" new-session -d -s zh -x 80 -y 24 \
    "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=zh_CN.UTF-8 TZ=CST-8 WHISTLE_PKI=$work/pki WHISTLE_PORT=$port WHISTLE_HOST=127.0.0.1 \
     $(san_env console-zh) $CONSOLE --as operator; echo \$? >$work/console-zh.status; sleep 600"
target=zh
wait_for "● 在线" 20
no_log_text
wait_for "$T 已吹哨 +占道经营 · 永安东里" 10
wait_for "$E 已立案 +紧急 独居老人求助" 5
first_case "$E"
# the whistle proposes the departments by their Chinese names, whole at 80
tmux -L "$sock" send-keys -t zh g w
wait_for "^$E 吹哨给（部门，用逗号隔开）： *$" 5
wait_for "^卫健, 民政 *$" 5
tmux -L "$sock" send-keys -t zh Enter
wait_for "^哨种（routine 日常, tackle 攻坚, emergency 应急）： *$" 5
wait_for "^emergency *$" 5
tmux -L "$sock" send-keys -t zh Escape
sleep 0.15
wait_for "部门 +在办 报到 超期" 5
check_alignment
screen >"$BUILD/console-zh.txt"
tmux -L "$sock" send-keys -t zh q
i=0
until [ -s "$work/console-zh.status" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "q did not quit the Chinese console"
    sleep 0.1
done
[ "$(cat "$work/console-zh.status")" = 0 ] || fail "the Chinese console exited with an error"
target=console

# ---------------------------------------------------------------- quit

no_log_text
tmux -L "$sock" send-keys -t console q
i=0
until [ -s "$work/console.status" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "q did not quit"
    sleep 0.1
done
[ "$(cat "$work/console.status")" = 0 ] || fail "the console exited with an error"
sanitizer_clean "$work"/console*.san* "$work/console.log"
echo "console_tmux: OK: feed, whistle, countdown, overdue, emergency, 80x24, statistics, reconnect, quit"
