"""web_console_browser.py: the web console's pages in a real browser, for
web_console.py (which starts whistled and the gateway): Debian's chromium
headless, driven by chromium-driver through python3-selenium. Each browser
is its own person (a fresh profile, so its own session cookie)."""
import json
import os
import re
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from gateway_lib import Fail

WAIT = 30  # s: the longest any one thing may take to show (ASan builds are slow)


class Browser:
    def __init__(self, env, shots, size):
        self.env, self.shots = env, shots
        self.profile = tempfile.mkdtemp(prefix="whistle-chromium-")
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--user-data-dir=" + self.profile, "--window-size=%d,%d" % size, "--lang=zh-CN",
                  "--no-first-run", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-default-apps", "--disable-extensions"):
            o.add_argument(a)
        o.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
        # the test PKI's CA is not the system's; the page itself is what is tested
        o.set_capability("acceptInsecureCerts", True)
        o.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.service = Service("/usr/bin/chromedriver", log_path=os.devnull)
        self.d = webdriver.Chrome(service=self.service, options=o)
        self.d.set_page_load_timeout(WAIT)
        self.base = "https://127.0.0.1:%d" % env.gw_port
        self.urls = []

    def close(self):
        try:
            self.d.quit()  # ends chromium and stops the chromedriver it started, by PID
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def wait(self, what, fn, seconds=WAIT):
        try:
            # a live page redraws under the test: an element gone stale is
            # looked for again
            return WebDriverWait(self.d, seconds, poll_frequency=0.1,
                                 ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(
                lambda d: fn())
        except Exception as e:
            self.shot("failed")
            raise Fail("the page did not show %s within %d s (%s)" % (what, seconds, type(e).__name__))

    def click(self, sel):
        """Clicks the first element sel finds, once it is there (again if
        the page redrew it in between)."""
        def go():
            els = self.css(sel)
            if not els:
                return False
            els[0].click()
            return True
        self.wait(sel + " to click", go)

    def css(self, sel):
        return self.d.find_elements(By.CSS_SELECTOR, sel)

    def shot(self, name):
        self.d.save_screenshot(os.path.join(self.shots, name + ".png"))

    def login(self, login, password):
        self.d.get(self.base + "/web/")
        self.wait("the login form", lambda: self.d.find_element(By.ID, "login-name").is_displayed())
        self.d.find_element(By.ID, "login-name").send_keys(login)
        self.d.find_element(By.ID, "login-password").send_keys(password)
        self.d.find_element(By.ID, "login-submit").click()
        self.wait("the console after login", lambda: self.d.find_element(By.ID, "app").is_displayed())
        self.wait("the live stream on", lambda: "on" in self.d.find_element(By.ID, "live").get_attribute("class"))

    def tab(self, view):
        self.d.find_element(By.CSS_SELECTOR, "#tabs button[data-view=%s]" % view).click()

    def requests(self):
        """Every URL the browser asked for since the last call."""
        for entry in self.d.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                self.urls.append(m["params"]["request"]["url"])
        return self.urls


def run(env, users, report, check, tiles):
    shots = os.path.join(env.build, "web-screenshots")
    os.makedirs(shots, exist_ok=True)
    browsers = []
    try:
        op = Browser(env, shots, (1920, 1080))
        browsers.append(op)
        op.login("operator", users["operator"][1])
        check(op.css("#map path.area.grid"), "the map draws the street's grids from their boundaries")
        op.wait("the tiles under the map", lambda: op.css("#map image.tile"))
        check(all(re.fullmatch(r"/tiles/1[0-9]/[0-9]+/[0-9]+\.png", p) for p in tiles.paths) and tiles.paths,
              "the page asks the configured map server for tiles: %s" % tiles.paths[:2])
        # a case from the CLI appears without a reload
        t = report(env, "垃圾堆在1号楼门口 / rubbish at building 1", node="110105001001001", category="0103")
        op.wait("the new case's marker on the map", lambda: op.css("#map circle[data-ticket='%s']" % t))
        m = op.css("#map circle[data-ticket='%s']" % t)[0]
        check(m.get_attribute("data-state") == "reported", "the marker of %s shows it reported" % t)
        op.d.find_element(By.ID, "heat").click()
        op.wait("the heat view", lambda: any("rgba" in (p.get_attribute("style") or "")
                                             for p in op.css("#map path.area.grid")))
        op.shot("map")
        op.tab("cases")
        op.wait("the case in the list", lambda: op.css("#case-rows tr[data-ticket='%s']" % t))
        op.shot("cases")
        # file and whistle it from the page
        op.click("#case-rows tr[data-ticket='%s']" % t)
        op.wait("the file action on the card", lambda: op.css("#card .do-file"))
        op.click("#card .do-file")
        op.wait("the case filed", lambda: op.css("#card .do-whistle"))
        op.click("#card .do-whistle")
        op.wait("the proposed departments", lambda: op.css("#whistle-form input:checked"))
        proposed = [i.get_attribute("value") for i in op.css("#whistle-form input:checked")]
        check("urban" in proposed, "the whistle form proposes the category's departments: %s" % proposed)
        op.shot("card-whistle")
        op.click("#whistle-form .do-whistle-send")
        op.wait("the case whistled", lambda: "已吹哨" in op.d.find_element(By.ID, "card-body").text)
        op.shot("card")
        op.tab("board")

        def board_row():
            rows = [r for r in op.css("#order-rows tr") if t in r.text]
            if not rows:
                return None
            cd = rows[0].find_element(By.CSS_SELECTOR, ".cd")
            return rows[0].get_attribute("data-order"), cd.get_attribute("class"), cd.text

        order_id, cls, text = op.wait("the order on the board", board_row)
        check("green" in cls or "amber" in cls, "the board shows order %s with a running countdown (%s)" % (
            order_id, text))

        # the department's desk, at a desk's size
        ur = Browser(env, shots, (1280, 800))
        browsers.append(ur)
        ur.login("urban", users["urban"][1])
        sel = ".desk .order[data-order='%s']" % order_id
        text1 = ur.wait("the order on the urban desk with its countdown",
                        lambda: ur.css(sel)[0].find_element(By.CSS_SELECTOR, ".cd").text.strip())
        check(True, "the department's desk shows the order with its countdown: %s" % text1)
        po = getattr(env, "photo_order", None)
        if po:
            n = ur.wait("the photo case's photos on its order's desk card", lambda: ur.d.execute_script(
                "return [...document.querySelectorAll(arguments[0])].filter(i => i.complete && "
                "i.naturalWidth > 0).length;", ".desk .order[data-order='%s'] .desk-photos img.thumb" % po) == 3)
            check(n, "the desk shows the case's photos on the order's card (the report's and the work done)")
        ur.shot("desk")
        ur.wait("the countdown moving", lambda: ur.css(sel)[0].find_element(By.CSS_SELECTOR, ".cd").text != text1)
        check(True, "the countdown runs")
        ur.click(sel + " .do-check-in")
        ur.wait("the order checked in on the desk", lambda: ur.css(sel + " .do-feedback"))
        # the operator's board follows, pushed
        op.wait("the board updated to checked in", lambda: [
            r for r in op.css("#order-rows tr[data-order='%s'] td.ostate" % order_id) if r.text == "已报到"])
        check(True, "the operator's board shows the check-in without a reload")
        op.d.find_element(By.ID, "card-close").click()
        op.shot("board")

        # an extension the department asks for (CLI) is decided on the board
        env.cli("--as", "urban", "extend", order_id, "--hours", "4", "--reason", "materials come tomorrow")
        op.click("#order-rows tr[data-order='%s'] button:not(.danger)" % order_id)
        op.wait("the approve button gone", lambda: not op.css("#order-rows tr[data-order='%s'] button" % order_id))
        out = env.cli("--as", "operator", "--json", "orders", "--ticket", t)
        orders = [o for x in out.splitlines() if x.strip() for o in json.loads(x).get("orders", [json.loads(x)])]
        ext = [o.get("extension") or {} for o in orders if str(o.get("id")) == order_id]
        check(ext and ext[0].get("state") == "approved", "the operator approves the extension from the board: %s" % (
            ext[0].get("state") if ext else out[:200]))
        # the desk feeds back, with a photo of the work done; the board follows
        ur.wait("the feedback action", lambda: ur.css(sel + " .do-feedback"))
        photo = getattr(env, "photo_path", None)

        sent = [None]  # the file input the photo went to

        # A live push may draw the card again while it is being filled in
        # (the element found is then stale, or the text gone): fill in what
        # the card lacks until it holds both.
        def filled():
            t = ur.css(sel + " textarea")[0]
            if t.get_attribute("value") != "cleaned up":
                ur.d.execute_script("const t = document.querySelector(arguments[0]); t.value = 'cleaned up';"
                                    "t.dispatchEvent(new Event('input'));", sel + " textarea")
            if photo and not ur.css(sel + " .photo-picker .chosen"):
                pick = ur.css(sel + " input.photo-pick")[0]
                if pick != sent[0]:  # a new input (the card drawn again): choose it there
                    pick.send_keys(photo)
                    sent[0] = pick
            return (ur.css(sel + " textarea")[0].get_attribute("value") == "cleaned up"
                    and (not photo or ur.css(sel + " .photo-picker .chosen")))
        ur.wait("the feedback filled in" + (" with its photo" if photo else ""), filled)
        ur.click(sel + " .do-feedback")
        op.wait("the board updated to done", lambda: [
            r for r in op.css("#order-rows tr[data-order='%s'] td.ostate" % order_id) if r.text == "已办结"])
        check(True, "the department feeds back from its desk and the operator's board shows it done")
        if photo:
            shown = json.loads(env.cli("--as", "operator", "--json", "show", t).splitlines()[0])
            fb = [p for p in shown.get("photos", []) if str(p.get("stage")).lower().endswith("feedback")]
            check(len(fb) == 1 and fb[0].get("by") == "urban",
                  "the photo chosen on the desk came with the feedback: %s" % fb)

        # statistics and supervision
        op.tab("stats")
        op.wait("the charts", lambda: len(op.css("#charts .chart svg")) >= 5)
        op.shot("stats")

        # an emergency call takes over the screen until acknowledged
        env.cli("--as", "kiosk", "emergency", "--node", "110105001001001", "老人摔倒 / an old man fell")
        op.wait("the emergency takeover", lambda: op.d.find_element(By.ID, "emergency").is_displayed())
        op.shot("emergency")
        op.d.find_element(By.ID, "emergency-ack").click()
        op.wait("the takeover gone", lambda: not op.d.find_element(By.ID, "emergency").is_displayed())
        check(True, "an emergency call covers the screen until acknowledged")
        op.d.refresh()
        op.wait("the console after a reload", lambda: op.d.find_element(By.ID, "app").is_displayed())
        op.wait("the live stream on", lambda: "on" in op.d.find_element(By.ID, "live").get_attribute("class"))
        # the stream is in order: once a newer case is on the map, a replayed
        # emergency would have come before it
        t4 = report(env, "a case after the reload", node="110105001001001", category="0103")
        op.wait("the newer case on the map", lambda: op.css("#map circle[data-ticket='%s']" % t4))
        check(not op.d.find_element(By.ID, "emergency").is_displayed(),
              "an acknowledged emergency does not come back after a reload")

        # a case's photos: a thumbnail in the list, before and after side by
        # side on the card, each one loaded (test_photos made the case)
        tp = getattr(env, "photo_case", None)
        if tp:
            op.tab("cases")
            op.wait("the photo case's thumbnail in the list", lambda: op.d.execute_script(
                "const i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth > 0;",
                "#case-rows tr[data-ticket='%s'] img.thumb" % tp))
            check(True, "the case list shows the case's first photo as a thumbnail")
            op.click("#case-rows tr[data-ticket='%s']" % tp)

            def loaded(side):
                return op.d.execute_script(
                    "return [...document.querySelectorAll(arguments[0])].filter(i => i.complete && "
                    "i.naturalWidth > 0).map(i => i.dataset.stage);", "#card .before-after ." + side + " img.photo")

            before = op.wait("the before photo on the card", lambda: loaded("before"))
            after = op.wait("the after photos on the card", lambda: len(loaded("after")) == 2 and loaded("after"))
            check(before == ["report"] and sorted(after) == ["feedback", "verify"],
                  "the card shows the report's photo before, the feedback's and the verification's after, side by "
                  "side: %s | %s" % (before, after))
            # both read in one script: the card may be drawn again between
            # two element look-ups (a live push), leaving one stale
            xb, xa = op.wait("the card's before and after columns", lambda: op.d.execute_script(
                "const b = document.querySelector('#card .before-after .before'), "
                "a = document.querySelector('#card .before-after .after'); "
                "return b && a ? [b.getBoundingClientRect().left, a.getBoundingClientRect().left] : null;"))
            check(xa > xb, "before on the left, after on the right (%d < %d)" % (xb, xa))
            op.shot("card-photos")
            op.d.find_element(By.ID, "card-close").click()

        # both languages, by a switch; names follow
        op.tab("cases")
        op.click("header .lang-switch")
        op.wait("English", lambda: op.d.find_element(By.CSS_SELECTOR, "#tabs button[data-view=map]").text == "Map")
        op.wait("the category's English name", lambda: "Dirty road surface" in op.d.find_element(
            By.ID, "case-rows").text)
        op.shot("cases-en")
        op.tab("map")
        op.wait("the map in English", lambda: "Yong'an Dongli" in op.d.find_element(By.ID, "map").text or
                any("Yong'an Dongli" in x.get_attribute("textContent") for x in op.css("#map text.label")))
        op.shot("map-en")
        op.click("header .lang-switch")

        # a user without rights sees no action, and a forged one is refused
        # (a community's own stream has only its own reports: the case is
        # there before it logs in)
        t2 = report(env, "another case for the community's eyes", node="110105001001001", category="0103")
        cm = Browser(env, shots, (1280, 800))
        browsers.append(cm)
        cm.login("community", users["community"][1])
        cm.tab("cases")
        cm.wait("the case in the community's list", lambda: cm.css("#case-rows tr[data-ticket='%s']" % t2))
        cm.click("#case-rows tr[data-ticket='%s']" % t2)
        cm.wait("the card", lambda: t2 in cm.d.find_element(By.ID, "card-body").text)
        check(not cm.css("#card button[class^=do-], #card button[class*=' do-']"),
              "the community user's card shows no action it cannot take")
        cm.tab("board")
        check(not cm.css("#order-rows button"), "nor on the board")
        res = cm.d.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch('/web/api/call/file', {method: 'POST', headers: {'Content-Type': 'application/json',
              'X-CSRF-Token': S.csrf}, body: JSON.stringify({ticket: arguments[0]})})
              .then(async r => done([r.status, await r.json()])).catch(e => done([0, String(e)]));""", t2)
        check(res[0] == 403 and res[1]["code"] == "PERMISSION_DENIED",
              "a request forged in the community user's page is refused by whistled")
        cm.shot("community")
        # logout from the page ends the session: a reload shows the login
        cm.d.find_element(By.ID, "logout").click()
        cm.wait("the login form after logout", lambda: cm.d.find_element(By.ID, "login").is_displayed())
        cm.d.refresh()
        cm.wait("the login form after a reload", lambda: cm.d.find_element(By.ID, "login").is_displayed())
        check(True, "logout from the page ends the session")

        # the public echo board: no login
        env.cli("--as", "community", "board", "post", "110105001001", "--title", "周六义诊 / Free clinic on Saturday",
                "--body", "社区服务站 9:00-11:00")
        cm.d.get(cm.base + "/web/public.html?node=110105001001")
        cm.wait("the notice on the public board", lambda: "周六义诊" in cm.d.find_element(By.ID, "p-notices").text)
        check("永安里社区" in cm.d.find_element(By.ID, "p-place").text and not cm.css("#login-form"),
              "the public echo board shows the community's notice, by name, with no login")
        cm.shot("public-board")
        # and the community's anonymised statistics, as whistle stats says
        from web_console import public_stats_expected
        want = public_stats_expected(env, "110105001001")
        cm.wait("the public statistics", lambda: cm.css("#p-stats tr[data-month]"))
        rows = {r.get_attribute("data-month"): {c.get_attribute("data-k"): c.text
                                                for c in r.find_elements(By.CSS_SELECTOR, "td[data-k]")}
                for r in cm.css("#p-stats tr[data-month]")}
        check(want and all(rows.get(w["bucket"], {}).get(k) == str(int(w.get(k, 0)))
                           for w in want for k in ("reported", "closed", "rated")),
              "the public page shows the community's cases reported, closed and rated as whistle stats says "
              "(%s vs %s)" % (rows, want))
        check(("本社区办件情况" in cm.d.find_element(By.ID, "p-stats").text) or
              ("Cases in this community" in cm.d.find_element(By.ID, "p-stats").text),
              "the statistics are titled in the page's language")

        # nothing but the gateway: every network request of every page
        # (chrome:// pages are the browser's own, before the test navigates)
        for b in browsers:
            net = [u for u in b.requests() if not u.startswith(("chrome:", "chrome-untrusted:", "about:", "data:"))]
            outside = [u for u in net if not u.startswith((b.base + "/", tiles.origin + "/tiles/"))]
            check(not outside and net, "the %s browser asked only the gateway and the map server (%d requests)" % (
                "operator's" if b is op else "desk's" if b is ur else "community's", len(net)) +
                ("; outside: %s" % outside[:3] if outside else ""))
    finally:
        for b in browsers:
            b.close()
