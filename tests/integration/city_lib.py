"""city_lib.py: a federated city on loopback for the tests and the benchmark
(docs/federation.md): a 3-node NATS JetStream cluster with TLS and
certificate-mapped users (scripts/city-nats-conf.py), districts (a whistled
each, with its own seed, and its whistle-bridge), whistle-router, and
whistle-city for the city's people and systems.

Ports are free ones picked at run time; every process is started here and
stopped by its PID (SIGTERM, then SIGKILL after a bound); every wait is
bounded; the work directory is removed at the end."""
import copy
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class Fail(Exception):
    pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def load_conf_module(src):
    spec = importlib.util.spec_from_file_location("city_nats_conf", os.path.join(src, "scripts/city-nats-conf.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def district_seed(src, code, lon_shift):
    """The demo city as district `code`: every node code, scope and boundary
    moved (codes: 110105 -> code; longitudes by lon_shift, so that two
    districts do not overlap), with a bridge principal of its own."""
    with open(os.path.join(src, "conf/demo-city.json"), encoding="utf-8") as f:
        city = json.load(f)
    text = json.dumps(city, ensure_ascii=False).replace('"110105', '"' + code)
    city = json.loads(text)

    def shift(coords):
        if coords and isinstance(coords[0], (int, float)):
            return [round(coords[0] + lon_shift, 6), coords[1]]
        return [shift(c) for c in coords]

    for n in city["nodes"]:
        if n.get("boundary"):
            n["boundary"]["coordinates"] = shift(n["boundary"]["coordinates"])
    keep = {"admin", "district", "operator", "hotline"}
    city["principals"] = [p for p in city["principals"] if p["name"] in keep]
    for p in city["principals"]:
        p["name"] = "%s-%s" % (p["name"], code)
    city["principals"].append({"name": "bridge-" + code, "role": "bridge", "scope": code})
    for k in ("services", "service_classes"):
        city.pop(k, None)
    return city


class Proc:
    def __init__(self, name, argv, log, env=None):
        self.name, self.argv, self.log_path, self.env = name, argv, log, env
        self.p = None

    def start(self):
        log = open(self.log_path, "a")
        self.p = subprocess.Popen(self.argv, stdout=log, stderr=log, env=self.env)
        log.close()
        return self

    @property
    def pid(self):
        return self.p.pid if self.p else None

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.p.pid, sig)

    def kill9(self):
        if self.p is None:
            return
        if self.alive():
            os.kill(self.p.pid, signal.SIGKILL)
        self.p.wait()
        self.p = None

    def stop(self, seconds=15):
        """SIGTERM (SIGCONT first: a stopped process cannot stop), then SIGKILL."""
        if self.p is None:
            return None
        if self.alive():
            os.kill(self.p.pid, signal.SIGCONT)
            os.kill(self.p.pid, signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.kill(self.p.pid, signal.SIGKILL)
            rc = self.p.wait()
        self.p = None
        return rc


class City:
    """A city on loopback. districts: {code: lon_shift}; departments: city
    department codes (each gets a desk certificate)."""

    def __init__(self, build, src, districts, departments=("city_water",), name="fed"):
        self.build, self.src = build, src
        self.work = tempfile.mkdtemp(prefix="whistle-%s-" % name)
        self.procs = {}
        self.codes = list(districts)
        self.departments = list(departments)
        self.conf = load_conf_module(src)
        # the districts' whistled PKI (one dev CA for the test's districts) and the city's NATS PKI
        self.pki = os.path.join(self.work, "pki")
        names = []
        for c in self.codes:
            names += ["admin-" + c, "district-" + c, "operator-" + c, "hotline-" + c, "bridge-" + c]
        subprocess.run(["sh", os.path.join(src, "scripts/dev-pki.sh"), self.pki] + names, check=True,
                       stdout=subprocess.DEVNULL)
        nats_names = ["nats-1", "nats-2", "nats-3", "city", "router", "feeder", "stats"]
        nats_names += ["bridge-" + c for c in self.codes] + ["desk-" + d for d in self.departments]
        subprocess.run(["sh", os.path.join(src, "scripts/dev-pki.sh"), "nats", self.pki] + nats_names, check=True,
                       stdout=subprocess.DEVNULL)
        self.npki = os.path.join(self.pki, "nats")
        # the seeds and the city directory, consistent with each other
        self.seeds = {}
        self.city = {"districts": [], "departments": []}
        for c, shift in districts.items():
            seed = district_seed(src, c, shift)
            self.seeds[c] = seed
            top = [n for n in seed["nodes"] if n["code"] == c][0]
            self.city["districts"].append({"code": c, "name_zh": top["name_zh"], "name_en": top["name_en"],
                                           "boundary": top["boundary"], "grid_prefixes": [c]})
        for d in self.departments:
            self.city["departments"].append({"code": d, "name_zh": "市" + d, "name_en": "City " + d})
        self.city_json = os.path.join(self.work, "city.json")
        with open(self.city_json, "w", encoding="utf-8") as f:
            json.dump(self.city, f, ensure_ascii=False)
        self.nodes = {}
        self.wd_ports = {}

    # ---- the NATS cluster

    def start_cluster(self):
        spec = []
        for i in (1, 2, 3):
            spec.append(("nats-%d" % i, free_port(), free_port(), free_port()))
        for name, cport, kport, hport in spec:
            routes = ["127.0.0.1:%d" % k for n, _, k, _ in spec if n != name]
            text = self.conf.node_conf(name, "127.0.0.1", cport, kport, hport, routes,
                                       os.path.join(self.work, "js", name), self.npki, self.city)
            path = os.path.join(self.work, name + ".conf")
            with open(path, "w") as f:
                f.write(text)
            self.nodes[name] = {"client": cport, "http": hport, "conf": path}
            self.procs[name] = Proc(name, ["nats-server", "-c", path], os.path.join(self.work, name + ".log")).start()
        self.servers = ",".join("nats://127.0.0.1:%d" % n["client"] for n in self.nodes.values())
        self.env = dict(os.environ, WHISTLE_NATS_SERVERS=self.servers, WHISTLE_NATS_CA=os.path.join(self.npki, "ca.crt"))
        # setup retries until JetStream has its meta leader
        end = time.time() + 60
        while True:
            r = self.city_run("city", "setup", self.city_json, check=False, timeout=60)
            if r.returncode == 0:
                return
            if time.time() > end:
                raise Fail("whistle-city setup failed: %s" % r.stderr.strip()[-2000:])
            time.sleep(0.5)

    def restart_node(self, name):
        self.procs[name] = Proc(name, ["nats-server", "-c", self.nodes[name]["conf"]],
                                os.path.join(self.work, name + ".log")).start()

    def node_env(self, name):
        return dict(self.env, WHISTLE_NATS_SERVERS="nats://127.0.0.1:%d" % self.nodes[name]["client"])

    # ---- the city's programs

    def nats_args(self, who):
        return ["--cert", os.path.join(self.npki, "clients", who + ".crt"),
                "--key", os.path.join(self.npki, "clients", who + ".key")]

    def city_run(self, who, *args, check=True, timeout=60, input=None):
        r = subprocess.run([os.path.join(self.build, "whistle-city")] + self.nats_args(who) + list(args),
                           env=self.env, capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise Fail("whistle-city %s (as %s): %s" % (" ".join(args), who, r.stderr.strip()[-2000:]))
        return r

    def whistle_city(self, who, *args, timeout=60):
        """The CLI's city commands (whistle stats --city, whistle city ...),
        which run whistle-city, as `who` of the city's NATS PKI."""
        env = dict(self.env, WHISTLE_NATS_CERT=os.path.join(self.npki, "clients", who + ".crt"),
                   WHISTLE_NATS_KEY=os.path.join(self.npki, "clients", who + ".key"))
        r = subprocess.run([os.path.join(self.build, "whistle")] + list(args), env=env, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise Fail("whistle %s (as %s): %s" % (" ".join(args), who, r.stderr.strip()[-1000:]))
        return r.stdout

    def admin(self, *args, seconds=30):
        """whistle-city admin ARGS as the city, retried while JetStream is
        electing (an answer "temporarily unavailable", a timeout)."""
        end = time.time() + seconds
        while True:
            r = self.city_run("city", "admin", *args, check=False)
            if r.returncode == 0:
                return r
            if time.time() > end:
                raise Fail("whistle-city admin %s: %s" % (" ".join(args), r.stderr.strip()[-1000:]))
            time.sleep(0.5)

    def city_json_lines(self, who, *args, timeout=120):
        out = self.city_run(who, *args, timeout=timeout).stdout
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    def start_city_proc(self, key, who, *args):
        """whistle-city ARGS as a long-running process; its stdout (JSON
        lines) goes to WORK/<key>.out, appended across restarts."""
        out = os.path.join(self.work, key + ".out")
        err = os.path.join(self.work, key + ".log")
        fo, fe = open(out, "a"), open(err, "a")
        p = subprocess.Popen([os.path.join(self.build, "whistle-city")] + self.nats_args(who) + list(args),
                             env=self.env, stdout=fo, stderr=fe)
        fo.close()
        fe.close()
        pr = Proc(key, None, err)
        pr.p = p
        self.procs[key] = pr
        return out

    def read_lines(self, key):
        path = os.path.join(self.work, key + ".out")
        if not os.path.exists(path):
            return []
        out = []
        with open(path) as f:
            for l in f:
                if l.endswith("\n") and l.strip():
                    out.append(json.loads(l))
        return out

    def start_router(self):
        self.procs["router"] = Proc("router", [os.path.join(self.build, "whistle-router"), "--gap-ms", "2000"]
                                    + self.nats_args("router"), os.path.join(self.work, "router.log"),
                                    env=self.env).start()

    # ---- districts

    def start_whistled(self, code):
        d = os.path.join(self.work, code)
        os.makedirs(d, exist_ok=True)
        seed = os.path.join(d, "seed.json")
        if not os.path.exists(seed):
            with open(seed, "w", encoding="utf-8") as f:
                json.dump(self.seeds[code], f, ensure_ascii=False)
        street = code + "001"
        conf = os.path.join(d, "whistled.conf")
        port = self.wd_ports.get(code, 0)
        with open(conf, "w") as f:
            f.write("[server]\nlisten = 127.0.0.1\nport = %d\n[tls]\nca = %s/ca.crt\ncert = %s/server.crt\n"
                    "key = %s/server.key\ncrl = %s/crl.pem\n[store]\ndir = %s/state\nseed = %s\n[log]\nlevel = warn\n"
                    "[federation]\nenabled = true\ndistrict = %s\nintake_node = %s\nintake_category = 0103\n"
                    % (port, self.pki, self.pki, self.pki, self.pki, d, seed, code, street))
        pf = os.path.join(d, "whistled.port")
        if os.path.exists(pf):
            os.unlink(pf)
        key = "whistled-" + code
        self.procs[key] = Proc(key, [os.path.join(self.build, "whistled"), "--config", conf, "--port-file", pf],
                               os.path.join(d, "whistled.log")).start()
        end = time.time() + 60
        while time.time() < end:
            if os.path.exists(pf) and os.path.getsize(pf) > 0:
                with open(pf) as f:
                    self.wd_ports[code] = int(f.read().strip())
                return
            if not self.procs[key].alive():
                raise Fail("whistled %s exited before it listened (see %s/whistled.log)" % (code, d))
            time.sleep(0.05)
        raise Fail("whistled %s did not listen within 60 s" % code)

    def bridge_bin(self):
        return os.path.join(self.build, "whistle-bridge")

    def start_bridge(self, code):
        d = os.path.join(self.work, code)
        conf = os.path.join(d, "bridge.conf")
        with open(conf, "w") as f:
            f.write("[bridge]\ndistrict = %s\nstats_interval = 1\nintake_durable = intake_%s\ncmd_durable = cmd_%s\n"
                    "[whistled]\nhost = 127.0.0.1\nport = %d\nca = %s/ca.crt\ncert = %s/clients/bridge-%s.crt\n"
                    "key = %s/clients/bridge-%s.key\n"
                    "[nats]\nurl = %s\nca = %s/ca.crt\ncert = %s/clients/bridge-%s.crt\nkey = %s/clients/bridge-%s.key\n"
                    "[log]\nlevel = info\n"
                    % (code, code, code, self.wd_ports[code], self.pki, self.pki, code, self.pki, code, self.servers, self.npki,
                       self.npki, code, self.npki, code))
        key = "bridge-" + code
        self.procs[key] = Proc(key, [self.bridge_bin(), "--config", conf], os.path.join(d, "bridge.log")).start()

    def cli(self, code, who, *args, timeout=60):
        env = dict(os.environ, WHISTLE_PKI=self.pki, WHISTLE_HOST="127.0.0.1", WHISTLE_PORT=str(self.wd_ports[code]),
                   WHISTLE_AS="%s-%s" % (who, code))
        r = subprocess.run([os.path.join(self.build, "whistle")] + list(args), env=env, capture_output=True,
                           text=True, timeout=timeout)
        if r.returncode != 0:
            raise Fail("whistle %s (district %s, as %s): %s" % (" ".join(args), code, who, r.stderr.strip()))
        return r.stdout

    # ---- the end

    def sanitizer_reports(self):
        """The logs in which AddressSanitizer, LeakSanitizer or UBSan reported."""
        bad = []
        for root, _, files in os.walk(self.work):
            for fn in files:
                if fn.endswith(".log"):
                    path = os.path.join(root, fn)
                    with open(path, errors="replace") as f:
                        text = f.read()
                    if ("ERROR: AddressSanitizer" in text or "ERROR: LeakSanitizer" in text
                            or "runtime error:" in text):
                        bad.append(os.path.relpath(path, self.work))
        return bad

    def stop(self, key, seconds=15):
        p = self.procs.pop(key, None)
        return p.stop(seconds) if p else None

    def cleanup(self, ok, keep=False):
        for key in list(self.procs):
            self.procs.pop(key).stop(10)
        if not ok:
            for root, _, files in os.walk(self.work):
                for fn in sorted(files):
                    if fn.endswith(".log"):
                        path = os.path.join(root, fn)
                        with open(path, errors="replace") as f:
                            tail = f.readlines()[-25:]
                        if tail:
                            sys.stderr.write("---- %s (tail)\n%s" % (os.path.relpath(path, self.work), "".join(tail)))
        if keep:
            sys.stderr.write("kept %s\n" % self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
