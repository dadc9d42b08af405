#!/bin/sh
# meeting_tmux.sh: the meeting screen (whistle-console --meeting N,
# docs/deliberation.md) tested as a chair and a representative use it. A
# real whistled on a test clock; the whistle CLI sets up the body, the
# proposals and the meeting, and plays the other members; tmux send-keys
# types the chair's and the representative's keys and capture-pane reads
# their screens, at 80x24:
#
#   the chair opens the meeting; members check in from the CLI: the quorum
#   line counts them, one short, then reached; a vote put without the
#   quorum is refused on the screen with the rule's words; the chair gives
#   the floor: the countdown shows against the 8-minute limit, then OVER
#   once the clock passes it; the vote opens, members vote from the CLI and
#   the representative from the screen (its own keys): the tally moves; the
#   chair closes it: the daemon has it passed (the CLI says so); a ballot
#   of 6 candidates for 3 places is voted by key and closed with a tie for
#   the third place, so a runoff among the tied is appended and voted; a
#   yellow card;
#   the meeting closed by key (y to confirm): the minutes are drafted.
#   The representative's screen is in Chinese; without --meeting the
#   console refuses a representative (no case screen for it). A mediation
#   (邻里纠纷和解会) on the representative's screen: only the parties count
#   and vote.
#
#   tests/integration/meeting_tmux.sh BUILD_DIR SOURCE_DIR
#
# The screens are left in BUILD_DIR/meeting-*.txt (docs/deliberation.md
# shows them). Every wait is bounded.
set -eu

BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
WHISTLED=$BUILD/whistled
CLI=$BUILD/whistle
CONSOLE=$BUILD/whistle-console
START=1795399200000 # Monday 2026-11-23 10:00 in Beijing
DAY=86400000
MIN=60000
COMMUNITY=110105001001

if ! command -v tmux >/dev/null 2>&1; then
    echo "meeting_tmux: tmux is not installed (scripts/deps.sh installs it)" >&2
    exit 1
fi

work=$(mktemp -d /tmp/whistle-meeting-XXXXXX)
sock=whistle-meeting-test-$$
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

target=chair
screen() { tmux -L "$sock" capture-pane -p -t "$target"; }

fail() {
    echo "meeting_tmux: FAIL: $*" >&2
    echo "---- screen ($target)" >&2
    screen >&2 || true
    for f in "$work"/*.log "$work"/*.status "$work"/*.san*; do
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

keys() { tmux -L "$sock" send-keys -t "$target" "$@"; }

# the status line's text, its wrapped lines joined
status_has() {
    i=0
    until screen | tail -n 5 | tr '\n' ' ' | tr -s ' ' | grep -Fq -- "$1"; do
        i=$((i + 1))
        [ "$i" -lt 50 ] || fail "the status line does not show: $1"
        sleep 0.1
    done
}

# ---------------------------------------------------------------- set-up

sh "$SRC/scripts/dev-pki.sh" "$work/pki" admin community gridworker operator police urban hotline housing market \
    wang >/dev/null
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
export WHISTLE_PKI="$work/pki" WHISTLE_PORT="$port" WHISTLE_HOST=127.0.0.1
W() { "$CLI" "$@"; }

# a residents' representative of their own (议事代表): role representative
W --as admin admin principal add wang --role representative --scope $COMMUNITY >/dev/null ||
    fail "adding the representative failed"
# 6 voting seats (quorum 4), an attendee, an observer
body=$(W -q --as community body put $COMMUNITY --name 永安里四方议事会 \
    --seat community:chair:community --seat gridworker:representative:residents \
    --seat operator:representative:community --seat police:representative:property \
    --seat urban:representative:owners --seat wang:representative:residents \
    --seat housing:attendee:property --seat market:observer:residents) || fail "body put failed"
p1=$(W -q --as urban proposal submit "$body" --title 小区加装路灯 --text 东区三栋楼间无照明) || fail "proposal failed"
p2=$(W -q --as police proposal submit "$body" --title 公共区域收费调整) || fail "proposal failed"
m=$(W -q --as community meeting schedule "$body" --title 十一月议事会 --at $((START + 3 * DAY)) \
    --proposal "$p1" --proposal "$p2" --ballot '民生实事票决:3:加装电梯|修路灯|建车棚|补绿地|修围墙|装监控') ||
    fail "meeting schedule failed"
# the notice has run
set_clock $((START + 3 * DAY + MIN))

# jm EXPR: a Python expression over the meeting as the daemon has it (m)
jm() {
    W --json --as community meeting show "$m" >"$work/m.json" || fail "meeting show failed"
    python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print($1)" "$work/m.json"
}

# ---------------------------------------------------------------- the chair's screen

run() { # NAME LANG PRINCIPAL [ARGS]
    name=$1 lang=$2 who=$3
    shift 3
    tmux -L "$sock" new-session -d -s "$name" -x 80 -y 24 \
        "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=$lang TZ=CST-8 WHISTLE_PKI=$work/pki WHISTLE_PORT=$port \
         WHISTLE_HOST=127.0.0.1 $(san_env "$name") $CONSOLE --as $who --log $work/$name.log $*; \
         echo \$? >$work/$name.status; sleep 600"
}
run chair C.UTF-8 community --meeting "$m"
wait_for "Meeting $m · 十一月议事会 · scheduled" 20
wait_for "community: chair" 5
wait_for "NO QUORUM: 0 of 6 voting seats present, 4 short \(4 needed\)" 5
wait_for "AGENDA \(3 items\)" 5
wait_for "^ o open i in s speak n next v/c vote 1/2/3 b ballot w/W card X end \? q" 5
[ "$(screen | wc -l)" -eq 24 ] || fail "not 24 lines at 80x24"
no_log_text

# ? shows every key; any key closes it (and does nothing else)
keys '?'
wait_for "meeting screen keys" 5
wait_for "v  open the item's vote  c  close it      C  close, with who carries it out" 5
keys o
wait_gone "meeting screen keys" 5
wait_for "Meeting $m · 十一月议事会 · scheduled" 5
keys o
wait_for "Meeting $m · 十一月议事会 · open" 10
[ "$(jm "m['state']")" = open ] || fail "o did not open the meeting: $(cat "$work/m.json")"

# members check in from the CLI: the quorum line follows the pushes
for who in gridworker operator police; do
    W --as $who meeting checkin "$m" >/dev/null || fail "checkin $who failed"
done
wait_for "NO QUORUM: 3 of 6 voting seats present, 1 short \(4 needed\)" 10
wait_for "Present: gridworker operator police +· absent voters: community urban wang" 5
# an admin manages the place without a seat: no push reaches it, its
# screen reads the meeting every second
run admin C.UTF-8 admin --meeting "$m"
target=admin
wait_for "NO QUORUM: 3 of 6 voting seats present, 1 short" 20
wait_for "admin: no seat" 5
wait_for "^ j/k item  \? help  q quit   \(no seat: watching\)" 5
target=chair
# the vote cannot open without the quorum: the rule, in words, on the screen
keys v
status_has "open the vote on item 1 (小区加装路灯): refused: no quorum: 3 of 6 voting seats present, 4 needed (rule: a vote needs 2/3 of the voting seats present)"
[ "$(jm "m['items'][0]['state']")" = pending ] || fail "the refused vote changed the item"
screen >"$BUILD/meeting-refused.txt"
# the chair checks in by key: exactly 2/3
keys i
wait_for "Quorum reached: 4 of 6 voting seats present \(4 needed\)" 10
target=admin
wait_for "Quorum reached: 4 of 6 voting seats present \(4 needed\)" 10
keys i
status_has "check in: refused: admin holds no seat on body $body"
keys q
i=0
until [ -s "$work/admin.status" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "q did not quit the admin's screen"
    sleep 0.1
done
target=chair

# ---------------------------------------------------------------- the floor

W --as housing meeting checkin "$m" >/dev/null || fail "checkin housing failed"
W --as housing meeting speak "$m" >/dev/null || fail "speak housing failed"
wait_for "Waiting to speak: 1\. housing" 10
keys n
# the server's clock is three days ahead of this machine's: the countdown
# runs on the meeting's clock all the same
wait_for "Speaking: housing +(8:00|7:5[0-9]) left of 8:00" 10
screen >"$BUILD/meeting-speaking.txt"
# nine minutes later (a push brings the server's time): over the limit
set_clock $((START + 3 * DAY + 10 * MIN))
W --as urban meeting checkin "$m" >/dev/null || fail "checkin urban failed"
wait_for "Speaking: housing +(1:0[0-9]) OVER the 8:00 limit" 10
wait_for "Quorum reached: 5 of 6" 5
keys n
wait_for "Speaking: nobody has the floor" 10
wait_for "· 1 spoke" 5

# ---------------------------------------------------------------- a vote, live

# the representative's own screen, in Chinese
run wang zh_CN.UTF-8 wang --meeting "$m"
target=wang
wait_for "会议 $m · 十一月议事会 · 进行中" 20
wait_for "wang：代表" 5
no_log_text
keys i
wait_for "已达法定人数：6 个表决席位中 6 个到会" 10
target=chair
wait_for "Quorum reached: 6 of 6" 10

keys v
wait_for "VOTING +for 0 · against 0 · abstain 0 +\(4 for needed\)" 10
for who in gridworker operator; do
    W --as $who vote "$m" 1 for >/dev/null || fail "vote $who failed"
done
W --as police vote "$m" 1 against >/dev/null || fail "vote police failed"
wait_for "VOTING +for 2 · against 1 · abstain 0" 10
wait_for "Not voted yet: community urban wang" 5
# the representative votes by key on the Chinese screen
target=wang
wait_for "表决中" 10
keys 1
wait_for "你的表决：赞成" 10
target=chair
wait_for "VOTING +for 3 · against 1 · abstain 0" 10
keys 1
wait_for "VOTING +for 4 · against 1 · abstain 0" 10
wait_for "Your vote: for" 5
screen >"$BUILD/meeting-voting.txt"
keys c
wait_for "passed +4–1–0" 10
wait_for "passed: 4 for, 1 against, 0 abstaining" 5
[ "$(jm "m['items'][0]['state'], m['items'][0].get('passed')")" = "closed True" ] ||
    fail "c did not close the vote as passed: $(cat "$work/m.json")"
W --as police vote "$m" 1 for >"$work/late.txt" 2>&1 && fail "a vote after the close was taken"
grep -q "item 1 is closed" "$work/late.txt" || fail "the late vote's refusal: $(cat "$work/late.txt")"

# item 2 passes and the chair closes it naming who carries it out (一评):
# C asks whom and by when; +30d counts on the meeting's clock
keys j v
wait_for "▶ 2 +公共区域收费调整 +VOTING" 10
for who in gridworker operator police urban; do
    W --as $who vote "$m" 2 for >/dev/null || fail "vote $who on item 2 failed"
done
wait_for "VOTING +for 4 · against 0" 10
keys C
wait_for "^Close item 2; who carries the decision out \(a principal\): *$" 5
keys -l gridworker
keys Enter
wait_for "^gridworker carries item 2 out by \(YYYY-MM-DD \[HH:MM\], or \+Nd\): *$" 5
keys -l +30d
keys Enter
wait_for "▶ 2 +公共区域收费调整 +passed +4–0–0" 10
[ "$(jm "m['items'][1]['follow_owner'], m['items'][1]['follow_deadline_ms'] // 86400000")" = \
    "gridworker $(((START + 3 * DAY + 10 * MIN) / DAY + 30))" ] || fail "C did not name the follow-up: $(cat "$work/m.json")"

# ---------------------------------------------------------------- a ballot

keys j
wait_for "▶ 3 +民生实事票决 \(ballot\) +pending" 5
keys v
wait_for "BALLOT OPEN +0 voted · approve up to 3" 10
W --as gridworker ballot "$m" 3 1,2,3 >/dev/null || fail "ballot gridworker failed"
W --as operator ballot "$m" 3 1,2,4 >/dev/null || fail "ballot operator failed"
W --as police ballot "$m" 3 1,3,4 >/dev/null || fail "ballot police failed"
wait_for "BALLOT OPEN +3 voted" 10
wait_for "^ +1 +加装电梯 +█+ 3 *$" 5
keys b
wait_for "^Ballot on item 3: approve up to 3 candidates \(numbers, between commas\): *$" 5
keys -l "2，"
keys Enter
wait_for "BALLOT OPEN +4 voted" 10
wait_for "^ +2 ✓ 修路灯 +█+ 3 *$" 5
# 建车棚 and 补绿地 tie for the third place: the runoff rule appends a
# ballot among them for that place
keys c
wait_for "▶ 3 +民生实事票决 \(ballot\) +2 elected, 2 tied: runoff is item 4" 10
wait_for "^ +3 +建车棚 +█+ 2 tied *$" 5
wait_for "2 tied at 2 approvals for 1 place\(s\): runoff among them as item 4" 5
wait_for "^  \(rule: tie_rule runoff\)" 5
wait_for "^  4 +民生实事票决 \(决选 runoff\) +pending" 5
screen >"$BUILD/meeting-ballot.txt"
keys j v
wait_for "▶ 4 +民生实事票决 \(决选 runoff\) +BALLOT OPEN +0 voted · approve up to 1" 10
W --as gridworker ballot "$m" 4 1 >/dev/null || fail "runoff gridworker failed"
W --as operator ballot "$m" 4 1 >/dev/null || fail "runoff operator failed"
W --as police ballot "$m" 4 2 >/dev/null || fail "runoff police failed"
W --as police ballot "$m" 4 1,2 >"$work/two.txt" 2>&1 && fail "two approvals in a runoff for one place were taken"
wait_for "BALLOT OPEN +3 voted" 10
keys c
wait_for "▶ 4 +民生实事票决 \(决选 runoff\) +1 elected" 10

# ---------------------------------------------------------------- a card, the close

keys w
wait_for "^Yellow card to \(a member\): *$" 5
keys -l police
keys Enter
wait_for "^Yellow card to police, because: *$" 5
keys -l 打断他人发言
keys Enter
wait_for "Cards: yellow police \(打断他人发言\)" 10
keys X
status_has "Close the meeting and draft the minutes? y: yes"
keys n
status_has "cancelled"
[ "$(jm "m['state']")" = open ] || fail "n closed the meeting"
keys X
keys y
wait_for "Meeting $m · 十一月议事会 · closed" 10
wait_for "Minutes drafted: 0 of 6 signatures" 5
[ "$(jm "m['state']")" = closed ] || fail "X y did not close the meeting"
[ "$(jm "m['items'][2]['elected'], m['items'][2]['tied'], m['items'][3]['elected']")" = \
    "['加装电梯', '修路灯'] ['建车棚', '补绿地'] ['建车棚']" ] ||
    fail "the ballot's winners: $(cat "$work/m.json")"
no_log_text
screen >"$BUILD/meeting-closed.txt"
target=wang
wait_for "会议 $m · 十一月议事会 · 已结束" 10
screen >"$BUILD/meeting-zh.txt"
no_log_text

# ---------------------------------------------------------------- the role review

# a representative gets no case screen; an observer's key that the rules
# refuse shows their words
run wangcases C.UTF-8 wang
i=0
until [ -s "$work/wangcases.status" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "the console did not refuse a representative without --meeting"
    sleep 0.1
done
[ "$(cat "$work/wangcases.status")" = 1 ] || fail "the console without --meeting let a representative in"
grep -q "whistle-console --meeting N shows a meeting" "$work/wangcases.log" ||
    fail "the refusal does not point at --meeting: $(cat "$work/wangcases.log")"

# ---------------------------------------------------------------- a mediation

# 邻里纠纷和解会: the parties alone decide, all of them; the representative
# is a party here, on its own screen
body2=$(W -q --as community body put $COMMUNITY --name 3号楼漏水和解会 --kind mediation \
    --seat community:chair:community --seat wang:party:residents --seat urban:party:residents \
    --seat gridworker:representative:residents) || fail "mediation body put failed"
p3=$(W -q --as community proposal submit "$body2" --title 楼上赔偿楼下维修费800元) || fail "settlement failed"
set_clock $((START + 6 * DAY + 11 * MIN))
m2=$(W -q --as community meeting schedule "$body2" --title 漏水纠纷和解 --at $((START + 6 * DAY + 60 * MIN)) \
    --proposal "$p3") || fail "mediation schedule failed"
W --as community meeting open "$m2" >/dev/null || fail "mediation open failed"
run med C.UTF-8 wang --meeting "$m2"
target=med
wait_for "Mediation $m2 · 漏水纠纷和解 · open" 20
wait_for "wang: party" 5
wait_for "NO QUORUM: 0 of 2 voting seats present, 2 short \(2 needed\)" 5
wait_for "^ i check in  s speak  1 for  2 against  3 abstain  b ballot  j/k item  \? q" 5
keys i
wait_for "NO QUORUM: 1 of 2 voting seats present, 1 short" 10
W --as gridworker meeting checkin "$m2" >/dev/null || fail "checkin gridworker failed"
W --as community meeting checkin "$m2" >/dev/null || fail "checkin community failed"
wait_for "NO QUORUM: 1 of 2 voting seats present, 1 short \(2 needed\) · 3 present" 10
W --as urban meeting checkin "$m2" >/dev/null || fail "checkin urban failed"
wait_for "Quorum reached: 2 of 2 voting seats present" 10
W --as community meeting open-vote "$m2" 1 >/dev/null || fail "mediation open-vote failed"
wait_for "VOTING +for 0 · against 0 · abstain 0 +\(2 for needed\)" 10
W --as community vote "$m2" 1 for >"$work/medvote.txt" 2>&1 && fail "the mediator's vote was taken"
grep -q "only the parties" "$work/medvote.txt" || fail "the mediator's refusal: $(cat "$work/medvote.txt")"
keys 1
wait_for "VOTING +for 1 · against 0" 10
W --as urban vote "$m2" 1 against >/dev/null || fail "urban's vote failed"
wait_for "VOTING +for 1 · against 1" 10
W --as community meeting close-vote "$m2" 1 >/dev/null || fail "mediation close-vote failed"
wait_for "rejected +1–1–0" 10
screen >"$BUILD/meeting-mediation.txt"
keys q
i=0
until [ -s "$work/med.status" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "q did not quit the mediation screen"
    sleep 0.1
done
target=chair

# a meeting that is not there ends the screen with the daemon's words
run nomeeting C.UTF-8 community --meeting 99
i=0
until [ -s "$work/nomeeting.status" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || fail "the screen of a missing meeting did not end"
    sleep 0.1
done
[ "$(cat "$work/nomeeting.status")" = 1 ] || fail "the screen of a missing meeting did not fail"
grep -q "meeting 99: no meeting 99" "$work/nomeeting.log" || fail "no word of the missing meeting: $(cat "$work/nomeeting.log")"

# ---------------------------------------------------------------- quit

for s in chair wang; do
    target=$s
    keys q
    i=0
    until [ -s "$work/$s.status" ]; do
        i=$((i + 1))
        [ "$i" -lt 100 ] || fail "q did not quit $s"
        sleep 0.1
    done
    [ "$(cat "$work/$s.status")" = 0 ] || fail "$s exited with an error"
done
sanitizer_clean "$work"/*.san* "$work"/*.log
echo "meeting_tmux: OK: quorum, refusal, countdown, live tally, keys, ballot, card, close, Chinese, roles"
