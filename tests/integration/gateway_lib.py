"""gateway_lib.py: what the whistle-gateway tests share (open311_conformance.py,
gateway_notify.py): a real whistled and a real whistle-gateway on free
loopback ports with a fixture PKI and the test's own seed, HTTPS calls, and
the GeoReport v2 schemas the tests carry (tests/integration/open311/).

Every process started is stopped by its PID; every wait is bounded."""
import base64
import copy
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
API_KEY = "test-hotline-key-0123456789abcdef"
JURISDICTION = "test.chaoyang.example"

# The test's grids on the map (WGS84, [lon, lat]): Yong'an Dongli holds
# 39.9087 N, 116.4605 E; Yong'an Xili lies east of it, where the same
# point lands if its GCJ-02 form (about 600 m north-east) were taken as
# WGS84.
GRID_WEST = "110105001001001"
GRID_EAST = "110105001001002"
BOUNDARIES = {
    GRID_WEST: [[116.4585, 39.9067], [116.4625, 39.9067], [116.4625, 39.9107], [116.4585, 39.9107], [116.4585, 39.9067]],
    GRID_EAST: [[116.4625, 39.9067], [116.4725, 39.9067], [116.4725, 39.9147], [116.4625, 39.9147], [116.4625, 39.9067]],
}
ATTRIBUTES = [
    {"code": "amount", "description_zh": "垃圾量", "description_en": "How much rubbish", "datatype": "singlevaluelist",
     "required": True, "order": 1,
     "values": [{"key": "bag", "name_zh": "一袋", "name_en": "A bag"},
                {"key": "heap", "name_zh": "一堆", "name_en": "A heap"}]},
    {"code": "seen_at", "description_zh": "发现时间", "description_en": "When it was seen", "datatype": "datetime",
     "required": False, "order": 2},
]


class Fail(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_file(path, what, proc, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            with open(path) as f:
                return f.read().strip()
        if proc.poll() is not None:
            raise Fail("%s exited (%s) before it was ready" % (what, proc.returncode))
        time.sleep(0.05)
    raise Fail("%s was not ready within %d s" % (what, seconds))


class Env:
    def __init__(self, build, src, name):
        self.build, self.src = build, src
        self.work = tempfile.mkdtemp(prefix="whistle-%s-" % name)
        self.procs = {}
        self.pki = os.path.join(self.work, "pki")
        subprocess.run(["sh", os.path.join(src, "scripts/dev-pki.sh"), self.pki, "gateway", "hotline", "operator",
                        "admin"], check=True, stdout=subprocess.DEVNULL)
        self.make_seed()
        self.wd_port = None
        self.gw_port = None
        # the HTTPS certificate: copies, so that a test may replace them
        self.gw_cert = os.path.join(self.work, "https.crt")
        self.gw_key = os.path.join(self.work, "https.key")
        shutil.copy(os.path.join(self.pki, "server.crt"), self.gw_cert)
        shutil.copy(os.path.join(self.pki, "server.key"), self.gw_key)
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.pki, "ca.crt"))

    def make_seed(self):
        with open(os.path.join(self.src, "conf/demo-city.json"), encoding="utf-8") as f:
            city = json.load(f)
        for n in city["nodes"]:
            n.pop("boundary", None)
            if n["code"] in BOUNDARIES:
                n["boundary"] = {"type": "Polygon", "coordinates": [BOUNDARIES[n["code"]]]}
        for c in city["categories"]:
            if c["code"] == "0102":
                c["attributes"] = ATTRIBUTES
        city["principals"] = [p for p in city["principals"] if p["name"] != "gateway"]
        city["principals"].append({"name": "gateway", "role": "gateway", "scope": "110105", "act_for": ["hotline"]})
        self.seed = os.path.join(self.work, "seed.json")
        with open(self.seed, "w", encoding="utf-8") as f:
            json.dump(city, f, ensure_ascii=False)

    # ---- processes

    def start_whistled(self):
        conf = os.path.join(self.work, "whistled.conf")
        port = self.wd_port or 0
        with open(conf, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1\nport = %d\n[tls]\nca = %s/ca.crt\ncert = %s/server.crt\n"
                    "key = %s/server.key\ncrl = %s/crl.pem\n[store]\ndir = %s/state\nseed = %s\n[log]\nlevel = info\n"
                    % (port, self.pki, self.pki, self.pki, self.pki, self.work, self.seed))
        pf = os.path.join(self.work, "whistled.port")
        if os.path.exists(pf):
            os.unlink(pf)
        log = open(os.path.join(self.work, "whistled.log"), "a")
        p = subprocess.Popen([os.path.join(self.build, "whistled"), "--config", conf, "--port-file", pf],
                             stdout=log, stderr=log)
        self.procs["whistled"] = p
        self.wd_port = int(wait_file(pf, "whistled", p))

    def gateway_conf(self, extra=""):
        conf = os.path.join(self.work, "gateway.conf")
        with open(conf, "w") as f:
            f.write(f"""[http]
listen = 127.0.0.1
port = {self.gw_port or 0}
cert = {self.gw_cert}
key = {self.gw_key}
request_timeout = 2
handshake_timeout = 2
drain_timeout = 5
max_header_bytes = 16384
max_body_bytes = 65536
[whistled]
host = 127.0.0.1
port = {self.wd_port}
ca = {self.pki}/ca.crt
cert = {self.pki}/clients/gateway.crt
key = {self.pki}/clients/gateway.key
call_timeout = 10
[open311]
jurisdiction_id = {JURISDICTION}
language = en
read_as = hotline
[api_keys]
{API_KEY} = hotline
{extra}""")
        return conf

    def start_gateway(self, extra=""):
        conf = self.gateway_conf(extra)
        pf = os.path.join(self.work, "gateway.port")
        if os.path.exists(pf):
            os.unlink(pf)
        log = open(os.path.join(self.work, "gateway.log"), "a")
        p = subprocess.Popen([os.path.join(self.build, "whistle-gateway"), "--config", conf, "--port-file", pf],
                             stdout=log, stderr=log)
        self.procs["gateway"] = p
        self.gw_port = int(wait_file(pf, "whistle-gateway", p))
        # the catalogue loads once whistled answered: wait for services
        end = time.time() + 30
        while time.time() < end:
            st, _, _ = self.call("GET", "services.json")
            if st == 200:
                return
            time.sleep(0.1)
        raise Fail("whistle-gateway did not serve services within 30 s")

    def stop(self, name, seconds=15):
        """SIGTERM, and the exit status (which must be 0: a clean stop)."""
        p = self.procs.pop(name, None)
        if p is None:
            return 0
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise Fail("%s did not stop within %d s of SIGTERM" % (name, seconds))

    def cleanup(self, ok):
        for name in list(self.procs):
            p = self.procs.pop(name)
            p.kill()
            p.wait()
        if not ok:
            for log in ("gateway.log", "whistled.log"):
                path = os.path.join(self.work, log)
                if os.path.exists(path):
                    sys.stderr.write("---- %s (tail)\n" % log)
                    with open(path, errors="replace") as f:
                        sys.stderr.write("".join(f.readlines()[-40:]))
        shutil.rmtree(self.work, ignore_errors=True)

    def cli(self, *args):
        env = dict(os.environ, WHISTLE_PKI=self.pki, WHISTLE_HOST="127.0.0.1", WHISTLE_PORT=str(self.wd_port))
        r = subprocess.run([os.path.join(self.build, "whistle")] + list(args), env=env, capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise Fail("whistle %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    # ---- HTTPS

    def call(self, method, resource, params=None, body=None, headers=None, raw_path=None):
        """One request on a fresh connection: (status, content type, body bytes)."""
        path = raw_path or "/open311/v2/" + resource
        if params and method == "GET":
            path += "?" + urllib.parse.urlencode(params, doseq=True)
        h = dict(headers or {})
        data = body
        if params and method == "POST":
            data = urllib.parse.urlencode(params, doseq=True).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c = http.client.HTTPSConnection("127.0.0.1", self.gw_port, context=self.ctx, timeout=20)
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            return r.status, r.getheader("Content-Type", ""), r.read()
        finally:
            c.close()


def schemas():
    with open(os.path.join(HERE, "open311", "schemas.json"), encoding="utf-8") as f:
        return json.load(f)


# Two small photos as a phone takes them (64x48 and 48x64 JPEGs made with
# libvips, with EXIF written by libexif: maker WhistleCam, model
# TestPhone-9, taken 2026-11-21 09:30:15, GPS 39.9087 N 116.4605 E), for
# the tests of photos through the gateway (docs/photos.md). whistled must
# strip all of that before anyone reads them back.
PHOTO_A = base64.b64decode(
    "/9j/4QFmRXhpZgAASUkqAAgAAAAIAA8BAgALAAAAbgAAABABAgAMAAAAegAAABIBAwABAAAAAQAAABoBBQABAAAAhgAAABsBBQAB"
    "AAAAjgAAACgBAwABAAAAAgAAAGmHBAABAAAAlgAAACWIBAABAAAA+AAAAAAAAABXaGlzdGxlQ2FtAABUZXN0UGhvbmUtOQA4YwAA"
    "6AMAADhjAADoAwAABgAAkAcABAAAADAyMTADkAIAFAAAAOQAAAAAoAcABAAAADAxMDABoAMAAQAAAP//AAACoAQAAQAAAEAAAAAD"
    "oAQAAQAAADAAAAAAAAAAMjAyNjoxMToyMSAwOTozMDoxNQAEAAEAAgACAAAATgAAAAIABQADAAAALgEAAAMAAgACAAAARQAAAAQA"
    "BQADAAAARgEAAAAAAAAnAAAAAQAAADYAAAABAAAAPAwAAGQAAAB0AAAAAQAAABsAAAABAAAAxA4AAGQAAAD/2wBDAA0JCgsKCA0L"
    "CgsODg0PEyAVExISEyccHhcgLikxMC4pLSwzOko+MzZGNywtQFdBRkxOUlNSMj5aYVpQYEpRUk//2wBDAQ4ODhMREyYVFSZPNS01"
    "T09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT09PT0//wAARCAAwAEADASIAAhEBAxEB/8QAHwAA"
    "AQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0Kx"
    "wRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWW"
    "l5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEB"
    "AQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOk"
    "paanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDznFOApQKUCvau"
    "ZpiAUoFOApQKVzRMQClApwFKBU3NUxMUuKcBSgVNzVMgxS4pwFKBVXPNTEApQKcBS4pXNExAKUCnAUoFS2apiAUoFOxSgVNzVMgA"
    "pQKcBSgVVzzUxAKUCnAUoFK5qmJilxTgKUCpbNExAKUClAp2KVzVM//Z")
PHOTO_B = base64.b64decode(
    "/9j/4QFmRXhpZgAASUkqAAgAAAAIAA8BAgALAAAAbgAAABABAgAMAAAAegAAABIBAwABAAAAAQAAABoBBQABAAAAhgAAABsBBQAB"
    "AAAAjgAAACgBAwABAAAAAgAAAGmHBAABAAAAlgAAACWIBAABAAAA+AAAAAAAAABXaGlzdGxlQ2FtAABUZXN0UGhvbmUtOQA4YwAA"
    "6AMAADhjAADoAwAABgAAkAcABAAAADAyMTADkAIAFAAAAOQAAAAAoAcABAAAADAxMDABoAMAAQAAAP//AAACoAQAAQAAADAAAAAD"
    "oAQAAQAAAEAAAAAAAAAAMjAyNjoxMToyMSAwOTozMDoxNQAEAAEAAgACAAAATgAAAAIABQADAAAALgEAAAMAAgACAAAARQAAAAQA"
    "BQADAAAARgEAAAAAAAAnAAAAAQAAADYAAAABAAAAPAwAAGQAAAB0AAAAAQAAABsAAAABAAAAxA4AAGQAAAD/2wBDAA4KCw0LCQ4N"
    "DA0QDw4RFiQXFhQUFiwgIRokNC43NjMuMjI6QVNGOj1OPjIySGJJTlZYXV5dOEVmbWVabFNbXVn/2wBDAQ8QEBYTFioXFypZOzI7"
    "WVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVn/wAARCABAADADASIAAhEBAxEB/8QAHwAA"
    "AQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0Kx"
    "wRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWW"
    "l5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEB"
    "AQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOk"
    "paanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDz4CnAUoFKBXs3"
    "M0xAKXFKBTgKm5omJilxS4pwFK5qmRgUoFKBTgKLnEmNApwFLilApXNUxAKXFOxSgVNzRMjApQKdilAobONMQClxSgU4CpuaJjQK"
    "dilxSgUrmiZGBS4p2KUChs40xAKXFOApQKVzVMQClApQKcBU3NEz/9k=")
PHOTO_DEVICE_STRINGS = (b"Exif", b"WhistleCam", b"TestPhone-9", b"2026:11:21")


def photo_file(env, name, data):
    """Writes a photo into the test's directory; its path."""
    path = os.path.join(env.work, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def multipart(fields, files):
    """A multipart/form-data body as curl -F sends it: (content type, bytes).
    files: {name: (filename, content type, bytes)}."""
    boundary = "----whistle-test-" + os.urandom(12).hex()
    out = []
    for k, v in fields.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n" % (boundary, k)).encode()
                   + str(v).encode() + b"\r\n")
    for k, (fn, ct, data) in files.items():
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (boundary, k, fn, ct)).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=" + boundary, b"".join(out)
