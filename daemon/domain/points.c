/* points.c: the points ledger and the love supermarket (爱心超市), see
 * volunteer.h and volrec.h. Every point moves through volrec_post, which
 * refuses to take any account but the issuing one below 0; the writer
 * applies one call at a time, so a redemption reads the balance and the
 * stock, and changes both, with nothing in between. */
#include "volunteer.h"

#include <string.h>

#include "audit.h"
#include "field_limits.h"
#include "volrec.h"

#define MAX_AMOUNT 1000000

static Whistle__V1__PointsBalanceResult *balance_of(call *c, const Whistle__V1__Volunteer *v)
{
    Whistle__V1__PointsBalanceResult *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__points_balance_result__init(r);
    r->volunteer_id = v->id;
    r->name = v->name;
    r->community = v->community;
    const char *acct = volrec_account(c->a, v->id);
    if (volrec_balance(c, v->community, acct, &r->balance))
        return NULL;
    uint64_t *ids;
    size_t n;
    bool more;
    if (volrec_scan(c, 'a', arena_printf(c->a, "%s/%s", v->community, acct), 0, 1000000, &ids, &n, &more))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        void *ev;
        if (volrec_get(c, c->st->vol_ledger, ids[i], &whistle__v1__ledger_entry__descriptor, &ev, NULL, NULL))
            return NULL;
        Whistle__V1__LedgerEntry *e = ev;
        bool in = strcmp(e->to_account, acct) == 0;
        const char *other = in ? e->from_account : e->to_account;
        int64_t signed_amount = in ? e->amount : -e->amount;
        if (strcmp(other, VOL_SHOP) == 0)
            r->spent -= signed_amount;
        else
            r->earned += signed_amount;
    }
    return r;
}

void points_balance(call *c, const Whistle__V1__PointsBalance *req)
{
    Whistle__V1__Volunteer *v;
    if (c->who->role == ROLE(KIOSK) || *str0(req->code))
        v = vol_prove_code(c, req->volunteer_id, req->code);
    else
        v = vol_actor(c, req->volunteer_id,
                      "a balance is read by its volunteer, its community, or at the kiosk "
                      "with the volunteer's card code");
    if (!v)
        return;
    Whistle__V1__PointsBalanceResult *r = balance_of(c, v);
    if (!r)
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_BALANCE;
    c->resp->balance = r;
}

void points_history(call *c, const Whistle__V1__PointsHistory *req)
{
    const char *prefix;
    if (c->who->role == ROLE(VOLUNTEER) || req->volunteer_id) {
        Whistle__V1__Volunteer *v = vol_actor(c, req->volunteer_id, "points are read by their volunteer and community");
        if (!v)
            return;
        prefix = arena_printf(c->a, "%s/%s", v->community, volrec_account(c->a, v->id));
    } else {
        const char *comm = vol_community(c, req->community);
        if (!comm || vol_reach(c, comm, "a community's ledger is read inside the caller's scope"))
            return;
        prefix = comm;
    }
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;
    uint64_t *ids;
    size_t n;
    bool more;
    if (volrec_scan(c, c->who->role == ROLE(VOLUNTEER) || req->volunteer_id ? 'a' : 'e', prefix, req->after_id, limit,
                    &ids, &n, &more))
        return;
    Whistle__V1__LedgerList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__ledger_list__init(l);
    l->entries = arena_alloc(c->a, (n ? n : 1) * sizeof *l->entries);
    for (size_t i = 0; i < n; i++) {
        void *ev;
        if (volrec_get(c, c->st->vol_ledger, ids[i], &whistle__v1__ledger_entry__descriptor, &ev, NULL, NULL))
            return;
        Whistle__V1__LedgerEntry *e = ev;
        uint64_t by;
        char k8[8];
        store_be64((uint8_t *)k8, e->id);
        if (volrec_index_value(c, 'r', k8, 8, &by) == 0)
            e->reversed_by = by;
        l->entries[l->n_entries++] = e;
    }
    if (more && n)
        l->next_after_id = ids[n - 1];
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_LEDGER;
    c->resp->ledger = l;
}

void points_adjust(call *c, const Whistle__V1__AdjustPoints *req)
{
    if (check_text(c, "reason", req->reason, NOTE_MAX, true))
        return;
    Whistle__V1__LedgerEntry *e = arena_alloc(c->a, sizeof *e);
    whistle__v1__ledger_entry__init(e);
    e->reason = req->reason;
    if (req->reverse_entry) {
        if (req->amount || req->volunteer_id) {
            call_fail(c, CODE(INVALID_ARGUMENT), "a reversal names only the entry (and the reason)");
            return;
        }
        void *ov;
        int rc = volrec_get(c, c->st->vol_ledger, req->reverse_entry, &whistle__v1__ledger_entry__descriptor, &ov, NULL,
                            NULL);
        if (rc == 1)
            call_fail(c, CODE(NOT_FOUND), "no ledger entry %llu", (unsigned long long)req->reverse_entry);
        if (rc)
            return;
        Whistle__V1__LedgerEntry *o = ov;
        if (vol_reach(c, o->community, "a community corrects its own ledger"))
            return;
        char k8[8];
        store_be64((uint8_t *)k8, o->id);
        uint64_t by;
        if (volrec_index_value(c, 'r', k8, 8, &by) == 0) {
            call_fail(c, CODE(FAILED_PRECONDITION), "entry %llu was reversed already by entry %llu",
                      (unsigned long long)o->id, (unsigned long long)by);
            return;
        }
        if (c->resp->status)
            return;
        if (o->reverses) {
            call_fail(c, CODE(FAILED_PRECONDITION),
                      "entry %llu is itself a reversal; post a new adjustment instead of reversing it",
                      (unsigned long long)o->id);
            return;
        }
        e->community = o->community;
        e->from_account = o->to_account;
        e->to_account = o->from_account;
        e->amount = o->amount;
        e->kind = (char *)"reverse";
        e->reverses = o->id;
        e->wish_id = o->wish_id;
        e->item_id = o->item_id;
        e->task_id = o->task_id;
        if (volrec_post(c, e) || volrec_index_set(c, 'r', k8, 8, e->id))
            return;
    } else {
        if (!req->amount || req->amount > MAX_AMOUNT || req->amount < -MAX_AMOUNT) {
            call_fail(c, CODE(INVALID_ARGUMENT), "amount is required: -%d to %d points, not 0", MAX_AMOUNT, MAX_AMOUNT);
            return;
        }
        Whistle__V1__Volunteer *v = vol_volunteer(c, req->volunteer_id, NULL, NULL);
        if (!v || vol_reach(c, v->community, "a community adjusts its own volunteers' points"))
            return;
        const char *acct = volrec_account(c->a, v->id);
        e->community = v->community;
        e->from_account = (char *)(req->amount > 0 ? VOL_ISSUE : acct);
        e->to_account = (char *)(req->amount > 0 ? acct : VOL_ISSUE);
        e->amount = req->amount > 0 ? req->amount : -req->amount;
        e->kind = (char *)"adjust";
        if (volrec_post(c, e))
            return;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_LEDGER_ENTRY;
    c->resp->ledger_entry = e;
}

/* ------------------------------------------------------------ expiry */

int points_expire(call *c, uint64_t id, int64_t due)
{
    void *ev;
    int rc = volrec_get(c, c->st->vol_ledger, id, &whistle__v1__ledger_entry__descriptor, &ev, NULL, NULL);
    if (rc)
        return rc < 0 ? -1 : 0; /* gone: a stale row, which the sweep removes */
    Whistle__V1__LedgerEntry *credit = ev;
    const char *acct = credit->to_account;
    if (credit->expires_ms != due || acct[0] != 'v')
        return 0;
    /* Points are spent oldest credit first: what the account paid out
     * beyond the credits before this one came out of this one. */
    uint64_t *ids;
    size_t n;
    bool more;
    if (volrec_scan(c, 'a', arena_printf(c->a, "%s/%s", credit->community, acct), 0, 10000000, &ids, &n, &more))
        return -1;
    int64_t before = 0, out = 0;
    for (size_t i = 0; i < n; i++) {
        if (volrec_get(c, c->st->vol_ledger, ids[i], &whistle__v1__ledger_entry__descriptor, &ev, NULL, NULL))
            return -1;
        Whistle__V1__LedgerEntry *e = ev;
        if (strcmp(e->from_account, acct) == 0)
            out += e->amount;
        else if (e->id < credit->id)
            before += e->amount;
    }
    int64_t used = out - before;
    int64_t left = credit->amount - (used > 0 ? used : 0);
    int64_t bal;
    if (volrec_balance(c, credit->community, acct, &bal))
        return -1;
    if (left > bal)
        left = bal;
    if (left <= 0)
        return 0;
    Whistle__V1__LedgerEntry *e = arena_alloc(c->a, sizeof *e);
    whistle__v1__ledger_entry__init(e);
    e->community = credit->community;
    e->from_account = (char *)acct;
    e->to_account = (char *)VOL_ISSUE;
    e->amount = left;
    e->kind = (char *)"expire";
    e->reason = arena_printf(c->a, "%lld of the %lld points of entry %llu expired", (long long)left,
                             (long long)credit->amount, (unsigned long long)credit->id);
    return volrec_post(c, e);
}

/* ------------------------------------------------------------ the supermarket */

static Whistle__V1__ShopItem *item_get(call *c, uint64_t id, void **bytes, size_t *len)
{
    void *it;
    if (!id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "item_id is required"), NULL;
    int rc = volrec_get(c, c->st->vol_shop, id, &whistle__v1__shop_item__descriptor, &it, bytes, len);
    if (rc == 1)
        call_fail(c, CODE(NOT_FOUND), "no item %llu in the love supermarket", (unsigned long long)id);
    return rc ? NULL : it;
}

static int item_save(call *c, Whistle__V1__ShopItem *it, const void *before, size_t blen)
{
    it->updated_ms = c->now;
    if (volrec_put(c, c->st->vol_shop, it->id, &it->base))
        return -1;
    int rc = audit_append(c->st, c->txn, c->now, str0(c->who->name), c->name,
                          arena_printf(c->a, "shop_item:%llu", (unsigned long long)it->id), before, blen, &it->base);
    return rc ? call_store_fail(c, rc, "auditing the item") : 0;
}

void points_put_item(call *c, const Whistle__V1__PutShopItem *req)
{
    const Whistle__V1__ShopItem *in = req->item;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "item is required");
        return;
    }
    if (check_text(c, "name_zh", in->name_zh, 100, true) || check_text(c, "name_en", in->name_en, 100, false))
        return;
    if (in->price < 1 || in->price > MAX_AMOUNT) {
        call_fail(c, CODE(INVALID_ARGUMENT), "price is 1 to %d points", MAX_AMOUNT);
        return;
    }
    void *before = NULL;
    size_t blen = 0;
    Whistle__V1__ShopItem *it;
    if (in->id) {
        if (!(it = item_get(c, in->id, &before, &blen)) ||
            vol_reach(c, it->community, "a community keeps its own supermarket"))
            return;
        if (*str0(in->community) && strcmp(in->community, it->community) != 0) {
            call_fail(c, CODE(INVALID_ARGUMENT), "item %llu is community %s's; an item does not move",
                      (unsigned long long)it->id, it->community);
            return;
        }
    } else {
        const char *comm = vol_community(c, in->community);
        if (!comm || vol_reach(c, comm, "a community keeps its own supermarket"))
            return;
        it = arena_alloc(c->a, sizeof *it);
        whistle__v1__shop_item__init(it);
        it->community = (char *)comm;
        if (volrec_next_id(c, "vol_item_seq", &it->id) || volrec_index_put(c, 's', comm, it->id))
            return;
    }
    int64_t stock = (int64_t)it->stock + req->stock_delta;
    if (stock < 0 || stock > UINT32_MAX) {
        call_fail(c, CODE(FAILED_PRECONDITION), "item %llu has %u in stock; %d would take it below 0",
                  (unsigned long long)it->id, it->stock, req->stock_delta);
        return;
    }
    it->name_zh = in->name_zh;
    it->name_en = (char *)str0(in->name_en);
    it->price = in->price;
    it->retired = in->retired;
    it->stock = (uint32_t)stock;
    if (item_save(c, it, before, blen))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_SHOP_ITEM;
    c->resp->shop_item = it;
}

void points_list_shop(call *c, const Whistle__V1__ListShop *req)
{
    const char *comm = vol_community(c, req->community);
    if (!comm || vol_reach_read(c, comm, "a community's supermarket is read inside the caller's scope"))
        return;
    uint64_t *ids;
    size_t n;
    bool more;
    if (volrec_scan(c, 's', comm, 0, 10000, &ids, &n, &more))
        return;
    Whistle__V1__ShopCatalogue *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__shop_catalogue__init(l);
    l->items = arena_alloc(c->a, (n ? n : 1) * sizeof *l->items);
    for (size_t i = 0; i < n; i++) {
        Whistle__V1__ShopItem *it = item_get(c, ids[i], NULL, NULL);
        if (!it)
            return;
        if (it->retired && !req->include_retired)
            continue;
        l->items[l->n_items++] = it;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_SHOP;
    c->resp->shop = l;
}

void points_redeem(call *c, const Whistle__V1__Redeem *req)
{
    /* At the desk: the worker's certificate and the volunteer's card. */
    Whistle__V1__Volunteer *v = vol_prove_code(c, req->volunteer_id, req->code);
    if (!v || vol_reach(c, v->community, "a community redeems at its own desk"))
        return;
    void *before;
    size_t blen;
    Whistle__V1__ShopItem *it = item_get(c, req->item_id, &before, &blen);
    if (!it)
        return;
    if (strcmp(it->community, v->community) != 0 || it->retired) {
        call_fail(c, CODE(FAILED_PRECONDITION), "item %llu is not on community %s's shelves",
                  (unsigned long long)it->id, v->community);
        return;
    }
    uint32_t qty = req->quantity ? req->quantity : 1;
    if (qty > 1000) {
        call_fail(c, CODE(INVALID_ARGUMENT), "quantity %u: at most 1000", qty);
        return;
    }
    if (it->stock < qty) {
        call_fail(c, CODE(FAILED_PRECONDITION), "item %llu has %u in stock; %u asked (rule: stock never goes below 0)",
                  (unsigned long long)it->id, it->stock, qty);
        return;
    }
    Whistle__V1__LedgerEntry *e = arena_alloc(c->a, sizeof *e);
    whistle__v1__ledger_entry__init(e);
    e->community = v->community;
    e->from_account = (char *)volrec_account(c->a, v->id);
    e->to_account = (char *)VOL_SHOP;
    e->amount = (int64_t)it->price * qty;
    e->kind = (char *)"redeem";
    e->reason = arena_printf(c->a, "%u x %s", qty, it->name_zh);
    e->item_id = it->id;
    e->quantity = qty;
    it->stock -= qty;
    if (volrec_post(c, e) || item_save(c, it, before, blen))
        return;
    Whistle__V1__Redemption *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__redemption__init(r);
    r->entry = e;
    r->item = it;
    if (volrec_balance(c, v->community, e->from_account, &r->balance))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_REDEMPTION;
    c->resp->redemption = r;
}
