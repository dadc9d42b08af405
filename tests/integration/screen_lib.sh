# screen_lib.sh: what the tmux-driven screen tests (console_tmux.sh,
# kiosk_tmux.sh) share. Sourced, not run. The caller defines screen (the
# pane's text) and fail (report and exit 1), and sets work (its temporary
# directory, holding whistled.conf and the test clock) and WHISTLED.

# wait_for PATTERN SECONDS: until the screen shows it (grep -E)
wait_for() {
    i=0
    while [ "$i" -lt $(($2 * 10)) ]; do
        if screen | grep -Eq -- "$1"; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "the screen did not show /$1/ within $2 s"
}

# wait_text TEXT SECONDS: the same, for a fixed string
wait_text() {
    i=0
    while [ "$i" -lt $(($2 * 10)) ]; do
        if screen | grep -Fq -- "$1"; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "the screen did not show \"$1\" within $2 s"
}

# wait_gone PATTERN SECONDS: until the screen no longer shows it
wait_gone() {
    i=0
    while [ "$i" -lt $(($2 * 10)) ]; do
        if ! screen | grep -Eq -- "$1"; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    fail "the screen still shows /$1/ after $2 s"
}

# absent TEXT: the screen must not show it now
absent() {
    if screen | grep -Fq -- "$1"; then
        fail "the screen shows \"$1\", which it must not"
    fi
}

# start_daemon: whistled on $work/whistled.conf and the test clock, in the
# background (its pid in dpid); returns once it has written its port.
start_daemon() {
    rm -f "$work/port"
    "$WHISTLED" --config "$work/whistled.conf" --port-file "$work/port" --test-clock "$work/clock" \
        >>"$work/whistled.log" 2>&1 &
    dpid=$!
    i=0
    while [ ! -s "$work/port" ]; do
        i=$((i + 1))
        [ "$i" -lt 300 ] || fail "whistled did not start"
        kill -0 "$dpid" 2>/dev/null || fail "whistled exited at start"
        sleep 0.1
    done
}

# no_log_text: nothing a log line or a crash would print is on the screen.
# The screens' stderr is their terminal in these tests, as it is under
# `cage -- foot -- whistle-kiosk`: a log line written there would be drawn
# over the page (issue 11, item 1).
# LOG_TEXT_RE (set by the caller, else this) says what such text looks like.
: "${LOG_TEXT_RE:=whistle-kiosk:|whistle-console:|AddressSanitizer|LeakSanitizer|runtime error}"
no_log_text() {
    if screen | grep -Eq -- "$LOG_TEXT_RE"; then
        fail "log text on the screen: $(screen | grep -E -- "$LOG_TEXT_RE" | head -n 3)"
    fi
}

# sanitizer_clean FILE...: no sanitizer report in these files (the screens
# run with ASAN_OPTIONS/UBSAN_OPTIONS log_path pointing at them)
sanitizer_clean() {
    for f in "$@"; do
        [ -e "$f" ] || continue
        if grep -Eq "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$f"; then
            fail "sanitizer report in $f: $(grep -E "ERROR|runtime error" "$f" | head -n 3)"
        fi
    done
}

# san_env NAME: the environment that sends a screen's sanitizer reports to
# $work/NAME.san.<pid> instead of its stderr (its terminal)
san_env() {
    printf 'ASAN_OPTIONS=%s UBSAN_OPTIONS=%s' \
        "${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/$1.san" "${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/$1.san"
}
