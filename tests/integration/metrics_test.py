#!/usr/bin/env python3
"""The Prometheus endpoint, as Prometheus reads it.

A whistled with [metrics] enabled on free loopback ports is scraped, the
page parsed with prometheus_client's text parser (the one Prometheus's own
Python client uses), reports made with the whistle CLI, and scraped again:
the series are there with Prometheus's naming (counters end in _total,
units in base units), and the counters of requests, commits, flushes,
the commit-time histogram, writes and open cases moved by what the load
did. A daemon without [metrics] serves no endpoint.

usage: metrics_test.py WHISTLED WHISTLE SOURCE_DIR PKI_DIR
"""
import fcntl
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

whistled, whistle, src, pki = sys.argv[1:5]
procs = []


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def make_pki():
    os.makedirs(pki, exist_ok=True)
    with open(pki + ".lock", "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        subprocess.run([src + "/scripts/dev-pki.sh", pki, "admin", "operator"], check=True,
                       stdout=subprocess.DEVNULL)


def start(tmp, metrics):
    conf = os.path.join(tmp, "whistled.conf")
    with open(conf, "w") as f:
        f.write(f"""[server]
listen = 127.0.0.1
port = 0
[tls]
ca = {pki}/ca.crt
cert = {pki}/server.crt
key = {pki}/server.key
[store]
dir = {tmp}/state
seed = {src}/conf/demo-city.json
""")
        if metrics:
            f.write("[metrics]\nenabled = yes\nport = 0\n")
    log = os.path.join(tmp, "whistled.log")
    portfile = os.path.join(tmp, "port")
    p = subprocess.Popen([whistled, "--config", conf, "--port-file", portfile],
                         stdout=open(log, "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    deadline = time.time() + 30
    while time.time() < deadline:
        if p.poll() is not None:
            fail("whistled exited: " + open(log).read())
        if os.path.exists(portfile) and open(portfile).read().strip():
            break
        time.sleep(0.05)
    else:
        fail("whistled did not start")
    text = open(log).read()
    m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", text)
    return p, int(open(portfile).read()), (int(m.group(1)) if m else None), log


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("whistled did not stop within 30 s of SIGTERM")
    if rc != 0:
        fail(f"whistled exited with {rc}")


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        if r.status != 200:
            fail(f"scrape: HTTP {r.status}")
        ctype = r.headers.get("Content-Type", "")
        if not ctype.startswith("text/plain; version=0.0.4"):
            fail("scrape: content type " + ctype)
        body = r.read().decode()
    values, types = {}, {}
    for fam in text_string_to_metric_families(body):
        types[fam.name] = fam.type
        for s in fam.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return values, types


def val(values, name, **labels):
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def main():
    make_pki()
    with tempfile.TemporaryDirectory(prefix="whistle-metrics-") as tmp:
        try:
            p, port, mport, log = start(tmp, True)
            if not mport:
                fail("no 'metrics on' line in the log")
            v1, types = scrape(mport)
            for name, typ in [("whistle_connections", "gauge"), ("whistle_requests", "counter"),
                              ("whistle_commits", "counter"), ("whistle_fsyncs", "counter"),
                              ("whistle_commit_duration_seconds", "histogram"),
                              ("whistle_writer_batch_size", "histogram"),
                              ("whistle_writer_queue_depth", "gauge"), ("whistle_pushes", "counter"),
                              ("whistle_subscriptions", "gauge"), ("whistle_store_map_used_bytes", "gauge"),
                              ("whistle_store_map_size_bytes", "gauge"), ("whistle_store_file_bytes", "gauge"),
                              ("whistle_deadlines_missed", "counter"), ("whistle_open_cases", "gauge"),
                              ("process_cpu_seconds", "counter")]:
                if types.get(name) != typ:
                    fail(f"{name}: type {types.get(name)}, expected {typ}")
            # the text names: every counter sample ends in _total
            for (name, _), _v in v1.items():
                fam = re.sub(r"(_total|_bucket|_sum|_count|_created)$", "", name)
                if types.get(fam) == "counter" and not name.endswith("_total"):
                    fail(f"counter sample {name} does not end in _total")
            if val(v1, "whistle_store_map_used_bytes") <= 0:
                fail("map use is 0")

            env = dict(os.environ, WHISTLE_CONFIG="/dev/null", LC_ALL="C.UTF-8")
            base = [whistle, "--host", "127.0.0.1", "--port", str(port), "--pki", pki]
            n = 5
            for i in range(n):
                subprocess.run(base + ["-q", "--as", "operator", "report", "--node", "110105001001001",
                                       "--category", "0401", f"stall number {i}"],
                               check=True, env=env, stdout=subprocess.DEVNULL)
            # a refused call is counted by its code
            r = subprocess.run(base + ["--as", "operator", "server-stats"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                fail("an operator read the server's counters")
            v2, _ = scrape(mport)

            def moved(name, at_least, **labels):
                a, b = val(v1, name, **labels), val(v2, name, **labels)
                if b - a < at_least:
                    fail(f"{name}{labels}: {a} -> {b}, expected +{at_least}")

            moved("whistle_requests_total", n, call="report", code="OK")
            moved("whistle_requests_total", 1, call="server_stats", code="PERMISSION_DENIED")
            moved("whistle_requests_total", n + 1, call="hello", code="OK")
            moved("whistle_commits_total", 1)
            moved("whistle_writes_total", n)
            moved("whistle_fsyncs_total", 1)
            moved("whistle_commit_duration_seconds_count", 1)
            moved("whistle_writer_batch_size_count", 1)
            moved("whistle_connections_accepted_total", n + 1)
            moved("whistle_open_cases", n, state="reported")
            if val(v2, "whistle_commit_duration_seconds_sum") <= val(v1, "whistle_commit_duration_seconds_sum"):
                fail("the commit time sum did not grow")
            inf = val(v2, "whistle_commit_duration_seconds_bucket", le="+Inf")
            if inf != val(v2, "whistle_commit_duration_seconds_count"):
                fail("the +Inf bucket is not the count")
            # GET only, /metrics only
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{mport}/other", timeout=10)
                fail("/other answered")
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    fail(f"/other: HTTP {e.code}")
            stop(p)

            # off by default: no endpoint, no line
            tmp2 = os.path.join(tmp, "off")
            os.makedirs(tmp2)
            p2, _, mport2, log2 = start(tmp2, False)
            if mport2 is not None or "metrics on" in open(log2).read():
                fail("metrics served without [metrics] enabled")
            stop(p2)
        finally:
            for q in procs:
                if q.poll() is None:
                    q.kill()
                    q.wait()
    print("metrics test: OK")


main()
