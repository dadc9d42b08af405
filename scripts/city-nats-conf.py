#!/usr/bin/env python3
"""city-nats-conf.py: the nats-server configuration of a city (docs/federation.md).

    scripts/city-nats-conf.py CITY.json PKI_DIR OUT_DIR NODE=HOST:CLIENT:CLUSTER[:HTTP] ...
        [--store DIR] [--cluster NAME]

writes OUT_DIR/NODE.conf for each NODE (a name nats-N with a server
certificate in PKI_DIR/servers/), every node routed to the others. CITY.json
names the districts and the city departments (the same file
`whistle-city setup` loads); from it come the users and what each may do:

  CN=city             the city's administrator: everything (setup, place,
                      stats, the fault tools)
  CN=router           the 12345 router: reads HOTLINE (consumer router) and
                      EV (consumer gapwatch), the directory; publishes
                      intake.> and replay.*
  CN=feeder           the 12345 hotline system: publishes hotline.in, reads
                      ev.*.case.> (consumer feeder)
  CN=stats            the city's leadership: reads city_stats, nothing else
  CN=bridge-<d>       district d's bridge: publishes only ev.<d>.>,
                      cmd.<other>.transfer, its own statistics key; reads its
                      own intake_<d> and cmd_<d> consumers, the directory,
                      replay.<d>
  CN=desk-<dept>      a city department's desk: publishes
                      cmd.*.checkin|feedback, reads ev.*.order.<dept>
                      (consumer desk_<dept>)

Every client sets its inbox prefix to _I.<name> (libnats
natsOptions_SetCustomInboxPrefix) and may subscribe only below it, so that
no one receives another's replies or pull deliveries. The options used
exist in nats-server 2.9 (Debian 12 ships 2.9.10).

Also importable: the fault test and scripts/bench-federation.sh build their
cluster with node_conf() and users().
"""
import json
import os
import sys

# The JetStream API calls a client bound to an existing durable pull
# consumer makes (libnats: CONSUMER.INFO once, then MSG.NEXT per fetch,
# then an ack per message).
def _pull(stream, consumer):
    return ["$JS.API.CONSUMER.INFO.%s.%s" % (stream, consumer),
            "$JS.API.CONSUMER.MSG.NEXT.%s.%s" % (stream, consumer),
            "$JS.ACK.%s.%s.>" % (stream, consumer)]


# Reading a KV bucket: its info, a key's value, and the ephemeral ordered
# consumer libnats makes to list keys or watch.
def _kv_read(bucket):
    s = "KV_" + bucket
    # STREAM.NAMES: libnats finds the bucket's stream by its subject (it
    # lists names only)
    return ["$JS.API.STREAM.NAMES", "$JS.API.STREAM.INFO." + s, "$JS.API.STREAM.MSG.GET." + s, "$JS.API.DIRECT.GET.%s.>" % s,
            "$JS.API.CONSUMER.CREATE." + s, "$JS.API.CONSUMER.CREATE.%s.>" % s,
            "$JS.API.CONSUMER.DELETE.%s.>" % s, "$JS.FC.%s.>" % s]


def users(city):
    """[(user, publish allow, publish deny, subscribe allow)] for CITY (a dict)."""
    districts = [d["code"] for d in city["districts"]]
    depts = [d["code"] for d in city["departments"]]
    out = [("city", [">"], [], [">"])]
    # the router reads EV's deleted sequences (the gap watch)
    out.append(("router", ["intake.>", "replay.*", "$JS.API.INFO", "$JS.API.STREAM.INFO.EV"] + _pull("HOTLINE", "router") +
                _pull("EV", "gapwatch") + _pull("CMD", "gapwatch_cmd") + _kv_read("city_dir"), [],
                ["_I.router.>"]))
    out.append(("feeder", ["hotline.in", "replay.*", "$JS.API.INFO"] + _pull("EV", "feeder"), [],
                ["_I.feeder.>"]))
    # the city's leadership: reads the districts' statistics, nothing else
    out.append(("stats", ["$JS.API.INFO"] + _kv_read("city_stats"), [], ["_I.stats.>"]))
    for d in districts:
        pub = ["ev.%s.>" % d, "cmd.*.transfer", "$KV.city_stats.%s.>" % d, "$JS.API.INFO"]
        pub += _pull("INTAKE", "intake_" + d) + _pull("CMD", "cmd_" + d)
        pub += _kv_read("city_dir") + ["$JS.API.STREAM.INFO.KV_city_stats"]
        # a district hands cases over to the others, never to itself
        out.append(("bridge-" + d, pub, ["cmd.%s.transfer" % d], ["_I.bridge-%s.>" % d, "replay." + d]))
    for k in depts:
        pub = ["cmd.*.checkin", "cmd.*.feedback", "replay.*", "$JS.API.INFO"] + _pull("EV", "desk_" + k)
        out.append(("desk-" + k, pub, [], ["_I.desk-%s.>" % k]))
    return out


def _q(s):
    return json.dumps(s)


def _list(xs):
    return "[" + ", ".join(_q(x) for x in xs) + "]"


def authorization_block(city):
    lines = ["authorization {", "  users = ["]
    for name, pub, deny, sub in users(city):
        perm = "publish: {allow: %s" % _list(pub)
        if deny:
            perm += ", deny: %s" % _list(deny)
        perm += "}, subscribe: {allow: %s}" % _list(sub)
        if name.startswith("bridge-"):
            # a bridge answers replay.<district> requests on the asker's inbox
            perm += ", allow_responses: true"
        lines.append("    {user: %s, permissions: {%s}}" % (_q("CN=" + name), perm))
    lines += ["  ]", "}"]
    return "\n".join(lines)


def node_conf(name, host, client_port, cluster_port, http_port, routes, store_dir, pki, city,
              cluster="whistle-city"):
    """One node's nats-server.conf. routes: ["host:port", ...] of the other nodes'
    cluster listeners. pki: the NATS PKI directory (scripts/dev-pki.sh nats)."""
    crt = os.path.join(pki, "servers", name + ".crt")
    key = os.path.join(pki, "servers", name + ".key")
    ca = os.path.join(pki, "ca.crt")
    tls = "    cert_file: %s\n    key_file: %s\n    ca_file: %s\n" % (_q(crt), _q(key), _q(ca))
    out = ["# nats-server %s of the city's cluster (written by scripts/city-nats-conf.py)" % name,
           "server_name: %s" % _q(name),
           "listen: %s" % _q("%s:%d" % (host, client_port))]
    if http_port:
        out.append("http: %s" % _q("%s:%d" % (host, http_port)))
    out += ["max_payload: 1MB",
            "jetstream {",
            "  store_dir: %s" % _q(store_dir),
            "  max_memory_store: 64MB",
            "  max_file_store: 4GB",
            "}",
            "# clients: TLS, a certificate of the city's NATS CA, mapped to a user by its subject",
            "tls {",
            tls + "    verify_and_map: true",
            "    timeout: 5",
            "}",
            authorization_block(city),
            "cluster {",
            "  name: %s" % _q(cluster),
            "  listen: %s" % _q("%s:%d" % (host, cluster_port)),
            "  routes: %s" % _list("nats-route://" + r for r in routes),
            "  # the routes: mutual TLS with the same CA",
            "  tls {",
            tls.replace("    ", "    ") + "    verify: true",
            "    timeout: 5",
            "  }",
            "}"]
    return "\n".join(out) + "\n"


def main(argv):
    args = []
    store = None
    cluster = "whistle-city"
    it = iter(argv)
    for a in it:
        if a == "--store":
            store = next(it)
        elif a == "--cluster":
            cluster = next(it)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(a)
    if len(args) < 4:
        sys.stderr.write("usage: city-nats-conf.py CITY.json PKI_DIR OUT_DIR NODE=HOST:CLIENT:CLUSTER[:HTTP] ...\n")
        return 2
    with open(args[0]) as f:
        city = json.load(f)
    pki, out = args[1], args[2]
    nodes = []
    for spec in args[3:]:
        try:
            name, rest = spec.split("=", 1)
            parts = rest.split(":")
            host, cport, kport = parts[0], int(parts[1]), int(parts[2])
            hport = int(parts[3]) if len(parts) > 3 else 0
        except (ValueError, IndexError):
            sys.stderr.write("city-nats-conf.py: bad node '%s': NAME=HOST:CLIENT_PORT:CLUSTER_PORT[:HTTP_PORT]\n" % spec)
            return 2
        nodes.append((name, host, cport, kport, hport))
    os.makedirs(out, exist_ok=True)
    for name, host, cport, kport, hport in nodes:
        routes = ["%s:%d" % (n[1], n[3]) for n in nodes if n[0] != name]
        sdir = os.path.join(store or os.path.join(out, "jetstream"), name)
        path = os.path.join(out, name + ".conf")
        with open(path, "w") as f:
            f.write(node_conf(name, host, cport, kport, hport, routes, sdir, pki, city, cluster))
        print("city-nats-conf: wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
