"""web_console.py: whistle-gateway's web console (docs/web.md) against a real
whistled: its API as a program sees it (login, sessions, CSRF, logout, calls
answered as whistled answers them, a forged request refused by whistled,
the live stream resumed from Last-Event-ID), then the pages in a real
browser (Debian's chromium headless, driven by chromium-driver through
python3-selenium): a case reported from the CLI appears on the map and in
the list without a reload, it is whistled from the page, the department's
desk shows the order with its countdown and checks in, the operator's
board follows; a user without rights sees no action; the page makes no
request to another host. Screenshots of every screen go to
BUILD/web-screenshots/.

    web_console.py BUILD_DIR SOURCE_DIR

Every process started is stopped by its PID; every wait is bounded."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_lib import PHOTO_A, PHOTO_B, PHOTO_DEVICE_STRINGS, Env, Fail, photo_file  # noqa: E402

USERS = {  # login: (principal, password)
    "operator": ("operator", "operator-pass-1"),
    "urban": ("urban", "urban-pass-1"),
    "community": ("community", "community-pass-1"),
    "operator2": ("operator2", "operator2-pass-1"),  # Chaowai's: another street
    "stranger": ("admin", "stranger-pass-1"),  # the gateway may not act for admin
}


def check(cond, what):
    if not cond:
        raise Fail(what)
    print("ok: " + what)


class Web:
    """A browser-like client of /web/api/: one cookie jar, one CSRF token."""

    def __init__(self, env):
        self.env, self.cookie, self.csrf = env, None, None

    def req(self, method, path, body=None, headers=None, raw=None):
        h = dict(headers or {})
        if self.cookie and "Cookie" not in h:
            h["Cookie"] = self.cookie
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPSConnection("127.0.0.1", self.env.gw_port, context=self.env.ctx, timeout=30)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            b = r.read()
            self.body = b
            sc = r.getheader("Set-Cookie")
            if sc:
                v = sc.split(";")[0]
                self.cookie = v if v.split("=", 1)[1] else None
                self.set_cookie = sc
            try:
                j = json.loads(b) if b else None
            except ValueError:
                j = None
            return r.status, j, r
        finally:
            c.close()

    def login(self, login, password):
        st, j, _ = self.req("POST", "/web/api/login", {"login": login, "password": password})
        if st == 200:
            self.csrf = j["csrf"]
        return st, j

    def call(self, name, body=None, csrf=True):
        h = {"X-CSRF-Token": self.csrf} if csrf and self.csrf else {}
        return self.req("POST", "/web/api/call/" + name, body or {}, headers=h)[:2]


# one 1x1 PNG for every tile the page asks for
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e5"
                    "27de5c0000000049454e44ae426082")


class Tiles:
    """The city's own map server, on loopback: HTTPS with the test PKI's
    certificate, a thread of this process; it notes every path asked."""

    def __init__(self, env):
        import http.server
        import ssl
        import threading
        paths = self.paths = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(env.pki, "server.crt"), os.path.join(env.pki, "server.key"))
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.origin = "https://127.0.0.1:%d" % self.srv.server_address[1]
        self.url = self.origin + "/tiles/{z}/{x}/{y}.png"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def make_users(env, tile_url=""):
    lines = []
    for login, (principal, pw) in USERS.items():
        r = subprocess.run([os.path.join(env.build, "whistle-gateway"), "--hash-password"], input=pw + "\n",
                           capture_output=True, text=True, timeout=60, check=True)
        h = r.stdout.strip()
        check(h.startswith("$argon2id$"), "--hash-password makes an argon2id hash for %s" % login)
        lines.append("%s = %s %s" % (login, principal, h))
    return "[web]\nenabled = true\nroot = %s\nsession_idle = 600\ntile_url = %s\npublic_as = kiosk\n" \
        "public_stats_as = operator\n" \
        "[web_users]\n%s\n" % (
        os.path.join(env.src, "client/web"), tile_url, "\n".join(lines))


def report(env, text, node="110105001001001", category="0103"):
    out = env.cli("--as", "gridworker", "--json", "report", "--node", node, "--category", category, text)
    return json.loads(out.splitlines()[0])["ticket"]


def sse_read(env, cookie, last_id=None, want=1, seconds=20, until=None, out=None):
    """Reads the event stream until `want` push events came (or one for
    which until(data) holds): [(id, data)]."""
    import socket
    import ssl
    s = socket.create_connection(("127.0.0.1", env.gw_port), timeout=seconds)
    s = env.ctx.wrap_socket(s, server_hostname="127.0.0.1")
    head = "GET /web/api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\nAccept: text/event-stream\r\n" % cookie
    if last_id is not None:
        head += "Last-Event-ID: %d\r\n" % last_id
    s.sendall((head + "\r\n").encode())
    buf, got, end = b"", out if out is not None else [], time.time() + seconds
    try:
        while len(got) < want and time.time() < end:
            try:
                d = s.recv(65536)
            except (socket.timeout, ssl.SSLError):
                break
            if not d:
                break
            buf += d
            while b"\n\n" in buf:
                block, buf = buf.split(b"\n\n", 1)
                ev, eid, data = None, None, None
                for line in block.decode(errors="replace").split("\n"):
                    if line.startswith("event: "):
                        ev = line[7:]
                    elif line.startswith("id: "):
                        eid = int(line[4:])
                    elif line.startswith("data: "):
                        data = line[6:]
                if ev == "push":
                    got.append((eid, json.loads(data)))
                    if until and until(got[-1][1]):
                        return got
                if ev in ("refused", "logout"):
                    got.append((None, {"event": ev, "data": data}))
                    return got
    finally:
        s.close()
    return got


def test_api(env, tiles):
    anon = Web(env)
    st, j, r = anon.req("GET", "/web/")
    csp = r.getheader("Content-Security-Policy") or ""
    check(st == 200 and "default-src 'self'" in csp and "img-src 'self' data: %s;" % tiles.origin in csp,
          "the page is served with a self-only content security policy (images: also the tile server)")
    st, j, _ = anon.req("GET", "/web/api/session")
    check(st == 401, "no session: the API answers 401")
    st, j, _ = anon.req("GET", "/web/..%2f..%2fetc%2fpasswd")
    check(st == 404, "a path out of the web root is not served")
    # login
    st, j = anon.login("operator", "wrong password")
    check(st == 401 and anon.cookie is None, "a wrong password is refused, no cookie")
    st, j = anon.login("nobody", "whatever-pass")
    check(st == 401, "an unknown login is refused alike")
    st, _, _ = anon.req("POST", "/web/api/login", raw=b"login=operator&password=operator-pass-1",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 415, "a login from a form (a cross-site post) is refused: JSON only")
    st, j = anon.login("stranger", USERS["stranger"][1])
    check(st == 403 and "act" in j["message"], "a login for a principal the gateway may not act for is refused by "
          "whistled: %s" % j["message"][:80])
    # guessing: after 5 failures in a row a login waits, without a check
    for _ in range(5):
        st, j = anon.login("stranger", "guess")
    check(st == 401, "five wrong passwords are five refusals")
    st, _, r = anon.req("POST", "/web/api/login", {"login": "stranger", "password": USERS["stranger"][1]})
    check(st == 429 and 0 < int(r.getheader("Retry-After")) <= 30, "the sixth attempt waits (429, Retry-After: "
          "%s), even with the right password" % r.getheader("Retry-After"))
    op = Web(env)
    st, j = op.login("operator", USERS["operator"][1])
    check(st == 200 and j["who"]["role"] == "operator" and j["who"]["scope"] == "110105001",
          "the operator logs in; whistled says who it is (role, scope)")
    sc = op.set_cookie
    check("HttpOnly" in sc and "Secure" in sc and "SameSite=Strict" in sc, "the session cookie is HttpOnly, Secure, "
          "SameSite=Strict")
    st, j, _ = op.req("GET", "/web/api/session")
    check(st == 200 and j["login"] == "operator", "the session answers who is logged in")
    # CSRF
    st, j = op.call("list_events", {"limit": 5}, csrf=False)
    check(st == 403 and "CSRF" in j["message"], "a POST without the CSRF token is refused")
    st, j, _ = op.req("POST", "/web/api/call/list_events", {}, headers={"X-CSRF-Token": "0" * 64})
    check(st == 403, "a POST with another token is refused")
    # calls
    t = report(env, "rubbish on the pavement by building 3")
    st, j = op.call("get_event", {"ticket": t})
    check(st == 200 and j["event"]["ticket"] == t and j["event"]["state"] == "reported",
          "get_event answers the case as whistled has it")
    st, j = op.call("list_events", {"state": "bogus"})
    check(st == 400 and "state" in j["message"], "a bad enum word is a clear 400: " + j["message"][:60])
    st, j = op.call("list_events", {"no_such_field": 1})
    check(st == 400 and "no_such_field" in j["message"], "an unknown field is refused, not dropped")
    st, j = op.call("import_directory", {})
    check(st == 404, "calls the console does not make are not offered")
    # a forged request: the community user's page shows no whistle action,
    # and whistled refuses it when sent anyway
    cm = Web(env)
    st, j = cm.login("community", USERS["community"][1])
    check(st == 200 and j["who"]["role"] == "community", "the community user logs in")
    st, j = cm.call("file", {"ticket": t})
    check(st == 403 and j["code"] == "PERMISSION_DENIED", "a forged file by the community user is refused by "
          "whistled: " + j["message"][:80])
    st, j = op.call("file", {"ticket": t})
    check(st == 200 and j["event"]["state"] == "filed", "the operator files it")
    st, j = op.call("file", {"ticket": t})
    check(st == 409, "filing it again is refused as whistled refuses it (%s)" % j["code"])
    ti = report(env, "a case filed twice by a retried request")
    h = {"X-CSRF-Token": op.csrf, "Idempotency-Key": "web-test-retry-1"}
    a = op.req("POST", "/web/api/call/file", {"ticket": ti}, headers=h)[:2]
    b = op.req("POST", "/web/api/call/file", {"ticket": ti}, headers=h)[:2]
    check(a[0] == b[0] == 200 and a[1]["event"]["version"] == b[1]["event"]["version"],
          "a write retried with its Idempotency-Key is applied once and answered again")
    # the audit names the person's principal, via the gateway
    out = env.cli("--as", "admin", "--json", "admin", "audit", "--target", t)
    rows = [r for x in out.splitlines() if x.strip() for r in json.loads(x).get("entries", [])]
    filed = [r for r in rows if r.get("call") == "file" and not r.get("denied")]
    check(filed and filed[0]["principal"] == "operator" and filed[0].get("via") == "gateway",
          "the audit names the operator, via the gateway")
    # live: the operator's stream, resumed from Last-Event-ID
    st, j = op.call("reject", {"ticket": report(env, "second report for the stream"), "reason": "duplicate"})
    check(st == 200, "the operator rejects a second case")
    got = sse_read(env, op.cookie, last_id=0, want=3)
    check(len(got) >= 3 and all(e for e, _ in got), "the stream replays from Last-Event-ID 0 with ids")
    last = got[-1][0]
    t3 = report(env, "third report after the reconnect")
    got2 = sse_read(env, op.cookie, last_id=last, want=100, until=lambda d: d["event"]["ticket"] == t3)
    ids = [e for e, _ in got2]
    check(got2 and ids[0] == last + 1 and ids == sorted(ids) and got2[-1][1]["event"]["ticket"] == t3,
          "a reconnect with Last-Event-ID resumes right after it, in order, up to the new case")
    # logout, with a live stream open: the stream ends with the session
    import threading
    seen = []
    th = threading.Thread(target=lambda: sse_read(env, op.cookie, want=1000, seconds=30, out=seen))
    th.start()
    t5 = report(env, "a case seen live before the logout")
    end = time.time() + 30
    while time.time() < end and not [1 for _, d in seen if d.get("event", {}).get("ticket") == t5]:
        time.sleep(0.05)
    st, j, _ = op.req("POST", "/web/api/logout", {}, headers={"X-CSRF-Token": op.csrf})
    check(st == 200 and op.cookie is None, "logout clears the cookie")
    th.join(40)
    check(not th.is_alive() and seen and seen[-1][1].get("event") == "logout",
          "the session's live stream ends at logout, saying so (%s; %d events, the last %s)" % (
              "still open" if th.is_alive() else "ended", len(seen), seen[-1][1] if seen else None))
    op.cookie = sc.split(";")[0]
    st, j, _ = op.req("GET", "/web/api/session")
    check(st == 401, "the old cookie is dead after logout")
    st, j = op.call("list_events", {})
    check(st == 401, "and calls with it are refused")
    return t


# what the public statistics may hold: counts and rates of a community's
# months, nothing else (no case, person, address or phone)
PSTAT_KEYS = {"stats", "node", "months", "month", "reported", "filed", "closed", "due", "closed_on_time", "rated",
              "satisfied", "close_rate", "on_time_close_rate", "satisfaction_rate", "average_rating"}


def json_keys(v):
    if isinstance(v, dict):
        return set(v) | set().union(*[json_keys(x) for x in v.values()])
    if isinstance(v, list):
        return set().union(*[json_keys(x) for x in v]) if v else set()
    return set()


def public_stats_expected(env, node):
    """The newest two months of the community as `whistle stats` says."""
    import datetime
    today = datetime.datetime.now(datetime.timezone.utc).date()
    first = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    out = env.cli("--as", "operator", "--json", "stats", "--by", "community", "--code", node,
                  "--from", first.isoformat())
    rows = [r for r in json.loads(out)["rows"] if r.get("bucket") != "total"]
    return list(reversed(rows))[:2]


def test_public_stats(env):
    # another community than the browser's public page reads: the gateway
    # keeps an answer 60 s, and that page must see its community afresh
    anon = Web(env)
    node = "110105001002"
    out = env.cli("--as", "operator", "--json", "report", "--node", "110105001002001", "--category", "0103",
                  "a case in the second community")
    check(json.loads(out.splitlines()[0])["ticket"], "a case is reported in the second community")
    st, j, _ = anon.req("GET", "/web/api/public/stats?node=" + node)
    check(st == 200 and j["stats"]["node"] == node and j["stats"]["months"],
          "the public statistics of a community answer with no login")
    keys = json_keys(j)
    check(keys <= PSTAT_KEYS, "the public statistics hold only the whitelisted counts and rates (%s)"
          % sorted(keys - PSTAT_KEYS))
    text = json.dumps(j, ensure_ascii=False)
    check("second community" not in text and "operator" not in text and "110105001002001" not in text,
          "no case text, no principal and no place finer than the community in the public statistics")
    want = public_stats_expected(env, node)
    got = j["stats"]["months"]
    check(len(got) == len(want) and all(
        g["month"] == w["bucket"] and all(int(g[k]) == int(w.get(k, 0)) for k in
                                          ("reported", "filed", "closed", "due", "closed_on_time", "rated",
                                           "satisfied")) for g, w in zip(got, want)),
          "the public statistics match what whistle stats says for the community (%s vs %s)" % (got, want))
    check(got[0]["reported"] >= 1, "the community's cases reported this month are counted")
    st, j, _ = anon.req("GET", "/web/api/public/stats?node=110105002001")
    check(st == 403 and j.get("code") == "PERMISSION_DENIED" and "110105001" not in j.get("message", ""),
          "a community outside web.public_stats_as's scope is refused, without naming that scope (%s %s)" % (st, j))
    st2, j2, _ = anon.req("GET", "/web/api/public/stats?node=110105002001")
    check(st2 == 403, "and refused again from the gateway's memory")
    for bad in ("110105001001001", "11010500100x", ""):
        st, j, _ = anon.req("GET", "/web/api/public/stats?node=" + bad)
        check(st == 400, "node %r: not a community's code, refused (400)" % bad)
    st, _, _ = anon.req("POST", "/web/api/public/stats?node=" + node, {})
    check(st == 405, "the public statistics are read with GET only")


def test_photos(env):
    """A case's photos in the console: before (the patrol's report) and
    after (the department's feedback, the verification), read as the
    person's principal; another street's operator is refused; a
    department sends its feedback's photo through the page."""
    import hashlib
    pa, pb = photo_file(env, "a.jpg", PHOTO_A), photo_file(env, "b.jpg", PHOTO_B)
    t = env.cli("-q", "--as", "gridworker", "report", "--node", "110105001001001", "--category", "0103", "--photo", pa,
                "garbage heap behind building 2, photo").strip()
    env.cli("--as", "operator", "file", t)
    env.cli("--as", "operator", "whistle", t, "--dept", "urban", "--lead", "urban")
    order = env.cli("-q", "--as", "urban", "orders", "--ticket", t).split()[0]
    env.cli("--as", "urban", "checkin", order)
    env.cli("--as", "urban", "feedback", order, "heap cleared", "--photo", pb)
    env.cli("--as", "gridworker", "verify", t, "--pass", "--note", "clear now", "--photo", pa)
    op = Web(env)
    st, _ = op.login("operator", USERS["operator"][1])
    st, j = op.call("get_event", {"ticket": t})
    ps = j["event"].get("photos", []) if st == 200 else []
    stages = [str(p["stage"]).lower().replace("photo_stage_", "") for p in ps]
    check(stages == ["report", "feedback", "verify"] and j["event"].get("photo_count") == 3,
          "get_event gives the case's three photos, before and after: %s" % stages)
    st, j = op.call("list_events", {"limit": 500})
    listed = [e for e in j["events"]["events"] if e["ticket"] == t] if st == 200 else []
    check(listed and listed[0].get("photo_count") == 3, "a listing gives the case's photo count")
    for p in ps:
        st, _, r = op.req("GET", "/web/api/photo/%d" % p["id"])
        body = op.body
        check(st == 200 and r.getheader("Content-Type") == p["mime"] == "image/jpeg" and
              hashlib.sha256(body).hexdigest() == p["sha256"],
              "photo %d (%s) arrives: 200 image/jpeg, its SHA-256" % (p["id"], p["stage"]))
        check(not [x for x in PHOTO_DEVICE_STRINGS if x in body] and "private" in (r.getheader("Cache-Control") or ""),
              "nothing of the phone in it, and only the browser keeps it")
        st, _, r = op.req("GET", "/web/api/photo/%d/thumb" % p["id"])
        check(st == 200 and r.getheader("Content-Type") == "image/jpeg" and op.body[:3] == b"\xff\xd8\xff",
              "its thumbnail arrives: 200 image/jpeg")
    # another street's operator: whistled refuses the photo as it refuses the case
    o2 = Web(env)
    st, _ = o2.login("operator2", USERS["operator2"][1])
    check(st == 200, "Chaowai's operator logs in")
    for p in ps[:1]:
        st, j, _ = o2.req("GET", "/web/api/photo/%d" % p["id"])
        check(st in (403, 404) and o2.body[:3] != b"\xff\xd8\xff",
              "another street's operator may not read the photo (%d %s)" % (st, (j or {}).get("code")))
        st, _, _ = o2.req("GET", "/web/api/photo/%d/thumb" % p["id"])
        check(st in (403, 404), "nor its thumbnail (%d)" % st)
    anon = Web(env)
    st, _, _ = anon.req("GET", "/web/api/photo/%d" % ps[0]["id"]) if ps else (401, None, None)
    check(st == 401, "no session, no photo (%d)" % st)
    for bad in ("abc", "0", "%d/big" % (ps[0]["id"] if ps else 1), "%d/thumb/x" % (ps[0]["id"] if ps else 1)):
        st, _, _ = op.req("GET", "/web/api/photo/" + bad)
        check(st == 404, "photo/%s: 404 (%d)" % (bad, st))
    st, _, _ = op.req("GET", "/web/api/photo/999999999")
    check(st in (403, 404), "a photo that is none: %d" % st)
    # a department sends its feedback's photo from the page: the photo's
    # bytes first (POST photo), then the feedback naming it
    t2 = env.cli("-q", "--as", "gridworker", "report", "--node", "110105001001001", "--category", "0103",
                 "a second heap, fed back from the desk").strip()
    env.cli("--as", "operator", "file", t2)
    env.cli("--as", "operator", "whistle", t2, "--dept", "urban", "--lead", "urban")
    order2 = env.cli("-q", "--as", "urban", "orders", "--ticket", t2).split()[0]
    env.cli("--as", "urban", "checkin", order2)
    ur = Web(env)
    st, _ = ur.login("urban", USERS["urban"][1])
    up = lambda data, ct="image/jpeg", csrf=True: ur.req(  # noqa: E731
        "POST", "/web/api/photo", raw=data, headers=dict({"Content-Type": ct}, **({"X-CSRF-Token": ur.csrf} if csrf
                                                                                 else {})))[:2]
    st, j = up(PHOTO_B, csrf=False)
    check(st == 403, "a photo sent without the session's CSRF token is refused (%d)" % st)
    st, j = up(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", ct="image/png")
    check(st == 400 and "not a JPEG or PNG image" in (j or {}).get("message", ""),
          "a GIF sent as a photo is refused by whistled, saying why: %s" % (j or {}).get("message"))
    st, j = up(PHOTO_B, ct="text/plain")
    check(st == 415, "a photo is sent as image/jpeg or image/png (%d)" % st)
    st, j = up(PHOTO_B)
    sha = (j or {}).get("photo", {}).get("sha256", "")
    check(st == 200 and j["photo"].get("complete") and sha == hashlib.sha256(PHOTO_B).hexdigest(),
          "the department's photo goes up through the gateway, named by its SHA-256 (%d %s)" % (st, j))
    st, j = ur.call("feedback", {"order_id": int(order2), "text": "second heap cleared", "photos": [sha]})
    check(st == 200, "the feedback names it (%d %s)" % (st, j))
    st, j = op.call("get_event", {"ticket": t2})
    fb = [p for p in j["event"].get("photos", []) if str(p["stage"]).lower().endswith("feedback")] if st == 200 else []
    check(len(fb) == 1 and fb[0]["by"] == "urban", "the case has the department's photo of the work done: %s" % fb)
    env.photo_case, env.photo_order, env.photo_path = t, order, pb
    return t


def main():
    build, src = sys.argv[1], sys.argv[2]
    env = Env(build, src, "web")
    ok, tiles = False, None
    try:
        subprocess.run(["sh", os.path.join(src, "scripts/dev-pki.sh"), env.pki, "gridworker", "urban", "community",
                        "kiosk"],
                       check=True, stdout=subprocess.DEVNULL)
        # the demo city as it is: boundaries, and the gateway acting for
        # the people of the web console
        shutil.copy(os.path.join(src, "conf/demo-city.json"), env.seed)
        env.start_whistled()
        tiles = Tiles(env)
        env.start_gateway(make_users(env, tiles.url))
        test_api(env, tiles)
        test_public_stats(env)
        test_photos(env)
        if os.environ.get("WEB_CONSOLE_NO_BROWSER") != "1":
            import web_console_browser
            web_console_browser.run(env, USERS, report, check, tiles)
        # a live stream open while the gateway stops: it ends the stream
        # and exits cleanly
        w = Web(env)
        w.login("operator", USERS["operator"][1])
        import socket
        s = env.ctx.wrap_socket(socket.create_connection(("127.0.0.1", env.gw_port), timeout=20),
                                server_hostname="127.0.0.1")
        s.sendall(("GET /web/api/events HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n" % w.cookie).encode())
        check(b"200" in s.recv(4096), "a live stream is open")
        check(env.stop("gateway") == 0, "the gateway stops cleanly with a live stream open (SIGTERM, exit 0)")
        s.close()
        # sessions live in the gateway's memory: a restart ends them; and
        # one unused for web.session_idle ends by itself
        env.start_gateway(make_users(env, tiles.url).replace("session_idle = 600", "session_idle = 5"))
        st, _, _ = w.req("GET", "/web/api/session")
        check(st == 401, "a restart of the gateway ends the sessions")
        w2 = Web(env)
        st, _ = w2.login("operator", USERS["operator"][1])
        st2, _, _ = w2.req("GET", "/web/api/session")
        time.sleep(6)  # past web.session_idle = 5, unused
        st3, _, _ = w2.req("GET", "/web/api/session")
        check(st == 200 and st2 == 200 and st3 == 401, "a session unused for web.session_idle ends")
        check(env.stop("gateway") == 0, "the gateway stops cleanly again")
        ok = True
    except Fail as e:
        print("FAIL: %s" % e)
    finally:
        if tiles:
            tiles.stop()
        env.cleanup(ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
