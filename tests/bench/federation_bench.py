#!/usr/bin/env python3
"""federation_bench.py: routed cases per second and latency through a
federated city on loopback (docs/federation.md, "Measured"). A benchmark,
not a test: it prints numbers. scripts/bench-federation.sh builds and runs it.

    federation_bench.py BUILD_DIR SOURCE_DIR [--cases N] [--rate R]

A 3-node JetStream cluster (TLS, R3 streams), two districts (whistled +
whistle-bridge), whistle-router and the hotline's event reader, as
tests/integration/city_lib.py makes them. The feeder publishes N cases
(R a second, 0: as fast as JetStream acknowledges them) by grid code,
half to each district. Printed:

- routed cases/s: the cases over the time from the first publish until the
  router has routed the last (its consumer has nothing pending);
- hotline -> district: from the case's received_ms (stamped by the feeder
  when it publishes) to the district's commit of the new case (the
  FedCaseEvent's at_ms: what the district's console shows at once);
- hotline -> district -> hotline: until the hotline's reader printed that
  event (recv_ms), i.e. the round trip through the bridge and EV.
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import city_lib  # noqa: E402

A, B = "110105", "110108"


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    # a SIGTERM (a timeout) stops the city too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = [a for a in sys.argv[1:]]
    n, rate = 2000, 0.0
    if "--cases" in args:
        n = int(args[args.index("--cases") + 1])
    if "--rate" in args:
        rate = float(args[args.index("--rate") + 1])
    build, src = [a for a in args if not a.startswith("--") and not a.replace(".", "").isdigit()][:2]
    city = city_lib.City(build, src, {A: 0.0, B: -0.30}, ("city_water",), name="fedbench")
    ok = False
    try:
        city.start_cluster()
        for code in (A, B):
            city.start_whistled(code)
            city.start_bridge(code)
        city.start_router()
        city.start_city_proc("events", "feeder", "events", "--follow", "--json")
        grids = {c: [x["code"] for x in city.seeds[c]["nodes"] if x["kind"] == "grid"] for c in (A, B)}
        lines = []
        for i in range(n):
            d = A if i % 2 == 0 else B
            lines.append(json.dumps({"external_id": "B%07d" % i, "description": "bench case %d" % i,
                                     "node": grids[d][i % len(grids[d])]}))
        # warm-up: one case each way, so that connections and consumers are up
        city.city_run("feeder", "feed", input=json.dumps({"external_id": "WARM", "description": "warm-up",
                                                          "node": grids[A][0]}) + "\n")
        time.sleep(3)
        feed_out = open(os.path.join(city.work, "feed.out"), "w")
        feed = subprocess.Popen([os.path.join(build, "whistle-city")] + city.nats_args("feeder") + ["feed"],
                                env=city.env, stdin=subprocess.PIPE, stdout=feed_out, text=True)
        feed_out.close()
        t0 = time.time()
        for i, l in enumerate(lines):
            feed.stdin.write(l + "\n")
            if rate > 0:
                feed.stdin.flush()
                delay = t0 + (i + 1) / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
        feed.stdin.close()
        feed.wait()
        with open(os.path.join(city.work, "feed.out")) as f:
            out = f.read()
        t_fed = time.time()
        acked = [json.loads(l) for l in out.splitlines() if l.strip()]
        end = time.time() + 300
        while time.time() < end:
            c = json.loads(city.admin("consumer", "HOTLINE", "router").stdout)
            if c["num_pending"] == 0 and c["num_ack_pending"] == 0:
                break
            time.sleep(0.05)
        t_routed = time.time()
        received = {a["acked"]: a["received_ms"] for a in acked}
        end = time.time() + 300
        first = {}
        while time.time() < end:
            for e in city.read_lines("events"):
                ext = e.get("external_id")
                if ext in received and ext not in first:
                    first[ext] = e
            if len(first) == len(received):
                break
            time.sleep(0.5)
        to_district = [first[x]["at_ms"] - received[x] for x in first]
        round_trip = [first[x]["recv_ms"] - received[x] for x in first]
        done_ms = max(first[x]["at_ms"] for x in first) if first else 0
        load = os.getloadavg()
        print("federation bench: %d cases, %s, 2 districts, 3 JetStream nodes (R3, TLS) on loopback"
              % (n, "as fast as acknowledged" if rate <= 0 else "%g/s offered" % rate))
        print("  feeder: %d acked in %.2f s (%.0f/s; one synchronous publish at a time)"
              % (len(acked), t_fed - t0, len(acked) / max(1e-9, t_fed - t0)))
        print("  routed: %.0f cases/s (first publish to the router's last ack: %.2f s)"
              % (len(acked) / max(1e-9, t_routed - t0), t_routed - t0))
        print("  in their districts: %d of %d, the last %.2f s after the first publish (%.0f cases/s end to end)"
              % (len(first), len(received), done_ms / 1000.0 - t0, len(first) / max(1e-9, done_ms / 1000.0 - t0)))
        print("  latency hotline -> district commit: p50 %d ms, p99 %d ms, max %d ms"
              % (pct(to_district, 50), pct(to_district, 99), max(to_district or [0])))
        print("  latency hotline -> district -> hotline's reader: p50 %d ms, p99 %d ms, max %d ms"
              % (pct(round_trip, 50), pct(round_trip, 99), max(round_trip or [0])))
        print("  load average: %.2f %.2f %.2f on %d cores" % (load[0], load[1], load[2], os.cpu_count()))
        ok = len(first) == len(received)
        return 0 if ok else 1
    finally:
        city.cleanup(ok)


if __name__ == "__main__":
    sys.exit(main())
