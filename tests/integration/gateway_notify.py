#!/usr/bin/python3
"""gateway_notify.py: whistle-gateway's notifier tells a webhook of every
status change, once each by idempotency key, across its own restart and the
receiver's absence.

A real whistled and a real whistle-gateway (notify on, as the hotline
integration); a small receiver (Python http.server over HTTPS, with the
fixture PKI's server certificate, which the gateway verifies against
notify.ca) stands in for the city's SMS gateway. The hotline reports through the gateway (the report is
delivered); the receiver goes away; the case is filed; the gateway stops;
the hotline reports again and that case is rejected; the gateway starts
again, and only then the receiver. Every change must arrive: seqs 1..4 of
principal:hotline, each signed (HMAC-SHA256 over the body), the
Idempotency-Key header matching the body, repeated deliveries of a key
identical; the one acknowledged before the stop never comes again.

    tests/integration/gateway_notify.py BUILD_DIR SOURCE_DIR"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import ssl
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_lib import API_KEY, GRID_WEST, Env, Fail, free_port  # noqa: E402

SECRET = "test-webhook-secret-0123456789"
PHONE = "13900001111"
STREAM = "principal:hotline"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return cond


class Receiver:
    """The SMS gateway's stand-in: records what it is sent, answers 200."""

    def __init__(self, port, pki=None):
        self.port = port
        self.pki = pki
        self.got = []  # (idempotency key header, body bytes, signature header)
        self.lock = threading.Lock()
        self.server = None

    def start(self):
        rec = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    rec.got.append((self.headers.get("Idempotency-Key"), body,
                                    self.headers.get("X-Whistle-Signature")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        if self.pki:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(self.pki, "server.crt"), os.path.join(self.pki, "server.key"))
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def keys(self):
        with self.lock:
            return [k for k, _, _ in self.got]

    def wait_keys(self, want, seconds):
        end = time.time() + seconds
        while time.time() < end:
            if want <= set(self.keys()):
                return True
            time.sleep(0.1)
        return False


def main():
    build, src = sys.argv[1], sys.argv[2]
    env = Env(build, src, "notify")
    rport = free_port()
    rec = Receiver(rport, env.pki)
    notify = ("[notify]\nenabled = true\nas = hotline\nurl = https://127.0.0.1:%d/sms/hook\nsecret = %s\n"
              "ca = %s/ca.crt\ntimeout = 2\nretry_min_ms = 100\nretry_max_ms = 400\n" % (rport, SECRET, env.pki))
    ok = False
    try:
        env.start_whistled()
        rec.start()
        env.start_gateway(notify)
        st, _, body = env.call("POST", "requests.json", {"api_key": API_KEY, "service_code": "0103",
                                                         "address_id": GRID_WEST, "description": "notify test",
                                                         "phone": PHONE})
        if not check(st == 201, "POST requests: %d %s" % (st, body[:200])):
            raise Fail("no report to follow")
        t1 = json.loads(body)[0]["service_request_id"]
        check(rec.wait_keys({STREAM + ":1"}, 15), "the report is delivered while the receiver is up")

        rec.stop()
        env.cli("--as", "operator", "file", t1)
        time.sleep(1.0)  # the gateway tries, and fails, a few times
        rc = env.stop("gateway")
        check(rc == 0, "whistle-gateway stops cleanly while a delivery fails: exit %s" % rc)
        out = env.cli("--as", "hotline", "-q", "report", "--node", GRID_WEST, "--category", "0103",
                      "reported while the gateway is down")
        t2 = out.strip().split()[0]
        env.cli("--as", "operator", "reject", t2, "--reason", "duplicate")
        env.start_gateway(notify)
        time.sleep(0.5)
        rec.start()
        want = {"%s:%d" % (STREAM, i) for i in range(1, 5)}
        check(rec.wait_keys(want, 30), "every change arrives once the receiver is back: %s" % sorted(set(rec.keys())))

        firsts = {}
        for key, body, sig in rec.got:
            expect = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            check(sig == expect, "%s: the signature is HMAC-SHA256 of the body" % key)
            doc = json.loads(body)
            check(doc["idempotency_key"] == key, "%s: the body's idempotency_key is the header's" % key)
            if key in firsts:
                check(firsts[key] == body, "%s: a repeated delivery is the same body" % key)
            firsts.setdefault(key, body)
        check(rec.keys().count(STREAM + ":1") == 1, "the change acknowledged before the restart is not sent again")
        seen = []
        for key, body, _ in rec.got:
            if key not in seen:
                seen.append(key)
        check(seen == sorted(want, key=lambda k: int(k.rsplit(":", 1)[1])), "delivered in stream order: %s" % seen)
        docs = {k: json.loads(b) for k, b in firsts.items()}
        acts = [(docs[k]["service_request_id"], docs[k]["action"]) for k in seen if k in docs]
        check(acts == [(t1, "report"), (t1, "file"), (t2, "report"), (t2, "reject")], "the changes: %s" % acts)
        if STREAM + ":1" in docs:
            check(docs[STREAM + ":1"]["contact"] == PHONE, "the reporter's phone reaches the SMS gateway")
        if STREAM + ":4" in docs:
            check(docs[STREAM + ":4"]["status"] == "closed", "a rejection tells status closed")
        rc = env.stop("gateway")
        check(rc == 0, "whistle-gateway stops cleanly: exit %s" % rc)
        rc = env.stop("whistled")
        check(rc == 0, "whistled stops cleanly: exit %s" % rc)
        ok = not failures
    except Fail as e:
        failures.append(str(e))
        print("FAIL: " + str(e), flush=True)
    finally:
        rec.stop()
        env.cleanup(ok)
    if failures:
        print("gateway_notify: %d check(s) failed" % len(failures))
        return 1
    print("gateway_notify: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
