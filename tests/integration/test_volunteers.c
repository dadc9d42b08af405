/* The volunteers' three-order loop against a real daemon (docs/volunteers.md):
 * tried as new users would, through the `whistle` CLI with the demo city's
 * principals (the kiosk, the community, a volunteer with its own
 * certificate); then the writer's one-at-a-time rule under contention:
 * many claims of one wish and many redemptions of the last item sent at
 * once on separate connections, exactly one winning each, and
 * `whistled --check` proving the ledger. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

#define COMM "110105001001"

static daemon_h d;
static void setup(void)
{
    harness_start(&d, NULL);
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
    setenv("WHISTLE_PKI", harness_pki(), 1);
    setenv("WHISTLE_HOST", "127.0.0.1", 1);
    setenv("WHISTLE_CONFIG", "/dev/null", 1);
    unsetenv("WHISTLE_AS");
    unsetenv("WHISTLE_CERT");
    unsetenv("WHISTLE_KEY");
    unsetenv("WHISTLE_CA");
}
static void teardown(void) { harness_cleanup(&d); }
TestSuite(volunteers, .init = setup, .fini = teardown, .timeout = 120);

/* `whistle ARGS`: the exit status, stdout in *out (malloc'd). */
static int run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int run(char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", WHISTLE_CLI_BIN, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 8192, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs a command that must succeed; returns its output (malloc'd). */
static char *ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *ok(const char *fmt, ...)
{
    char args[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *out;
    int rc = run(&out, "%s", args);
    cr_assert_eq(rc, 0, "whistle %s: exit %d: %s", args, rc, out);
    return out;
}

/* The number or string after "key": in compact JSON. */
static long long json_int(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(json, pat);
    cr_assert(p, "no %s in %s", key, json);
    p += strlen(pat);
    if (*p == '"')
        p++;
    return atoll(p);
}

static char *json_str(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(json, pat);
    cr_assert(p, "no %s in %s", key, json);
    p += strlen(pat);
    const char *e = strchr(p, '"');
    return strndup(p, (size_t)(e - p));
}

Test(volunteers, the_three_order_loop_as_new_users_try_it)
{
    free(ok(
        "--as community volunteer config %s --category 'walker:助行:Walking aid:20' --category carry:搬运:Carrying:5",
        COMM));
    char *out = ok("--as community --json volunteer add 王芳 --principal volunteer --team 永安东里一队 --skill 搬运");
    long long vid = json_int(out, "id");
    char *code = json_str(out, "code");
    free(out);
    /* 居民点单 at the kiosk */
    out = ok("--as kiosk --json wish add 110105001001001 --category walker --text '张大爷需要一个助行器' --phone "
             "13800138000");
    long long wid = json_int(out, "id");
    char *ticket = json_str(out, "ticket");
    free(out);
    /* 社区派单, without the resident's words or phone */
    free(ok("--as community wish publish %lld --text '3号楼一位老人需要助行器'", wid));
    out = ok("--as volunteer --json wish list");
    cr_assert(strstr(out, "3号楼一位老人需要助行器"), "%s", out);
    cr_assert_null(strstr(out, "张大爷"), "a volunteer read the resident's words: %s", out);
    cr_assert_null(strstr(out, "13800138000"), "a volunteer read the phone: %s", out);
    cr_assert_null(strstr(out, ticket), "a volunteer read the slip's number: %s", out);
    free(out);
    /* the community reads the resident's phone in one wish only, and that read is audited */
    out = ok("--as community wish list");
    cr_assert_null(strstr(out, "13800138000"), "a list shows the phone: %s", out);
    free(out);
    out = ok("--as community wish show %lld", wid);
    cr_assert(strstr(out, "13800138000"), "%s", out);
    free(out);
    out = ok("--as admin --json admin audit --target wish:%lld", wid);
    cr_assert(strstr(out, "\"read\":\"contact\""), "the read is not audited: %s", out);
    free(out);
    /* 志愿者接单 with its own certificate */
    free(ok("--as volunteer wish claim %lld", wid));
    out = NULL;
    cr_assert_eq(run(&out, "--as member wish claim %lld", wid), 1, "%s", out);
    free(out);
    free(ok("--as volunteer wish done %lld --note 已送到", wid));
    /* the resident confirms at the kiosk with the slip and the digits */
    cr_assert_eq(run(&out, "--as kiosk wish confirm --ticket %s --digits 0000", ticket), 1, "%s", out);
    cr_assert(strstr(out, "NOT_FOUND"), "%s", out);
    free(out);
    out = ok("--as kiosk --json wish confirm --ticket %s --digits 8000", ticket);
    cr_assert(strstr(out, "\"state\":\"confirmed\""), "%s", out);
    cr_assert_null(strstr(out, "13800138000"), "%s", out);
    free(out);
    out = ok("--as volunteer -q points balance");
    cr_assert_eq(atoll(out), 20, "%s", out);
    free(out);
    out = ok("--as kiosk -q points balance %lld --code %s", vid, code);
    cr_assert_eq(atoll(out), 20, "%s", out);
    free(out);
    /* the love supermarket */
    out = ok("--as community --json shop item --zh 大米 --en Rice --price 15 --stock +1");
    long long item = json_int(out, "id");
    free(out);
    out = ok("--as community --json shop redeem %lld %lld --code %s", vid, item, code);
    cr_assert(strstr(out, "\"balance\":5"), "%s", out);
    free(out);
    out = ok("--as community --json shop list");
    cr_assert(strstr(out, "大米") && !strstr(out, "\"stock\":1"), "stock not down: %s", out);
    free(out);
    out = ok("--as volunteer -q points balance");
    cr_assert_eq(atoll(out), 5, "%s", out);
    free(out);
    cr_assert_eq(run(&out, "--as community shop redeem %lld %lld --code %s", vid, item, code), 1, "%s", out);
    free(out);
    /* the year's report, and the 双评议 CSV */
    out = ok("--as community volunteer report --csv");
    cr_assert(strstr(out, "year,community,volunteer_id"), "%s", out);
    cr_assert(strstr(out, "王芳"), "%s", out);
    free(out);
    char chk[4096];
    cr_assert_eq(harness_check_store(&d, chk, sizeof chk), 0, "whistled --check: %s", chk);
    free(code);
    free(ticket);
}

/* ------------------------------------------------------------ contention */

static Whistle__V1__Response *call(whistle_client *c, Whistle__V1__Request *req) { return harness_call_ok(c, req); }

static uint64_t add_volunteer(whistle_client *c, char **code)
{
    Whistle__V1__Volunteer v = WHISTLE__V1__VOLUNTEER__INIT;
    v.community = COMM;
    v.name = "志愿者";
    Whistle__V1__AddVolunteer av = WHISTLE__V1__ADD_VOLUNTEER__INIT;
    av.volunteer = &v;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_ADD_VOLUNTEER;
    req.add_volunteer = &av;
    Whistle__V1__Response *r = call(c, &req);
    uint64_t id = r->volunteer->id;
    *code = strdup(r->volunteer->code);
    whistle_response_free(r);
    return id;
}

#define N 12

/* Sends one request on each raw connection before reading any answer, so
 * that they are all in flight at once; returns how many were answered OK. */
static int all_at_once(raw_conn *conns, Whistle__V1__Request *reqs)
{
    for (int i = 0; i < N; i++)
        cr_assert_eq(raw_send_request(&conns[i], &reqs[i]), 0);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        Whistle__V1__Frame *f = NULL;
        cr_assert_eq(raw_read_frame(&conns[i], 20000, &f), 1, "answer %d", i);
        cr_assert_eq(f->kind_case, WHISTLE__V1__FRAME__KIND_RESPONSE);
        int code = f->response->status ? (int)f->response->status->code : 0;
        cr_assert(code == 0 || code == WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION, "answer %d: %d %s", i, code,
                  f->response->status ? f->response->status->message : "");
        ok += code == 0;
        whistle__v1__frame__free_unpacked(f, NULL);
    }
    return ok;
}

Test(volunteers, many_claim_one_wish_and_redeem_the_last_item_at_once)
{
    whistle_client *comm = harness_connect(&d, "community");
    /* the rules, N volunteers with 10 points each, a published wish, one item left */
    Whistle__V1__WishCategory cat = WHISTLE__V1__WISH_CATEGORY__INIT;
    cat.code = "carry";
    cat.name_zh = "搬运";
    cat.points = 3;
    Whistle__V1__WishCategory *cats[] = { &cat };
    Whistle__V1__VolunteerConfig cfg = WHISTLE__V1__VOLUNTEER_CONFIG__INIT;
    cfg.community = COMM;
    cfg.categories = cats;
    cfg.n_categories = 1;
    Whistle__V1__SetVolunteerConfig sc = WHISTLE__V1__SET_VOLUNTEER_CONFIG__INIT;
    sc.config = &cfg;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SET_VOLUNTEER_CONFIG;
    req.set_volunteer_config = &sc;
    whistle_response_free(call(comm, &req));
    uint64_t vids[N];
    char *codes[N];
    for (int i = 0; i < N; i++) {
        vids[i] = add_volunteer(comm, &codes[i]);
        Whistle__V1__AdjustPoints ap = WHISTLE__V1__ADJUST_POINTS__INIT;
        ap.volunteer_id = vids[i];
        ap.amount = 10;
        ap.reason = "开业赠分";
        Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
        r.call_case = WHISTLE__V1__REQUEST__CALL_ADJUST_POINTS;
        r.adjust_points = &ap;
        whistle_response_free(call(comm, &r));
    }
    Whistle__V1__AddWish aw = WHISTLE__V1__ADD_WISH__INIT;
    aw.node = FIRST_GRID;
    aw.category = "carry";
    aw.text = "搬煤";
    aw.contact = "13900000000";
    Whistle__V1__Request r = WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_ADD_WISH;
    r.add_wish = &aw;
    Whistle__V1__Response *resp = call(comm, &r);
    uint64_t wish = resp->wish->id;
    whistle_response_free(resp);
    Whistle__V1__PublishWish pw = WHISTLE__V1__PUBLISH_WISH__INIT;
    pw.wish_id = wish;
    pw.public_text = "帮忙搬煤";
    r = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_PUBLISH_WISH;
    r.publish_wish = &pw;
    whistle_response_free(call(comm, &r));
    Whistle__V1__ShopItem it = WHISTLE__V1__SHOP_ITEM__INIT;
    it.community = COMM;
    it.name_zh = "食用油";
    it.price = 10;
    Whistle__V1__PutShopItem pi = WHISTLE__V1__PUT_SHOP_ITEM__INIT;
    pi.item = &it;
    pi.stock_delta = 1;
    r = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_PUT_SHOP_ITEM;
    r.put_shop_item = &pi;
    resp = call(comm, &r);
    uint64_t item = resp->shop_item->id;
    whistle_response_free(resp);

    raw_conn conns[N];
    for (int i = 0; i < N; i++)
        raw_open_hello(&conns[i], &d, "community");
    /* N claims of one wish, each for another volunteer */
    Whistle__V1__Request reqs[N];
    Whistle__V1__ClaimWish claims[N];
    for (int i = 0; i < N; i++) {
        claims[i] = (Whistle__V1__ClaimWish)WHISTLE__V1__CLAIM_WISH__INIT;
        claims[i].wish_id = wish;
        claims[i].volunteer_id = vids[i];
        reqs[i] = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
        reqs[i].id = 1000 + (uint64_t)i;
        reqs[i].call_case = WHISTLE__V1__REQUEST__CALL_CLAIM_WISH;
        reqs[i].claim_wish = &claims[i];
    }
    cr_assert_eq(all_at_once(conns, reqs), 1, "exactly one claim wins");
    /* N redemptions of the last item, each by another volunteer */
    Whistle__V1__Redeem reds[N];
    for (int i = 0; i < N; i++) {
        reds[i] = (Whistle__V1__Redeem)WHISTLE__V1__REDEEM__INIT;
        reds[i].volunteer_id = vids[i];
        reds[i].code = codes[i];
        reds[i].item_id = item;
        reqs[i] = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
        reqs[i].id = 2000 + (uint64_t)i;
        reqs[i].call_case = WHISTLE__V1__REQUEST__CALL_REDEEM;
        reqs[i].redeem = &reds[i];
    }
    cr_assert_eq(all_at_once(conns, reqs), 1, "exactly one redemption of the last item");
    /* one volunteer's 10 points, asked for twice over at once: one wins */
    it.price = 6;
    it.id = item;
    pi.stock_delta = 5;
    r = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_PUT_SHOP_ITEM;
    r.put_shop_item = &pi;
    whistle_response_free(call(comm, &r));
    for (int i = 0; i < N; i++) {
        /* the winner above spent its points: take another */
        reds[i].volunteer_id = vids[N - 1];
        reds[i].code = codes[N - 1];
        reqs[i].id = 3000 + (uint64_t)i;
    }
    Whistle__V1__PointsBalance pb = WHISTLE__V1__POINTS_BALANCE__INIT;
    pb.volunteer_id = vids[N - 1];
    r = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    r.call_case = WHISTLE__V1__REQUEST__CALL_POINTS_BALANCE;
    r.points_balance = &pb;
    resp = call(comm, &r);
    int64_t before = resp->balance->balance;
    whistle_response_free(resp);
    cr_assert_eq(all_at_once(conns, reqs), before / 6, "a balance of %lld buys %lld at 6", (long long)before,
                 (long long)(before / 6));
    resp = call(comm, &r);
    cr_assert_eq(resp->balance->balance, before % 6);
    whistle_response_free(resp);
    for (int i = 0; i < N; i++) {
        raw_close(&conns[i]);
        free(codes[i]);
    }
    whistle_close(comm);
    char chk[4096];
    cr_assert_eq(harness_check_store(&d, chk, sizeof chk), 0, "whistled --check: %s", chk);
}

/* Dual registration: a task the community whistles reaches the member who
 * watches its community's stream at once, and again after a reconnect from
 * its cursor; the member claims and reports with its own certificate. */
Test(volunteers, a_members_task_is_pushed_live_to_the_members_who_watch)
{
    free(ok("--as community member register 李明 --employer 朝阳区住建委 --principal member"));
    whistle_client *m = harness_connect(&d, "member");
    h_subscribe(m, 0);
    char *out = ok("--as community --json member publish 清理楼道杂物 --slots 2 --points 8");
    long long tid = json_int(out, "id");
    free(out);
    Whistle__V1__Push *p = h_wait_push(m, "member_task", 5000);
    cr_assert_not_null(p, "no push of the task");
    cr_assert_str_eq(p->stream, "members:" COMM);
    cr_assert_not_null(p->member_task);
    cr_assert_eq((long long)p->member_task->id, tid);
    cr_assert_str_eq(p->member_task->title, "清理楼道杂物");
    whistle_push_free(p);
    whistle_close(m);
    /* a wish published meanwhile waits in the stream, without personal data */
    free(ok("--as community volunteer config %s --category carry:搬运:Carrying:5", COMM));
    out = ok("--as community --json wish add 110105001001001 --category carry --text '刘奶奶的煤' --phone 13800138002");
    long long wid = json_int(out, "id");
    free(out);
    free(ok("--as community wish publish %lld --text '帮老人搬煤'", wid));
    m = harness_connect(&d, "member");
    h_subscribe(m, 1);
    p = h_wait_push(m, "wish_published", 5000);
    cr_assert_not_null(p, "the wish was not replayed");
    cr_assert_str_eq(p->wish->public_text, "帮老人搬煤");
    cr_assert_str_empty(p->wish->text);
    cr_assert_str_empty(p->wish->contact);
    cr_assert_str_empty(p->wish->ticket);
    whistle_push_free(p);
    whistle_close(m);
    free(ok("--as member member claim %lld", tid));
    free(ok("--as member member report %lld --note 清了三层", tid));
    out = ok("--as community volunteer list --kind party_member -q");
    long long mid = atoll(out);
    free(out);
    free(ok("--as community member confirm %lld --volunteer %lld", tid, mid));
    out = ok("--as member -q points balance");
    cr_assert_eq(atoll(out), 8, "%s", out);
    free(out);
    out = ok("--as member --json member tasks --volunteer %lld", mid);
    cr_assert(strstr(out, "清理楼道杂物"), "%s", out);
    free(out);
    char chk[4096];
    cr_assert_eq(harness_check_store(&d, chk, sizeof chk), 0, "whistled --check: %s", chk);
}

/* ------------------------------------------------------------ the claim's time */

#define START 1795399200000LL /* Monday 2026-11-23 10:00 in Beijing */

static void set_port(void)
{
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
}

static void setup_clock(void)
{
    setup();
    harness_cleanup(&d);
    harness_start_clock(&d, NULL, START);
    set_port();
}
TestSuite(volunteers_clock, .init = setup_clock, .fini = teardown, .timeout = 120);

/* A claim lapses on the deadline engine's rows: one that passed while
 * whistled was down lapses as soon as it is back, and the wish is
 * published again for the next volunteer. */
Test(volunteers_clock, a_claim_that_lapsed_while_whistled_was_down_lapses_at_start)
{
    free(ok("--as community volunteer config %s --category carry:搬运:Carrying:5 --claim-hours 2", COMM));
    char *out = ok("--as community -q volunteer add 赵磊");
    long long vid = atoll(out);
    free(out);
    out = ok("--as community --json wish add 110105001001001 --category carry --text 搬煤 --phone 13800138002");
    long long wid = json_int(out, "id");
    free(out);
    free(ok("--as community wish publish %lld --text 帮老人搬煤", wid));
    free(ok("--as community wish claim %lld --volunteer %lld", wid, vid));
    /* an hour on: still claimed */
    harness_set_clock(&d, START + 3600000);
    out = ok("--as community --json wish show %lld", wid);
    cr_assert(strstr(out, "\"state\":\"claimed\""), "%s", out);
    free(out);
    harness_stop(&d);
    harness_set_clock(&d, START + 3 * 3600000);
    harness_restart(&d);
    set_port();
    int tries = 0;
    for (;;) {
        out = ok("--as community --json wish show %lld", wid);
        if (strstr(out, "\"state\":\"published\""))
            break;
        free(out);
        cr_assert(++tries < 50, "the claim did not lapse");
        struct timespec ts = { 0, 100000000 };
        nanosleep(&ts, NULL);
    }
    cr_assert(strstr(out, "\"lapses\":1"), "%s", out);
    cr_assert(strstr(out, "\"volunteer_id\":0,"), "%s", out);
    free(out);
    /* published again: the next volunteer may claim it */
    free(ok("--as community volunteer add 王芳 --principal volunteer"));
    free(ok("--as volunteer wish claim %lld", wid));
    char chk[4096];
    cr_assert_eq(harness_check_store(&d, chk, sizeof chk), 0, "whistled --check: %s", chk);
}
