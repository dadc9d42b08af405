#!/usr/bin/python3
"""open311_conformance.py: whistle-gateway against GeoReport v2, black box.

A real whistled and a real whistle-gateway on free loopback ports (fixture
PKI, the demo city with the test's own grids on the map and attributes on
category 0102). Every endpoint is called in XML and JSON and each answer is
validated against the schemas of the GeoReport v2 documents this test
carries (open311/*.xsd, open311/schemas.json); every refusal the standard
names gets its error document and HTTP code; a report by location lands in
the grid holding the point (and a GCJ-02 one, said so, too); pagination
walks every request exactly once; GET answers carry no personal data; bad
HTTP (huge heads, bad encodings, a slowloris) is handled; both programs stop
cleanly on SIGTERM.

    tests/integration/open311_conformance.py BUILD_DIR SOURCE_DIR

Prints one FAIL: line per failed check and exits 1, or exits 0."""
import hashlib
import http.client
import json
import math
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

import jsonschema
from lxml import etree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gateway_lib import (API_KEY, GRID_EAST, GRID_WEST, JURISDICTION, PHOTO_A, PHOTO_B,  # noqa: E402
                         PHOTO_DEVICE_STRINGS, Env, Fail, multipart, photo_file, schemas)

HERE = os.path.dirname(os.path.abspath(__file__))
PHONE = "13912345678"
EMAIL = "resident@example.cn"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)
    return cond


# ---------------------------------------------------------------- schemas

JSON_SCHEMAS = schemas()
XSD = {}


def xsd(name):
    if name not in XSD:
        XSD[name] = etree.XMLSchema(etree.parse(os.path.join(HERE, "open311", name + ".xsd")))
    return XSD[name]


def valid_json(doc, name, what):
    s = dict(JSON_SCHEMAS[name])
    s["definitions"] = JSON_SCHEMAS["definitions"]
    try:
        jsonschema.validate(doc, s)
        return True
    except jsonschema.ValidationError as e:
        return check(False, "%s: JSON not a valid %s document: %s" % (what, name, e.message))


def valid_xml(body, name, what):
    try:
        tree = etree.fromstring(body)
    except etree.XMLSyntaxError as e:
        return check(False, "%s: not XML: %s" % (what, e))
    schema = xsd(name)
    if not schema.validate(tree):
        return check(False, "%s: XML not a valid %s document: %s" % (what, name, schema.error_log.last_error))
    return tree


def get_both(env, resource, name, params=None, status=200):
    """GET resource.json and resource.xml; both must have the status and
    validate. Returns (json document, xml tree)."""
    st, ct, body = env.call("GET", resource + ".json", params)
    j = None
    if check(st == status, "GET %s.json %s: %d, expected %d (%s)" % (resource, params or "", st, status, body[:200])):
        check(ct.startswith("application/json"), "GET %s.json: Content-Type %s" % (resource, ct))
        j = json.loads(body)
        valid_json(j, name, "GET %s.json" % resource)
    st, ct, body = env.call("GET", resource + ".xml", params)
    x = None
    if check(st == status, "GET %s.xml %s: %d, expected %d" % (resource, params or "", st, status)):
        check(ct.startswith("text/xml"), "GET %s.xml: Content-Type %s" % (resource, ct))
        x = valid_xml(body, name, "GET %s.xml" % resource)
    return j, x


def refused(env, method, resource, params, code, what):
    """The request is refused in both formats with the standard's error
    document and HTTP code."""
    for fmt in ("json", "xml"):
        st, _, body = env.call(method, resource + "." + fmt, params)
        if not check(st == code, "%s (%s): HTTP %d, expected %d: %s" % (what, fmt, st, code, body[:300])):
            continue
        if fmt == "json":
            doc = json.loads(body)
            if valid_json(doc, "errors", what):
                check(doc[0]["code"] == code, "%s: error code %s, expected %d" % (what, doc[0]["code"], code))
        else:
            t = valid_xml(body, "errors", what)
            if t is not None:
                check(t.findtext("error/code") == str(code), "%s: XML error code %s" % (what, t.findtext("error/code")))


def post(env, fmt="json", **params):
    p = {"api_key": API_KEY, "service_code": "0103", "description": "test report"}
    p.update({k: v for k, v in params.items() if v is not None})
    p = {k: v for k, v in p.items() if v != "-"}
    return env.call("POST", "requests." + fmt, p)


def post_ok(env, **params):
    st, _, body = post(env, **params)
    if not check(st == 201, "POST requests %s: %d %s" % (params, st, body[:300])):
        raise Fail("cannot go on without a posted request")
    doc = json.loads(body)
    valid_json(doc, "post_response", "POST requests.json")
    return doc[0]["service_request_id"]


# ---------------------------------------------------------------- GCJ-02, independently

def wgs84_to_gcj02(lat, lon):
    """The public GCJ-02 forward transform, written out here as the test's
    own reference (the gateway converts the other way)."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


# ---------------------------------------------------------------- the checks

def test_discovery(env):
    j, x = get_both(env, "discovery", "discovery")
    if j:
        check(any("application/json" in e["formats"] and "text/xml" in e["formats"] for e in j["endpoints"]),
              "discovery names both formats")


def test_services(env):
    j, x = get_both(env, "services", "services")
    if not j:
        return
    with open(env.seed, encoding="utf-8") as f:
        cats = json.load(f)["categories"]
    minors = {c["code"]: c for c in cats if len(c["code"]) == 4}
    majors = {c["code"]: c for c in cats if len(c["code"]) == 2}
    codes = [s["service_code"] for s in j]
    check(sorted(codes) == sorted(minors), "services: every minor category once (%d of %d)" % (len(codes), len(minors)))
    for s in j:
        m = majors.get(s["service_code"][:2])
        check(m is not None and s["group"] == m["name_en"],
              "service %s: group %r is its major class's name" % (s["service_code"], s["group"]))
        check(s["metadata"] == bool(minors[s["service_code"]].get("attributes")), "service %s: metadata (%s)" % (
            s["service_code"], s["metadata"]))
    if x is not None:
        check(len(x.findall("service")) == len(j), "services: XML and JSON list the same services")
    # the jurisdiction's language, and jurisdiction_id
    _, _, body = env.call("GET", "services.json", {"jurisdiction_id": JURISDICTION})
    check(json.loads(body) == j, "services with the right jurisdiction_id answer the same")
    refused(env, "GET", "services", {"jurisdiction_id": "elsewhere.example"}, 404, "an unknown jurisdiction_id")


def test_service_definition(env):
    j, x = get_both(env, "services/0102", "service_definition")
    if j:
        codes = [a["code"] for a in j["attributes"]]
        if check(codes == ["amount", "seen_at"], "0102's attributes in order: %s" % codes):
            amount = j["attributes"][0]
            check(amount["datatype"] == "singlevaluelist" and amount["required"] is True
                  and [v["key"] for v in amount["values"]] == ["bag", "heap"], "0102: amount as defined: %s" % amount)
    if x is not None:
        check(x.findtext("attributes/attribute/code") == "amount", "0102 in XML: the first attribute is amount")
    j, _ = get_both(env, "services/0103", "service_definition")
    if j is not None:
        check(j["attributes"] == [], "0103 asks nothing more")
    # every definition of the catalogue is valid in both formats
    _, _, body = env.call("GET", "services.json")
    for svc in json.loads(body):
        if svc["metadata"]:
            d, _ = get_both(env, "services/" + svc["service_code"], "service_definition")
            if d:
                orders = [a["order"] for a in d["attributes"]]
                check(orders == list(range(1, len(orders) + 1)), "%s: attributes numbered in order: %s" % (
                    svc["service_code"], orders))
    refused(env, "GET", "services/9999", None, 404, "GET services/ an unknown code")


def test_post_refusals(env):
    refused(env, "POST", "requests", {"service_code": "0103", "address_id": GRID_WEST}, 403, "POST without api_key")
    refused(env, "POST", "requests", {"api_key": "not-the-key-0123456789", "service_code": "0103",
                                      "address_id": GRID_WEST}, 403, "POST with a wrong api_key")
    refused(env, "POST", "requests", {"api_key": API_KEY, "address_id": GRID_WEST}, 400, "POST without service_code")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "9999", "address_id": GRID_WEST}, 404,
            "POST with an unknown service_code")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0102", "address_id": GRID_WEST}, 400,
            "POST without a required attribute")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0102", "address_id": GRID_WEST,
                                      "attribute[amount]": "truckload"}, 400, "POST with a bad list value")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0102", "address_id": GRID_WEST,
                                      "attribute[amount]": "bag", "attribute[seen_at]": "yesterday"}, 400,
            "POST with a datetime attribute that is not one")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0103", "lat": "31.2304",
                                      "long": "121.4737"}, 400, "POST at a location outside every grid")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0103"}, 400, "POST without a location")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0103", "lat": "91", "long": "116"}, 400,
            "POST with a latitude out of range")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0103", "lat": "39.9"}, 400,
            "POST with lat but no long")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0103", "address_id": GRID_WEST,
                                      "jurisdiction_id": "elsewhere.example"}, 404, "POST to an unknown jurisdiction")
    # the error message names what is wrong
    st, _, body = env.call("POST", "requests.json", {"api_key": API_KEY, "service_code": "0102",
                                                     "address_id": GRID_WEST, "attribute[amount]": "truckload"})
    check(st == 400 and b"amount" in body, "the bad list value's error names the attribute: %s" % body[:200])


def test_post_and_get(env):
    # by location: the grid holding the point
    t1 = post_ok(env, service_code="0102", lat="39.9087", long="116.4605", **{"attribute[amount]": "heap"},
                 phone=PHONE, email=EMAIL, media_url="https://example.cn/photo.jpg",
                 address_string="建国门外大街 1 号 / 1 Jianguomenwai Ave")
    j, x = get_both(env, "requests/" + t1, "service_requests")
    if j:
        r = j[0]
        check(r["service_request_id"] == t1 and r["address_id"] == GRID_WEST,
              "a POST at 39.9087,116.4605 lands in %s: %s" % (GRID_WEST, r["address_id"]))
        check(abs(r["lat"] - 39.9087) < 1e-6 and abs(r["long"] - 116.4605) < 1e-6, "lat/long kept: %s" % r)
        check(r["status"] == "open" and r["service_code"] == "0102", "a new request is open: %s" % r)
        check(r["media_url"] == "https://example.cn/photo.jpg", "media_url kept: %s" % r["media_url"])
        check(r["address"] == "建国门外大街 1 号 / 1 Jianguomenwai Ave", "address_string kept: %s" % r["address"])
        check(r["description"] == "test report", "description as sent: %r" % r["description"])
        check(r["service_notice"], "a service_notice from the category's time limits")
    # GCJ-02, said so: converted to WGS84 on the way in
    glat, glon = wgs84_to_gcj02(39.9087, 116.4605)
    t2 = post_ok(env, lat="%.7f" % glat, long="%.7f" % glon, coord_system="gcj02")
    j, _ = get_both(env, "requests/" + t2, "service_requests")
    if j:
        r = j[0]
        check(r["address_id"] == GRID_WEST, "a GCJ-02 point said so lands in %s: %s" % (GRID_WEST, r["address_id"]))
        check(abs(r["lat"] - 39.9087) < 1e-5 and abs(r["long"] - 116.4605) < 1e-5,
              "GCJ-02 converted back to WGS84 within a metre: %s,%s" % (r["lat"], r["long"]))
    # the same numbers taken as WGS84 are somewhere else
    t3 = post_ok(env, lat="%.7f" % glat, long="%.7f" % glon)
    j, _ = get_both(env, "requests/" + t3, "service_requests")
    if j:
        check(j[0]["address_id"] == GRID_EAST, "the GCJ-02 numbers as WGS84 land in %s: %s" % (GRID_EAST, j[0]["address_id"]))
    # by address_id, and the answer in XML
    st, _, body = post(env, fmt="xml", address_id=GRID_WEST)
    if check(st == 201, "POST requests.xml: %d %s" % (st, body[:200])):
        t = valid_xml(body, "post_response", "POST requests.xml")
        if t is not None:
            t4 = t.findtext("request/service_request_id")
            j, _ = get_both(env, "requests/" + t4, "service_requests")
            if j:
                check(j[0]["address_id"] == GRID_WEST and j[0]["lat"] is None, "by address_id: %s" % j[0])
    refused(env, "GET", "requests/E1999010100001", None, 404, "GET requests/ an unknown id")
    # a POST retried with the same Idempotency-Key is the same report
    form = {"api_key": API_KEY, "service_code": "0103", "address_id": GRID_WEST, "description": "retried"}
    answers = [env.call("POST", "requests.json", form, headers={"Idempotency-Key": "city-ref-4711"}) for _ in range(2)]
    ids = [json.loads(b)[0]["service_request_id"] if st == 201 else None for st, _, b in answers]
    check(ids[0] and ids[0] == ids[1], "a POST retried with its Idempotency-Key answers the same ticket: %s" % ids)
    st, _, b = env.call("POST", "requests.json", form, headers={"Idempotency-Key": "city-ref-4712"})
    check(st == 201 and json.loads(b)[0]["service_request_id"] != ids[0], "another key is another report")
    st, _, b = env.call("POST", "requests.json", form, headers={"Idempotency-Key": "x" * 200})
    check(st == 400, "an Idempotency-Key over 128 characters: 400: %d" % st)
    j, _ = get_both(env, "tokens/" + t1, "token")
    if j:
        check(j[0]["service_request_id"] == t1, "a token is the id it was answered with: %s" % j)
    refused(env, "GET", "tokens/E1999010100001", None, 404, "GET tokens/ an unknown token")
    # personal data never in GET answers
    for fmt in ("json", "xml"):
        for res, params in (("requests/" + t1, None), ("requests", None), ("requests", {"service_request_id": t1}),
                            ("servicerequestupdates", None)):
            st, _, body = env.call("GET", res + "." + fmt, params)
            check(PHONE.encode() not in body and EMAIL.encode() not in body and b"contact" not in body,
                  "GET %s.%s carries no personal data" % (res, fmt))
    return t1


def test_lists(env, t1):
    # filters
    j, _ = get_both(env, "requests", "service_requests", {"service_request_id": t1 + ",E1999010100001"})
    if j is not None:
        check([r["service_request_id"] for r in j] == [t1], "a list of ids gives the ones that exist")
    j, _ = get_both(env, "requests", "service_requests", {"service_code": "0102"})
    if j is not None:
        check(j and all(r["service_code"] == "0102" for r in j), "service_code filters")
    refused(env, "GET", "requests", {"service_code": "9999"}, 404, "GET requests with an unknown service_code")
    j, _ = get_both(env, "requests", "service_requests", {"status": "closed"})
    if j is not None:
        check(all(r["status"] == "closed" for r in j), "status=closed gives closed ones only")
    refused(env, "GET", "requests", {"status": "pending"}, 400, "GET requests with a bad status")
    # the 90-day cap
    refused(env, "GET", "requests", {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},
            400, "a date range over 90 days")
    refused(env, "GET", "requests", {"start_date": "yesterday"}, 400, "a start_date that is not a date")
    refused(env, "GET", "requests", {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-02-01T00:00:00Z"}, 400,
            "start_date after end_date")
    now = time.time()
    fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))  # noqa: E731
    j, _ = get_both(env, "requests", "service_requests", {"start_date": fmt(now - 3600), "end_date": fmt(now + 60)})
    if j is not None:
        check(t1 in [r["service_request_id"] for r in j], "a date range holding now lists the new request")
    j, _ = get_both(env, "requests", "service_requests", {"start_date": fmt(now - 80 * 86400),
                                                          "end_date": fmt(now - 70 * 86400)})
    if j is not None:
        check(j == [], "a date range in the past lists nothing new")
    # updates (mySociety)
    j, _ = get_both(env, "servicerequestupdates", "updates", {"start_date": fmt(now - 3600)})
    if j is not None:
        check(any(u["service_request_id"] == t1 for u in j), "servicerequestupdates has the new request's report")


def test_pagination(env):
    for i in range(7):
        post_ok(env, address_id=GRID_WEST, description="page test %d" % i)
    _, _, body = env.call("GET", "requests.json", {"page_size": 500})
    everything = [r["service_request_id"] for r in json.loads(body)]
    check(len(everything) == len(set(everything)), "one page of everything has no duplicate")
    seen = []
    for page in range(1, 100):
        st, _, body = env.call("GET", "requests.json", {"page_size": 3, "page": page})
        if not check(st == 200, "page %d: %d" % (page, st)):
            return
        rows = json.loads(body)
        valid_json(rows, "service_requests", "page %d" % page)
        check(len(rows) <= 3, "page %d has at most page_size rows" % page)
        if not rows:
            break
        seen += [r["service_request_id"] for r in rows]
    check(sorted(seen) == sorted(everything) and len(seen) == len(set(seen)),
          "pages of 3 walk every request exactly once (%d seen, %d in all)" % (len(seen), len(everything)))
    _, x = get_both(env, "requests", "service_requests", {"page_size": 2, "page": 2})
    if x is not None:
        check([e.text for e in x.findall("request/service_request_id")] == everything[2:4], "XML pages as JSON")
    refused(env, "GET", "requests", {"page_size": 0}, 400, "page_size 0")
    refused(env, "GET", "requests", {"page": "x"}, 400, "a page that is not a number")


def test_whistled_case(env):
    """A case whistled to departments: the lead department's name is
    agency_responsible, its deadline expected_datetime."""
    t = post_ok(env, service_code="0401", address_id=GRID_WEST, description="stall at the gate")
    env.cli("--as", "operator", "file", t)
    env.cli("--as", "operator", "whistle", t, "--dept", "urban,police", "--lead", "urban", "--kind", "tackle")
    j, x = get_both(env, "requests/" + t, "service_requests")
    if j:
        r = j[0]
        check(r["agency_responsible"] == "Urban management enforcement team",
              "agency_responsible is the lead department's name: %r" % r["agency_responsible"])
        check(r["expected_datetime"] is not None and r["status"] == "open"
              and r["status_notes"] == "Sent to the departments", "a whistled case: open, with its deadline: %s" % r)
        check(r["updated_datetime"] >= r["requested_datetime"], "updated_datetime follows the changes")
    if x is not None:
        check(x.findtext("request/agency_responsible") == "Urban management enforcement team",
              "agency_responsible in XML")


def test_status_change(env, t1):
    env.cli("--as", "operator", "reject", t1, "--reason", "duplicate of an earlier report")
    j, x = get_both(env, "requests/" + t1, "service_requests")
    if j:
        check(j[0]["status"] == "closed" and "duplicate" in (j[0]["status_notes"] or ""),
              "a rejected request is closed with the reason in status_notes: %s" % j[0])
    now = time.time()
    j, _ = get_both(env, "servicerequestupdates", "updates",
                    {"start_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))})
    if j is not None:
        mine = [u for u in j if u["service_request_id"] == t1]
        check(len(mine) >= 2 and mine[-1]["status"] == "closed" and len({u["update_id"] for u in mine}) == len(mine),
              "servicerequestupdates: the report and the rejection, distinct ids: %s" % mine)


def raw(env, data, read=True, timeout=10):
    """Bytes written on a TLS connection as they are; the answer's first
    line (b"" if the connection closed without one)."""
    s = env.ctx.wrap_socket(socket.create_connection(("127.0.0.1", env.gw_port), timeout=timeout),
                            server_hostname="127.0.0.1")
    try:
        s.sendall(data)
        out = b""
        while read and b"\r\n" not in out:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
        return out.split(b"\r\n")[0]
    except (ConnectionError, ssl.SSLError, socket.timeout):
        return b""
    finally:
        s.close()


def test_bad_http(env):
    st, _, _ = env.call("GET", "services.json", headers={"X-Big": "a" * 20000})
    check(st == 431, "a 20 kB header is refused 431: %d" % st)
    line = raw(env, b"GET /open311/v2/services.json HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 600000 + b"\r\n\r\n")
    check(line == b"" or line.split(b" ")[1:2] in ([b"400"], [b"413"], [b"431"]),
          "a 600 kB header is refused or cut off: %r" % line)
    line = raw(env, b"GET /open311/v2/services.json HTTP/1.1\r\nHost: x\r\n" +
               b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n")
    check(line == b"" or line.split(b" ")[1:2] in ([b"400"], [b"431"]), "150 headers are refused: %r" % line)
    line = raw(env, b"POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nContent-Type: "
               b"application/x-www-form-urlencoded\r\nContent-Length: 200000\r\n\r\n" + b"a" * 200000)
    check(line == b"" or b" 413 " in line + b" ", "a 200 kB body (limit 64 kB) is refused 413: %r" % line)
    # bad encodings: the standard's error document, 400
    refused(env, "GET", "requests", {"status": b"\xc0\xaf"}, 400, "an overlong UTF-8 form in the query")
    refused(env, "GET", "requests", {"status": b"\xff"}, 400, "a byte that is never UTF-8 in the query")
    refused(env, "GET", "requests", {"status": b"\xed\xa0\x80"}, 400, "a UTF-16 surrogate in the query")
    for fmt in ("json", "xml"):
        st, _, body = env.call("POST", "requests." + fmt, body=b"api_key=" + API_KEY.encode() +
                               b"&service_code=0103&address_id=" + GRID_WEST.encode() + b"&description=%E4%B8",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        check(st == 400, "a truncated UTF-8 sequence in a POST body is refused 400 (%s): %d" % (fmt, st))
    st, _, body = env.call("GET", "", raw_path="/open311/v2/services/%FF.json")
    check(st == 400, "bad UTF-8 in the path: 400: %d" % st)
    st, _, body = env.call("POST", "requests.json", body=b"{}", headers={"Content-Type": "application/json"})
    check(st == 400, "a POST body that is not a form: 400: %d" % st)
    st, _, _ = env.call("DELETE", "requests.json")
    check(st == 405, "DELETE requests: 405: %d" % st)
    st, _, _ = env.call("GET", "", raw_path="/elsewhere")
    check(st == 404, "a path outside /open311/v2/: 404: %d" % st)
    # slowloris: a head that never ends, or a body that trickles, is cut off
    # (http.request_timeout = 2)
    for what, head, drip in (("head", b"GET /open311/v2/services.json HTTP/1.1\r\nHost: x\r\n", b"X-a: b\r\n"),
                             ("body", b"POST /open311/v2/requests.json HTTP/1.1\r\nHost: x\r\nContent-Type: "
                              b"application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n", b"a")):
        s = env.ctx.wrap_socket(socket.create_connection(("127.0.0.1", env.gw_port), timeout=15),
                                server_hostname="127.0.0.1")
        s.sendall(head)
        start, closed = time.time(), False
        try:
            while time.time() - start < 12:
                s.sendall(drip)
                s.settimeout(0.5)
                try:
                    if s.recv(4096) == b"":
                        closed = True
                        break
                except socket.timeout:
                    pass
        except (ConnectionError, ssl.SSLError, OSError):
            closed = True
        s.close()
        check(closed and time.time() - start < 8, "a slowloris %s is cut off within the request timeout (%.1f s)"
              % (what, time.time() - start))
    # a TLS handshake that never comes, or stops half-way, is cut off
    # (http.handshake_timeout = 2)
    for first in (b"", b"\x16\x03\x01\x00\x50"):
        c = socket.create_connection(("127.0.0.1", env.gw_port), timeout=12)
        if first:
            c.sendall(first)
        start = time.time()
        try:
            got = c.recv(16)
        except (ConnectionError, socket.timeout, OSError):
            got = None
        c.close()
        check(got == b"" and time.time() - start < 8, "a silent TLS client (%r) is cut off within the handshake "
              "timeout: %r after %.1f s" % (first, got, time.time() - start))
    # and the gateway still serves
    st, _, _ = env.call("GET", "services.json")
    check(st == 200, "the gateway serves after the bad input: %d" % st)


def test_config(env):
    gw = os.path.join(env.build, "whistle-gateway")
    good = env.gateway_conf()
    r = subprocess.run([gw, "--config", good, "--check-config"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "configuration OK" in r.stdout, "--check-config on a good file: %d %s" % (
        r.returncode, r.stderr.strip()))
    for text, want in (("[http]\nport = 99999\n", ":2: http.port"), ("[http]\nlisten_on = x\n", "unknown key"),
                       ("[api_keys]\nshort = hotline\n", "16 to 256"), ("[open311]\nlanguage = fr\n", "zh or en"),
                       ("[notify]\nenabled = true\n", "notify.as")):
        bad = os.path.join(env.work, "bad.conf")
        with open(good) as f:
            base = f.read()
        with open(bad, "w") as f:
            f.write(text if "enabled" not in text else base + text)
        r = subprocess.run([gw, "--config", bad, "--check-config"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and want in r.stderr, "--check-config refuses %r naming it: %d %s" % (
            text, r.returncode, r.stderr.strip()))
    r = subprocess.run([gw, "--version"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.startswith("whistle-gateway "), "--version")
    r = subprocess.run([gw, "--help"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "--check-config" in r.stdout, "--help")
    r = subprocess.run([gw, "--bogus"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2, "a bad flag exits 2")


def test_sighup(env):
    """SIGHUP reloads the HTTPS certificate; a broken one keeps the old."""
    def served():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", env.gw_port), timeout=10)) as s:
            return s.getpeercert(binary_form=True)

    def pem_der(path):
        with open(path) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def hup_until(want, what):
        env.procs["gateway"].send_signal(signal.SIGHUP)
        end = time.time() + 10
        while time.time() < end:
            if served() == want:
                return True
            time.sleep(0.1)
        return check(False, what)

    server = pem_der(env.gw_cert)
    check(served() == server, "the configured certificate is served")
    # a connection open across the reload keeps working
    keep = http.client.HTTPSConnection("127.0.0.1", env.gw_port, context=env.ctx, timeout=10)
    keep.request("GET", "/open311/v2/services.json")
    check(keep.getresponse().read() != b"", "a kept-alive connection before SIGHUP")
    saved = [open(p, "rb").read() for p in (env.gw_cert, env.gw_key)]
    other = os.path.join(env.pki, "clients", "operator")
    shutil.copy(other + ".crt", env.gw_cert)
    shutil.copy(other + ".key", env.gw_key)
    hup_until(pem_der(other + ".crt"), "SIGHUP serves the new certificate")
    keep.request("GET", "/open311/v2/services.json")
    r = keep.getresponse()
    check(r.status == 200 and r.read() != b"", "the connection open across SIGHUP still serves")
    keep.close()
    with open(env.gw_cert, "w") as f:
        f.write("not a certificate")
    env.procs["gateway"].send_signal(signal.SIGHUP)
    time.sleep(0.5)
    check(served() == pem_der(other + ".crt") and env.procs["gateway"].poll() is None,
          "a broken certificate on SIGHUP keeps the old one, and the gateway runs")
    for p, data in zip((env.gw_cert, env.gw_key), saved):
        with open(p, "wb") as f:
            f.write(data)
    hup_until(server, "SIGHUP back to the server certificate")
    st, _, _ = env.call("GET", "services.json")
    check(st == 200, "verified HTTPS after the reloads: %d" % st)


def test_whistled_restart(env):
    """whistled goes away: what needs it is 503 with the error document,
    the catalogue is still served; it comes back: the gateway reconnects by
    itself."""
    rc = env.stop("whistled")
    check(rc == 0, "whistled stops cleanly: exit %s" % rc)
    refused(env, "GET", "requests", None, 503, "GET requests while whistled is away")
    refused(env, "POST", "requests", {"api_key": API_KEY, "service_code": "0103", "address_id": GRID_WEST}, 503,
            "POST requests while whistled is away")
    st, _, _ = env.call("GET", "services.json")
    check(st == 200, "the catalogue is served while whistled is away: %d" % st)
    env.start_whistled()
    end, st = time.time() + 20, 0
    while time.time() < end and st != 200:
        st, _, _ = env.call("GET", "requests.json")
        time.sleep(0.2)
    check(st == 200, "the gateway is back in service once whistled is: %d" % st)


# ---------------------------------------------------------------- photos (docs/photos.md)

def fetch(env, path, method="GET"):
    """(status, content type, body, headers) of a path on the gateway."""
    c = http.client.HTTPSConnection("127.0.0.1", env.gw_port, context=env.ctx, timeout=20)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.getheader("Content-Type", ""), r.read(), r
    finally:
        c.close()


def case_photos(env, t):
    out = env.cli("--as", "operator", "--json", "show", t)
    return json.loads(out.splitlines()[0]).get("photos", [])


def stage(p):
    return str(p.get("stage", "")).lower().replace("photo_stage_", "")


def test_photos(env):
    subprocess.run(["sh", os.path.join(env.src, "scripts/dev-pki.sh"), env.pki, "gridworker", "urban"], check=True,
                   stdout=subprocess.DEVNULL)
    pa, pb = photo_file(env, "a.jpg", PHOTO_A), photo_file(env, "b.jpg", PHOTO_B)
    # a grid worker's patrol report with a photo: a staff photo, public
    t = env.cli("-q", "--as", "gridworker", "report", "--node", GRID_WEST, "--category", "0103", "--photo", pa,
                "bins overflowing by the gate").strip()
    ps = case_photos(env, t)
    if not check(len(ps) == 1 and stage(ps[0]) == "report", "the patrol's report carries its photo: %s" % ps):
        return
    pid, sha = ps[0]["id"], ps[0]["sha256"]
    j, x = get_both(env, "requests/" + t, "service_requests")
    url = j[0]["media_url"] if j else None
    check(url and url.endswith("/open311/v2/media/%s/%s.jpg" % (t, pid)),
          "a patrol's photo is the case's media_url, served by the gateway: %s" % url)
    if x is not None:
        check(x.findtext("request/media_url") == url, "the same media_url in XML")
    path = urllib.parse.urlparse(url or "").path
    st, ct, body, r = fetch(env, path)
    check(st == 200 and ct == "image/jpeg", "GET %s: 200 image/jpeg (%d %s)" % (path, st, ct))
    check(hashlib.sha256(body).hexdigest() == sha and r.getheader("ETag") == '"%s"' % sha,
          "the bytes are the stored photo's (SHA-256 %s..., and its ETag)" % sha[:12])
    check(not [s for s in PHOTO_DEVICE_STRINGS if s in body],
          "nothing of the phone is left in the served photo (no EXIF, maker, model, time)")
    check(body != PHOTO_A and body[:3] == b"\xff\xd8\xff", "the photo was encoded again by whistled")
    check("public" in (r.getheader("Cache-Control") or "") and r.getheader("X-Content-Type-Options") == "nosniff",
          "a public photo may be cached by anyone; nosniff")
    c = http.client.HTTPSConnection("127.0.0.1", env.gw_port, context=env.ctx, timeout=20)
    try:
        c.request("GET", path, headers={"If-None-Match": '"%s"' % sha})
        r304 = c.getresponse()
        check(r304.status == 304 and not r304.read() and r304.getheader("ETag") == '"%s"' % sha,
              "a client that has the photo (If-None-Match: its ETag) is answered 304 (%d)" % r304.status)
    finally:
        c.close()
    st, ct, tb, _ = fetch(env, path[:-4] + "-thumb.jpg")
    check(st == 200 and ct == "image/jpeg" and tb[:3] == b"\xff\xd8\xff" and tb != body,
          "its thumbnail: 200 image/jpeg (%d %s)" % (st, ct))
    st, _, _, _ = fetch(env, path, method="HEAD")
    check(st == 200, "HEAD of a photo: 200")
    for bad, what in ((path[:-4] + ".png", "the wrong type's name"),
                      ("/open311/v2/media/E1999010100001/%s.jpg" % pid, "another case's ticket"),
                      ("/open311/v2/media/%s/%d.jpg" % (t, int(pid) + 100000), "an id that is none"),
                      ("/open311/v2/media/%s/x.jpg" % t, "an id that is not a number"),
                      ("/open311/v2/media/%s/%s.gif" % (t, pid), "a .gif"),
                      ("/open311/v2/media/%s" % t, "no photo named")):
        st, _, _, _ = fetch(env, bad)
        check(st == 404, "a photo URL with %s: 404 (%d)" % (what, st))
    st, _, _ = env.call("POST", "media/%s/%s.jpg" % (t, pid), body=b"x", headers={"Content-Type": "image/jpeg"})
    check(st == 405, "photos are read with GET only (%d)" % st)
    # the listing (which carries only photo_count) shows it too
    j, _ = get_both(env, "requests", "service_requests", {"service_code": "0103"})
    mine = [r for r in (j or []) if r["service_request_id"] == t]
    check(mine and mine[0]["media_url"] == url, "GET requests (a listing) gives the case's media_url too: %s" % mine)

    # a resident's photo, sent with an Open311 POST as multipart/form-data
    form = {"api_key": API_KEY, "service_code": "0401", "lat": "39.9087", "long": "116.4605",
            "description": "stall on the pavement, photo attached", "phone": PHONE}
    ct, body = multipart(form, {"media": ("stall.jpg", "image/jpeg", PHOTO_B)})
    st, _, b = env.call("POST", "requests.json", body=body, headers={"Content-Type": ct})
    if not check(st == 201, "POST requests.json as multipart/form-data with a photo: 201 (%d %s)" % (st, b[:200])):
        return
    t2 = json.loads(b)[0]["service_request_id"]
    ps2 = case_photos(env, t2)
    check(len(ps2) == 1 and stage(ps2[0]) == "report" and not ps2[0].get("has_location"),
          "the case carries the resident's photo, without its place: %s" % ps2)
    st, ct, got, _ = fetch(env, "/open311/v2/media/%s/%s.jpg" % (t2, ps2[0]["id"]) if ps2 else "/")
    check(st == 404, "a resident's photo is never public: 404 like one that is not there (%d)" % st)
    j, _ = get_both(env, "requests/" + t2, "service_requests")
    check(j and j[0]["media_url"] is None, "and no media_url points at it: %s" % (j[0]["media_url"] if j else None))
    # refused photos: nothing is reported
    before = len(json.loads(env.cli("--as", "operator", "--json", "list", "--limit", "500").splitlines()[0])
                 .get("events", []))
    gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00" \
          b"\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    for media, want in ((gif, "not a JPEG or PNG image"), (PHOTO_A[:len(PHOTO_A) // 2], "truncated"),
                        (b"", "empty")):
        ct, body = multipart(form, {"media": ("x.jpg", "image/jpeg", media)})
        st, _, b = env.call("POST", "requests.json", body=body, headers={"Content-Type": ct})
        check(st == 400 and want in b.decode(errors="replace") and b"media" in b,
              "a photo whistled refuses is a 400 saying why (%s): %d %s" % (want, st, b[:160]))
    ct, body = multipart(form, {"media": ("x.jpg", "image/jpeg", PHOTO_A)})
    bnd = ct.split("=", 1)[1].encode()
    end = body.rindex(b"--" + bnd + b"--")
    part = body[body.index(b"--" + bnd + b'\r\nContent-Disposition: form-data; name="media"'):end]
    cases = [("two media parts", ct, body[:end] + part + b"--" + bnd + b"--\r\n"),
             ("a body cut short", ct, body[:-40]),
             ("a boundary that is not the body's", ct.replace("whistle-test", "other-test"), body),
             ("a file in another part",) + multipart(form, {"photo": ("x.jpg", "image/jpeg", PHOTO_A)})]
    for what, c2, b2 in cases:
        st, _, b = env.call("POST", "requests.json", body=b2, headers={"Content-Type": c2})
        check(st == 400, "multipart with %s: 400 (%d %s)" % (what, st, b[:120]))
    after = len(json.loads(env.cli("--as", "operator", "--json", "list", "--limit", "500").splitlines()[0])
                .get("events", []))
    check(after == before, "no refused POST reported anything (%d cases before, %d after)" % (before, after))

    # the department's feedback photo on the resident's case: staff, public
    env.cli("--as", "operator", "file", t2)
    env.cli("--as", "operator", "whistle", t2, "--dept", "urban", "--lead", "urban")
    order = env.cli("-q", "--as", "urban", "orders", "--ticket", t2).split()[0]
    env.cli("--as", "urban", "checkin", order)
    env.cli("--as", "urban", "feedback", order, "stall removed", "--photo", pa)
    ps2 = case_photos(env, t2)
    fb = [p for p in ps2 if stage(p) == "feedback"]
    if not check(len(fb) == 1, "the feedback carries its photo: %s" % ps2):
        return
    j, _ = get_both(env, "requests/" + t2, "service_requests")
    url2 = j[0]["media_url"] if j else None
    check(url2 and url2.endswith("/media/%s/%s.jpg" % (t2, fb[0]["id"])),
          "with the resident's photo hidden, media_url is the feedback's photo: %s" % url2)
    st, ct, got, _ = fetch(env, urllib.parse.urlparse(url2 or "").path)
    check(st == 200 and hashlib.sha256(got).hexdigest() == fb[0]["sha256"], "the feedback's photo is served (%d)" % st)
    now = time.time()
    j, _ = get_both(env, "servicerequestupdates", "updates",
                    {"start_date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600))})
    ups = [u for u in (j or []) if u["service_request_id"] == t2]
    with_media = [u for u in ups if u["media_url"]]
    check(len(with_media) == 1 and with_media[0]["media_url"] == url2 and "stall removed" in with_media[0]["description"],
          "servicerequestupdates: the feedback's update carries its photo, the resident's report none: %s" % ups)
    pat = [u for u in (j or []) if u["service_request_id"] == t]
    check(pat and pat[0]["media_url"] == url, "the patrol's report update carries its photo: %s" % pat[:1])

    # open311.public_photos = none: no photo at all
    check(env.stop("gateway") == 0, "the gateway stops to change public_photos")
    env.start_gateway("[open311]\npublic_photos = none\n")
    j, _ = get_both(env, "requests/" + t, "service_requests")
    check(j and j[0]["media_url"] is None, "with public_photos = none, no media_url: %s" % (j[0] if j else None))
    st, _, _, _ = fetch(env, path)
    check(st == 404, "and no photo is served (%d)" % st)
    check(env.stop("gateway") == 0, "the gateway stops")
    env.start_gateway()


def main():
    build, src = sys.argv[1], sys.argv[2]
    env = Env(build, src, "open311")
    ok = False
    try:
        env.start_whistled()
        test_config(env)
        env.start_gateway()
        test_discovery(env)
        test_services(env)
        test_service_definition(env)
        test_post_refusals(env)
        t1 = test_post_and_get(env)
        test_lists(env, t1)
        test_pagination(env)
        test_whistled_case(env)
        test_status_change(env, t1)
        test_photos(env)
        test_bad_http(env)
        test_sighup(env)
        test_whistled_restart(env)
        rc = env.stop("gateway")
        check(rc == 0, "whistle-gateway stops cleanly on SIGTERM: exit %s" % rc)
        rc = env.stop("whistled")
        check(rc == 0, "whistled stops cleanly on SIGTERM: exit %s" % rc)
        ok = not failures
    except Fail as e:
        failures.append(str(e))
        print("FAIL: " + str(e), flush=True)
    finally:
        env.cleanup(ok)
    if failures:
        print("open311_conformance: %d check(s) failed" % len(failures))
        return 1
    print("open311_conformance: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
