// whistle's web console (docs/web.md). Plain JavaScript, no framework and
// no build step: it talks only to the gateway that served it (/web/api/),
// builds every element with textContent (no HTML from data), and follows
// the logged-in person's stream by server-sent events (nothing polled).
"use strict";

// ---- words, in both languages
const WORDS = {
  zh: {
    title: "吹哨报到 · 指挥中心", login: "账号", password: "密码", log_in: "登录", log_out: "退出",
    map: "地图", cases: "案件", board: "部门看板", stats: "统计", desk: "部门工作台",
    online: "实时", offline: "离线", heat: "网格热力", from: "起始日期", apply: "查询", search: "描述中的文字",
    ticket: "编号", state: "状态", category: "类别", place: "地点", description: "描述", reported_at: "上报时间",
    due: "时限", order: "工单", department: "部门", countdown: "倒计时", board_title: "各部门工单与倒计时",
    supervisions: "督办", level: "级别", opened: "开始", emergency: "紧急呼叫", acknowledge: "已知悉",
    any_state: "全部状态", any_category: "全部类别", any_grid: "全部网格", timeline: "流转记录",
    priority: "紧急程度", lead: "牵头", kind: "哨类", note: "备注", reason: "理由", assignee: "处置人",
    file: "立案", reject: "不予立案", assign: "派网格员", whistle: "吹哨", close: "结案", verify_pass: "核查通过",
    verify_fail: "核查不通过", check_in: "报到", feedback: "反馈办结", approve: "批准延期", refuse: "驳回延期",
    send: "提交", done: "已完成", overdue: "已超时", checkin_in: "报到剩余", resolve_in: "办结剩余",
    by_department: "按部门", by_community: "按社区", by_grid: "按网格", day: "按日", week: "按周", month: "按月",
    response_rate: "响应率", resolution_rate: "办结率", satisfaction_rate: "满意率", on_time_close_rate: "按时办结率",
    rework_rate: "返工率", overdue_n: "超时工单数", no_orders: "暂无工单", desk_of: "工作台：",
    not_department: "此页面供部门账号使用。", extension: "延期申请", open: "进行中", closed_s: "已结束",
    wrong: "账号或密码错误", ok_done: "已完成：", refused: "被拒绝：", routine: "日常哨", tackle: "攻坚哨",
    emergency_k: "应急哨", ack_sent: "紧急呼叫已确认", trend: "上报与工单趋势",
    photos: "照片", before: "处置前（上报）", after: "处置后（反馈与核查）", no_photo: "无照片",
    stage_report: "上报", stage_feedback: "部门反馈", stage_verify: "核查",
    attach: "附照片", chosen: "已选照片：",
  },
  en: {
    title: "Whistle · Command center", login: "Login", password: "Password", log_in: "Log in", log_out: "Log out",
    map: "Map", cases: "Cases", board: "Board", stats: "Statistics", desk: "Desk",
    online: "live", offline: "offline", heat: "Heat per grid", from: "From", apply: "Apply",
    search: "Text in the description", ticket: "Ticket", state: "State", category: "Category", place: "Place",
    description: "Description", reported_at: "Reported", due: "Due", order: "Order", department: "Department",
    countdown: "Countdown", board_title: "Departments' orders and their countdowns", supervisions: "Supervision",
    level: "Level", opened: "Opened", emergency: "EMERGENCY CALL", acknowledge: "Acknowledge",
    any_state: "Any state", any_category: "Any category", any_grid: "Any grid", timeline: "Timeline",
    priority: "Priority", lead: "Lead", kind: "Kind", note: "Note", reason: "Reason", assignee: "Worker",
    file: "File", reject: "Reject", assign: "Assign", whistle: "Whistle", close: "Close", verify_pass: "Verified",
    verify_fail: "Not fixed", check_in: "Check in", feedback: "Feed back", approve: "Approve extension",
    refuse: "Refuse extension", send: "Send", done: "done", overdue: "overdue", checkin_in: "check in within",
    resolve_in: "resolve within", by_department: "By department", by_community: "By community", by_grid: "By grid",
    day: "Daily", week: "Weekly", month: "Monthly", response_rate: "Response rate",
    resolution_rate: "Resolution rate", satisfaction_rate: "Satisfaction rate", on_time_close_rate: "On-time close rate",
    rework_rate: "Rework rate", overdue_n: "Overdue orders", no_orders: "No orders", desk_of: "Desk: ",
    not_department: "This page is for department logins.", extension: "Extension asked", open: "open",
    closed_s: "closed", wrong: "Unknown login or wrong password", ok_done: "Done: ", refused: "Refused: ",
    routine: "routine", tackle: "tackle", emergency_k: "emergency", ack_sent: "Emergency call acknowledged",
    trend: "Cases and orders over time",
    photos: "Photos", before: "Before (report)", after: "After (feedback and verification)", no_photo: "No photo",
    stage_report: "report", stage_feedback: "department's feedback", stage_verify: "verification",
    attach: "Attach photos", chosen: "Photos chosen: ",
  },
};
const STATES = {
  reported: ["待立案", "reported", "#e53935"], filed: ["已立案", "filed", "#fb8c00"],
  rejected: ["不予立案", "rejected", "#757575"], handling: ["处置中", "handling", "#fdd835"],
  whistled: ["已吹哨", "whistled", "#1e88e5"], resolved: ["已处置", "resolved", "#43a047"],
  verified: ["已核查", "verified", "#00acc1"], closed: ["已结案", "closed", "#9e9e9e"],
};
const PRIORITIES = { low: ["低", "low"], normal: ["一般", "normal"], high: ["紧急", "high"],
  urgent: ["特急", "urgent"] };
const ORDER_STATES = { pending: ["待报到", "pending"], checked_in: ["已报到", "checked in"],
  done: ["已办结", "done"], returned: ["已退回", "returned"] };

let lang = localStorage.getItem("whistle.lang") || ((navigator.language || "").startsWith("zh") ? "zh" : "en");
const t = (k) => (WORDS[lang][k] !== undefined ? WORDS[lang][k] : k);
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
const SVG = "http://www.w3.org/2000/svg";
function sv(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// ---- state
const S = {
  me: null, csrf: "", nodes: new Map(), cats: new Map(), depts: new Map(), events: new Map(),
  orders: new Map(), notes: new Map(), files: new Map(), view: "map", card: null, stream: null, fresh: new Set(), es: null, emergency: null,
};

function name(obj) { return obj ? (lang === "zh" ? obj.name_zh : obj.name_en) || obj.name_zh || obj.code : ""; }
const nodeName = (c) => name(S.nodes.get(c)) || c;
const catName = (c) => name(S.cats.get(c)) || c;
const deptName = (c) => name(S.depts.get(c)) || c;
const stateWord = (s) => (STATES[s] ? STATES[s][lang === "zh" ? 0 : 1] : s);
const orderWord = (s) => (ORDER_STATES[s] ? ORDER_STATES[s][lang === "zh" ? 0 : 1] : s);
const when = (ms) => (ms ? new Date(ms).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "");
const role = () => (S.me ? S.me.who.role : "");

function status(msg, bad) {
  const s = $("status");
  s.textContent = msg;
  s.className = "status" + (bad ? " bad" : "");
}

// ---- the API
async function http(method, path, body) {
  const h = { "X-CSRF-Token": S.csrf };
  if (body !== undefined) h["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
                                credentials: "same-origin" });
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  if (r.status === 401 && path !== "/web/api/login") { showLogin(); throw new Error(t("offline")); }
  if (!r.ok) throw Object.assign(new Error((j && j.message) || r.statusText), { code: j && j.code, status: r.status });
  return j;
}
const READS = new Set(["get_event", "list_events", "list_orders", "list_nodes", "list_departments",
  "list_categories", "list_supervisions", "get_stats", "propose_departments"]);
function call(name, body) {
  const h = { "X-CSRF-Token": S.csrf, "Content-Type": "application/json" };
  // one key per action: a retried write is applied once. The time comes
  // first, so that one desk's keys sort in the order they were made (the
  // daemon keeps their results together: see whistle_idempotency_key).
  if (!READS.has(name))
    h["Idempotency-Key"] = "web-" + Date.now().toString(16).padStart(12, "0") + "-" + crypto.randomUUID();
  return fetch("/web/api/call/" + name, { method: "POST", headers: h, body: JSON.stringify(body || {}),
                                          credentials: "same-origin" })
    .then(async (r) => {
      const j = await r.json().catch(() => null);
      if (r.status === 401) { showLogin(); throw new Error(t("offline")); }
      if (!r.ok) throw Object.assign(new Error((j && j.message) || r.statusText), { code: j && j.code });
      return j;
    });
}
// ---- photos sent with a feedback or a verification: each file goes up to
// whistled first (POST /web/api/photo, its bytes; whistled checks and
// cleans it), then the action names them by their SHA-256. The files
// chosen are kept by key (an order, a case) so that a redraw keeps them.
async function sendPhotos(files) {
  const out = [];
  for (const f of files || []) {
    const r = await fetch("/web/api/photo", { method: "POST", credentials: "same-origin", body: f,
      headers: { "X-CSRF-Token": S.csrf, "Content-Type": f.type === "image/png" ? "image/png" : "image/jpeg" } });
    const j = await r.json().catch(() => null);
    if (r.status === 401) { showLogin(); throw new Error(t("offline")); }
    if (!r.ok) throw new Error(f.name + ": " + ((j && j.message) || r.statusText));
    out.push(j.photo.sha256);
  }
  return out;
}
function photoPicker(key) {
  const chosen = S.files.get(key) || [];
  const input = el("input", { type: "file", accept: "image/jpeg,image/png", multiple: "multiple", class: "photo-pick",
    onchange: (ev) => { S.files.set(key, [...ev.target.files]); scheduleRender(); } });
  return el("label", { class: "photo-picker" }, t("attach"), " ", input,
    chosen.length ? el("span", { class: "chosen" }, t("chosen") + chosen.map((f) => f.name).join(", ")) : null);
}
async function actWithPhotos(label, name, body, key) {
  let photos = [];
  try {
    photos = await sendPhotos(S.files.get(key));
  } catch (e) {
    status(t("refused") + label + ": " + e.message, true);
    return null;
  }
  if (photos.length) body.photos = photos;
  const j = await act(label, name, body);
  if (j) S.files.delete(key);
  return j;
}
async function act(label, name, body) {
  try {
    const j = await call(name, body);
    status(t("ok_done") + label);
    if (j.event) putEvent(j.event);
    if (j.order) putOrder(j.order);
    if (j.whistle) await refreshCase(body.ticket);
    if (body.ticket) await refreshCase(body.ticket);
    render();
    return j;
  } catch (e) {
    status(t("refused") + label + ": " + e.message, true);
    return null;
  }
}

// ---- login
function showLogin() {
  if (S.es) { S.es.close(); S.es = null; }
  S.me = null;
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-name").focus();
}
async function start(me) {
  S.me = me;
  S.csrf = me.csrf;
  $("login").hidden = true;
  $("app").hidden = false;
  $("whoami").textContent = me.login + " (" + me.who.role + (me.who.department ? " · " + me.who.department : "") + ")";
  // the desk is a department's; the others have the board
  document.querySelector("#tabs button[data-view=desk]").hidden = me.who.role !== "department";
  await loadDirectory();
  await loadData();
  fillFilters();
  openStream();
  show(role() === "department" ? "desk" : "map");
}
$("login-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  $("login-error").textContent = "";
  try {
    const me = await http("POST", "/web/api/login", { login: $("login-name").value, password: $("login-password").value });
    $("login-password").value = "";
    await start(me);
  } catch (e) {
    $("login-error").textContent = e.status === 401 ? t("wrong") : e.message;
  }
});
$("logout").addEventListener("click", async () => {
  try { await http("POST", "/web/api/logout", {}); } catch (e) { /* the session is gone either way */ }
  showLogin();
});

// ---- data
async function loadDirectory() {
  const [n, c, d] = await Promise.all([call("list_nodes", { with_boundaries: true }), call("list_categories", {}),
    call("list_departments", {})]);
  S.nodes = new Map(n.nodes.nodes.map((x) => [x.code, x]));
  S.cats = new Map(c.categories.categories.map((x) => [x.code, x]));
  S.depts = new Map(d.departments.departments.map((x) => [x.code, x]));
}
// pushes and lists carry a case without its timeline: keep the one read last
// nor its photos (only photo_count): keep those read last while the count
// still matches
function putEvent(e) {
  const old = S.events.get(e.ticket);
  const tl = e.timeline && e.timeline.length ? e.timeline : old ? old.timeline : [];
  const ph = e.photos && e.photos.length ? e.photos
    : old && old.photos && old.photos.length === (e.photo_count || 0) ? old.photos : [];
  S.events.set(e.ticket, Object.assign(old || {}, e, { timeline: tl, photos: ph }));
}
function putOrder(o) { S.orders.set(o.id, o); }
async function loadData() {
  if (role() === "department" || role() === "operator" || role() === "admin" || role() === "community" ||
      role() === "grid_worker") {
    const since = Date.now() - 30 * 86400000;
    let cursor = "";
    for (let i = 0; i < 10; i++) {
      const j = await call("list_events", { created_from_ms: since, limit: 500, cursor, newest_first: true })
        .catch(() => null);
      if (!j) break;
      j.events.events.forEach(putEvent);
      cursor = j.events.next_cursor;
      if (!cursor) break;
    }
  }
  const o = await call("list_orders", { limit: 500 }).catch(() => null);
  if (o) o.orders.orders.forEach(putOrder);
}
async function refreshCase(ticket) {
  const j = await call("get_event", { ticket }).catch(() => null);
  if (j) putEvent(j.event);
  const o = await call("list_orders", { ticket }).catch(() => null);
  if (o) o.orders.orders.forEach(putOrder);
}

// ---- live
function openStream() {
  if (S.es) S.es.close();
  const es = new EventSource("/web/api/events");
  S.es = es;
  es.addEventListener("open", () => setLive(true));
  es.addEventListener("error", () => setLive(false));
  es.addEventListener("refused", () => { es.close(); setLive(false); }); // a role with no stream of its own
  es.addEventListener("ready", (m) => { S.stream = JSON.parse(m.data).stream; });
  es.addEventListener("logout", () => { es.close(); showLogin(); });
  es.addEventListener("push", (m) => {
    const p = JSON.parse(m.data);
    S.stream = p.stream;
    if (p.event) { putEvent(p.event); S.fresh.add(p.event.ticket); }
    if (p.order) putOrder(p.order);
    if (p.action === "emergency" && p.event) showEmergency(p);
    if (p.event && p.event.ticket === S.card) refreshCase(S.card).then(scheduleRender);
    scheduleRender();
  });
}
function setLive(on) {
  S.live = on;
  $("live").className = "live " + (on ? "on" : "off");
  $("live").textContent = t(on ? "online" : "offline");
}
let renderTimer = null;
function scheduleRender() {
  if (renderTimer) return;
  renderTimer = setTimeout(() => { renderTimer = null; render(); }, 150);
}
function showEmergency(p) {
  S.emergency = p;
  $("emergency-text").textContent = p.event.ticket + " · " + nodeName(p.event.node) + " · " + (p.event.description || "");
  $("emergency").hidden = false;
  $("emergency-ack").focus();
}
$("emergency-ack").addEventListener("click", async () => {
  const p = S.emergency;
  $("emergency").hidden = true;
  S.emergency = null;
  if (!p) return;
  try {
    await http("POST", "/web/api/ack", { stream: p.stream, seq: p.seq });
    status(t("ack_sent") + " " + p.event.ticket);
  } catch (e) { status(e.message, true); }
  openCard(p.event.ticket);
});

// ---- views
function show(v) {
  S.view = v;
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === v));
  document.querySelectorAll(".view").forEach((s) => s.classList.toggle("active", s.id === "view-" + v));
  if (v === "stats") loadStats();
  if (v === "stats" || v === "desk") { S.card = null; $("card").hidden = true; }
  render();
}
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
function render() {
  if (!S.me) return;
  if (S.view === "map") drawMap();
  if (S.view === "cases") drawCases();
  if (S.view === "board") drawBoard();
  if (S.view === "desk") drawDesk();
  if (S.card) drawCard();
}

// ---- the map: the street's places from their boundaries
function rings(geo) {
  try {
    const g = typeof geo === "string" ? JSON.parse(geo) : geo;
    if (g.type === "Polygon") return [g.coordinates[0]];
    if (g.type === "MultiPolygon") return g.coordinates.map((p) => p[0]);
  } catch (e) { /* no boundary */ }
  return [];
}
function gridOf(code) {
  for (let c = code; c; c = (S.nodes.get(c) || {}).parent) {
    const n = S.nodes.get(c);
    if (n && n.kind === "grid") return c;
  }
  return null;
}
function centroid(rs) {
  let x = 0, y = 0, n = 0;
  for (const r of rs) for (const [a, b] of r) { x += a; y += b; n++; }
  return n ? [x / n, y / n] : null;
}
function hash(s) {
  let h = 2166136261; // FNV-1a, then a final mix: neighbouring tickets land apart
  for (const ch of s) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  h ^= h >>> 15; h = Math.imul(h, 2246822507); h ^= h >>> 13;
  return h >>> 0;
}
function drawMap() {
  const svg = $("map");
  svg.replaceChildren();
  const shapes = [];
  let minx = 180, miny = 90, maxx = -180, maxy = -90;
  for (const n of S.nodes.values()) {
    if (!n.boundary || !["street", "community", "grid"].includes(n.kind)) continue;
    const rs = rings(n.boundary);
    if (!rs.length) continue;
    shapes.push([n, rs]);
    if (n.kind === "grid" || n.kind === "street")
      for (const r of rs) for (const [x, y] of r) {
        minx = Math.min(minx, x); maxx = Math.max(maxx, x); miny = Math.min(miny, y); maxy = Math.max(maxy, y);
      }
  }
  if (!shapes.length) return;
  // Web Mercator, as map tiles are: world pixels at a zoom where the street
  // is about the view's width, then scaled to the view
  const W = 1000, pad = 10, TS = 256;
  const z = Math.max(0, Math.min(19, Math.floor(Math.log2((W * 360) / (TS * (maxx - minx))))));
  const mx = (lon) => ((lon + 180) / 360) * TS * 2 ** z;
  const my = (lat) => {
    const sn = Math.sin((lat * Math.PI) / 180);
    return (0.5 - Math.log((1 + sn) / (1 - sn)) / (4 * Math.PI)) * TS * 2 ** z;
  };
  const X0 = mx(minx), Y0 = my(maxy), sc = (W - 2 * pad) / (mx(maxx) - X0);
  const H = (my(miny) - Y0) * sc + 2 * pad;
  const px = (x) => pad + (mx(x) - X0) * sc, py = (y) => pad + (my(y) - Y0) * sc;
  svg.setAttribute("viewBox", `0 0 ${W} ${H.toFixed(0)}`);
  // the city's own map server under the boundaries, when configured
  const tiles = S.me.tile_url;
  svg.classList.toggle("tiled", !!tiles);
  if (tiles) {
    const tx0 = Math.floor((X0 - pad / sc) / TS), tx1 = Math.floor((X0 + (W - pad) / sc) / TS);
    const ty0 = Math.floor((Y0 - pad / sc) / TS), ty1 = Math.floor((Y0 + (H - pad) / sc) / TS);
    for (let tx = tx0; tx <= tx1; tx++)
      for (let ty = ty0; ty <= ty1; ty++) {
        const href = tiles.replace("{z}", z).replace("{x}", tx).replace("{y}", ty);
        svg.append(sv("image", { href, class: "tile", x: (pad + (tx * TS - X0) * sc).toFixed(2),
          y: (pad + (ty * TS - Y0) * sc).toFixed(2), width: (TS * sc).toFixed(2), height: (TS * sc).toFixed(2) }));
      }
  }
  const open = new Map();
  for (const e of S.events.values())
    if (!["closed", "rejected"].includes(e.state)) { const g = gridOf(e.node); if (g) open.set(g, (open.get(g) || 0) + 1); }
  const maxOpen = Math.max(1, ...open.values());
  const heat = $("heat").checked;
  const order = { grid: 0, community: 1, street: 2 }; // outlines over the grids' fill
  shapes.sort((a, b) => order[a[0].kind] - order[b[0].kind]);
  const centers = new Map();
  for (const [n, rs] of shapes) {
    const d = rs.map((r) => "M" + r.map(([x, y]) => px(x).toFixed(1) + "," + py(y).toFixed(1)).join("L") + "Z").join("");
    const p = sv("path", { d, class: "area " + n.kind, "data-code": n.code });
    if (n.kind === "grid") {
      const c = open.get(n.code) || 0;
      if (heat && c) p.style.fill = `rgba(229,57,53,${(0.15 + 0.7 * c / maxOpen).toFixed(2)})`;
      const title = sv("title");
      title.textContent = name(n) + (c ? " · " + c : "");
      p.append(title);
      const xs = rs.flat().map((q) => q[0]), ys = rs.flat().map((q) => q[1]);
      centers.set(n.code, [...centroid(rs), Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys)]);
    }
    svg.append(p);
  }
  for (const [n, rs] of shapes) {
    if (n.kind !== "grid") continue;
    const [cx, cy] = centroid(rs);
    const lb = sv("text", { x: px(cx), y: py(cy) - 14, class: "label" });
    lb.textContent = name(n) + (heat && open.get(n.code) ? " (" + open.get(n.code) + ")" : "");
    svg.append(lb);
  }
  for (const e of S.events.values()) {
    let x, y;
    if (e.has_location) { x = e.lon; y = e.lat; } else {
      const c = centers.get(gridOf(e.node));
      if (!c) continue;
      const h = hash(e.ticket);
      // a case placed by its grid only: near the grid's centre, spread by ticket
      x = c[0] + ((h & 0xff) / 255 - 0.5) * c[2] * 0.7;
      y = c[1] + (((h >>> 8) & 0xff) / 255 - 0.5) * c[3] * 0.7;
    }
    const m = sv("circle", { cx: px(x), cy: py(y), r: e.priority === "urgent" ? 10 : 7,
      class: "marker" + (e.priority === "urgent" || e.priority === "high" ? " urgent" : "") +
        (S.fresh.has(e.ticket) ? " fresh" : ""),
      fill: (STATES[e.state] || ["", "", "#fff"])[2], "data-ticket": e.ticket, "data-state": e.state });
    const title = sv("title");
    title.textContent = e.ticket + " · " + stateWord(e.state) + " · " + catName(e.category);
    m.append(title);
    m.addEventListener("click", () => openCard(e.ticket));
    svg.append(m);
  }
  S.fresh.clear();
  const lg = $("legend");
  lg.replaceChildren(...Object.keys(STATES).map((s) => {
    const i = el("i"); i.style.background = STATES[s][2];
    return el("span", {}, i, stateWord(s));
  }));
}
$("heat").addEventListener("change", () => drawMap());

// ---- the case list
function fillFilters() {
  const opt = (v, label) => el("option", { value: v }, label);
  $("f-state").replaceChildren(opt("", t("any_state")), ...Object.keys(STATES).map((s) => opt(s, stateWord(s))));
  $("f-category").replaceChildren(opt("", t("any_category")),
    ...[...S.cats.values()].filter((c) => c.code.length === 4).map((c) => opt(c.code, c.code + " " + name(c))));
  $("f-grid").replaceChildren(opt("", t("any_grid")),
    ...[...S.nodes.values()].filter((n) => n.kind === "grid").map((n) => opt(n.code, name(n))));
  $("s-by").replaceChildren(opt("department", t("by_department")), opt("community", t("by_community")),
    opt("grid", t("by_grid")));
  $("s-period").replaceChildren(opt("month", t("month")), opt("week", t("week")), opt("day", t("day")));
}
let listFilter = null;
$("filters").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = {};
  if ($("f-state").value) f.state = $("f-state").value;
  if ($("f-category").value) f.category = $("f-category").value;
  if ($("f-grid").value) f.node = $("f-grid").value;
  if ($("f-from").value) f.created_from_ms = new Date($("f-from").value).getTime();
  if ($("f-text").value) f.text = $("f-text").value;
  f.limit = 500;
  f.newest_first = true;
  try {
    const j = await call("list_events", f);
    j.events.events.forEach(putEvent);
    listFilter = f;
    drawCases();
  } catch (e) { status(e.message, true); }
});
function matches(e, f) {
  if (!f) return true;
  if (f.state && e.state !== f.state) return false;
  if (f.category && !e.category.startsWith(f.category)) return false;
  if (f.node && !e.node.startsWith(f.node)) return false;
  if (f.created_from_ms && e.created_ms < f.created_from_ms) return false;
  if (f.text && !(e.description || "").toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}
// ---- photos: read through the gateway as the person's principal, so
// whistled shows only those of the cases they may read
function photoStage(p) { return String(p.stage || "").toLowerCase().replace(/^photo_stage_/, ""); }
function photoThumb(p, cls) {
  return el("img", { src: "/web/api/photo/" + p.id + "/thumb", alt: t("stage_" + photoStage(p)) || "",
    class: cls || "thumb", loading: "lazy", "data-photo": p.id, "data-stage": photoStage(p) });
}
// before (the report's photos) and after (the departments' feedback and the
// verification) side by side; a thumbnail opens the whole photo
function photoPanel(e) {
  const ps = e.photos || [];
  if (!ps.length) return null;
  const fig = (p) => el("figure", {},
    el("a", { href: "/web/api/photo/" + p.id, target: "_blank", rel: "noopener" }, photoThumb(p, "photo")),
    el("figcaption", {}, t("stage_" + photoStage(p)) + " · " + when(p.taken_ms || p.at_ms) +
      (p.by ? " · " + p.by : "")));
  const before = ps.filter((p) => photoStage(p) === "report"), after = ps.filter((p) => photoStage(p) !== "report");
  const side = (key, list, cls) => el("div", { class: "photo-side " + cls }, el("h4", {}, t(key)),
    list.length ? list.map(fig) : el("p", { class: "none" }, t("no_photo")));
  return [el("h3", {}, t("photos") + " (" + ps.length + ")"),
    el("div", { class: "before-after" }, side("before", before, "before"), side("after", after, "after"))];
}
// a listed case with photos but none read yet: read it (a few at a time)
// for its thumbnail
const photoWanted = new Set();
let photoReading = 0;
function wantPhotos(rows) {
  for (const e of rows) {
    if (photoReading >= 4) return;
    // by count too: a case that gained a photo is read again
    const k = e.ticket + ":" + e.photo_count;
    if (!e.photo_count || (e.photos && e.photos.length) || photoWanted.has(k)) continue;
    photoWanted.add(k);
    photoReading++;
    call("get_event", { ticket: e.ticket }).then((j) => { putEvent(j.event); }).catch(() => null)
      .finally(() => { photoReading--; scheduleRender(); });
  }
}
function drawCases() {
  const rows = [...S.events.values()].filter((e) => matches(e, listFilter))
    .sort((a, b) => b.created_ms - a.created_ms);
  wantPhotos(rows.slice(0, 100));
  $("case-rows").replaceChildren(...rows.map((e) => {
    const pill = el("span", { class: "pill" }, stateWord(e.state));
    pill.style.background = (STATES[e.state] || ["", "", "#fff"])[2];
    const ps = e.photos || [], n = e.photo_count || ps.length;
    return el("tr", { "data-ticket": e.ticket, onclick: () => openCard(e.ticket) },
      el("td", {}, e.ticket), el("td", {}, pill), el("td", {}, catName(e.category)), el("td", {}, nodeName(e.node)),
      el("td", {}, e.description), el("td", { class: "photos" }, ps.length ? photoThumb(ps[0]) : null,
        n > 1 || (n && !ps.length) ? el("span", { class: "count" }, "×" + n) : null),
      el("td", {}, when(e.created_ms)), el("td", {}, when(e.due_ms)));
  }));
}

// ---- countdowns: green, amber in the last quarter (or hour), red past
function countdown(o) {
  if (o.state === "done" || o.state === "returned") return { cls: "none", text: orderWord(o.state), key: Infinity };
  const checking = o.state === "pending";
  const due = checking ? o.check_in_due_ms : o.resolve_due_ms;
  if (!due) return { cls: "none", text: "—", key: Infinity };
  const left = due - Date.now();
  const span = Math.max(1, due - (checking ? o.created_ms : o.checked_in_ms || o.created_ms));
  const a = Math.abs(left), h = Math.floor(a / 3600000), m = Math.floor((a % 3600000) / 60000),
    s = Math.floor((a % 60000) / 1000);
  const hms = (h ? h + ":" : "") + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
  const cls = left < 0 ? "red" : left < Math.min(3600000, span / 4) || left < span / 4 ? "amber" : "green";
  return { cls, key: left,
    text: left < 0 ? t("overdue") + " " + hms : (checking ? t("checkin_in") : t("resolve_in")) + " " + hms };
}
function orderRows() {
  return [...S.orders.values()].sort((a, b) => countdown(a).key - countdown(b).key);
}
function drawBoard() {
  $("order-rows").replaceChildren(...orderRows().map((o) => {
    const c = countdown(o);
    const ext = o.extension && o.extension.state === "pending" && role() === "operator" ?
      el("span", {}, el("button", { onclick: (ev) => { ev.stopPropagation();
        act(t("approve"), "decide_extension", { order_id: o.id, approve: true }); } }, t("approve")), " ",
      el("button", { class: "danger", onclick: (ev) => { ev.stopPropagation();
        act(t("refuse"), "decide_extension", { order_id: o.id, approve: false }); } }, t("refuse"))) : null;
    return el("tr", { "data-order": o.id, onclick: () => openCard(o.ticket) },
      el("td", {}, "#" + o.id + (o.lead ? " ★" : "")), el("td", {}, o.ticket), el("td", {}, deptName(o.department)),
      el("td", { class: "ostate" }, orderWord(o.state)), el("td", {}, o.description),
      el("td", {}, el("span", { class: "cd " + c.cls }, c.text)), el("td", {}, ext));
  }));
}
// every second: the countdowns move in place (no list is rebuilt)
function tick() {
  if (!S.me) return;
  document.querySelectorAll("#order-rows tr, .desk .order, #card-body li[data-order]").forEach((d) => {
    const o = S.orders.get(Number(d.dataset.order));
    const cd = d.querySelector(".cd");
    if (!o || !cd) return;
    const c = countdown(o);
    if (d.classList.contains("order")) d.className = "order " + c.cls;
    cd.className = "cd " + c.cls;
    cd.textContent = c.text;
  });
}
setInterval(tick, 1000);

// ---- the department's desk
function drawDesk() {
  const me = S.me.who;
  $("desk-title").textContent = me.department ? t("desk_of") + deptName(me.department) : t("not_department");
  const mine = orderRows().filter((o) => !me.department || o.department === me.department);
  if (!mine.length) { $("desk-cards").replaceChildren(el("p", {}, t("no_orders"))); return; }
  $("desk-cards").replaceChildren(...mine.map((o) => {
    const c = countdown(o);
    // what is typed survives the redraw a push brings
    const note = el("textarea", { rows: 2, placeholder: t("note"), class: "desk-note",
      oninput: (ev) => S.notes.set(o.id, ev.target.value) });
    note.value = S.notes.get(o.id) || "";
    const acts = [];
    if (me.role === "department" && o.state === "pending")
      acts.push(el("button", { class: "do-check-in",
        onclick: () => act(t("check_in"), "check_in", { order_id: o.id, note: note.value })
          .then((j) => j && S.notes.delete(o.id)) }, t("check_in")));
    if (me.role === "department" && o.state === "checked_in")
      acts.push(el("button", { class: "do-feedback",
        onclick: () => actWithPhotos(t("feedback"), "feedback", { order_id: o.id, text: note.value || t("done") },
          "o:" + o.id).then((j) => j && S.notes.delete(o.id)) },
      t("feedback")), photoPicker("o:" + o.id));
    // the case's photos: what the department is sent to fix, and its own
    // feedback's once given
    const ev = S.events.get(o.ticket);
    if (ev) wantPhotos([ev]);
    const ps = ev && ev.photos ? ev.photos : [];
    const thumbs = ps.length ? el("div", { class: "desk-photos" }, ps.map((p) => el("a", {
      href: "/web/api/photo/" + p.id, target: "_blank", rel: "noopener" }, photoThumb(p)))) : null;
    return el("div", { class: "order " + c.cls, "data-order": o.id },
      el("h3", {}, "#" + o.id + " · " + o.ticket + " · " + catName(o.category)),
      el("div", {}, nodeName(o.node), " · ", orderWord(o.state), o.lead ? " · " + t("lead") : ""),
      el("p", {}, o.description), thumbs,
      el("span", { class: "cd " + c.cls }, c.text),
      acts.length ? note : null, el("div", { class: "actions" }, acts));
  }));
}

// ---- the case card
async function openCard(ticket) {
  S.card = ticket;
  $("card").hidden = false;
  drawCard();
  await refreshCase(ticket);
  drawCard();
}
$("card-close").addEventListener("click", () => { S.card = null; $("card").hidden = true; });
function caseActions(e) {
  const r = role(), out = [];
  if (r !== "operator" && r !== "admin") return out;
  const note = el("input", { type: "text", placeholder: t("note") + " / " + t("reason"), class: "act-note",
    oninput: (ev) => S.notes.set(e.ticket, ev.target.value) });
  note.value = S.notes.get(e.ticket) || "";
  const b = (key, callName, body, cls) => el("button", { class: "do-" + key + (cls ? " " + cls : ""),
    onclick: () => act(t(key), callName, Object.assign({ ticket: e.ticket }, body(note.value)))
      .then((j) => j && S.notes.delete(e.ticket)) }, t(key));
  if (e.state === "reported") {
    out.push(b("file", "file", (n) => ({ note: n })));
    out.push(b("reject", "reject", (n) => ({ reason: n || "-" }), "danger"));
  }
  if (e.state === "filed") {
    out.push(b("assign", "assign", (n) => ({ assignee: n, note: "" })));
    out.push(el("button", { class: "do-whistle", onclick: () => whistleForm(e) }, t("whistle")));
  }
  if (e.state === "resolved") {
    // the check on the spot may bring its photos (after)
    const v = (key, pass, cls) => el("button", { class: "do-" + key + (cls ? " " + cls : ""),
      onclick: () => actWithPhotos(t(key), "verify", { ticket: e.ticket, pass, note: note.value || (pass ? "" : "-") },
        "v:" + e.ticket).then((j) => j && S.notes.delete(e.ticket)) }, t(key));
    out.push(v("verify_pass", true), v("verify_fail", false, "danger"), photoPicker("v:" + e.ticket));
  }
  if (e.state === "verified") out.push(b("close", "close", (n) => ({ note: n })));
  return out.length ? [note, el("div", { class: "actions" }, out)] : [];
}
async function whistleForm(e) {
  const box = $("whistle-form");
  if (box) box.remove();
  let prop = null;
  try { prop = (await call("propose_departments", { ticket: e.ticket })).proposal; } catch (x) { status(x.message, true); }
  const depts = prop ? prop.departments : [];
  const checks = [...S.depts.values()].map((d) => el("label", {},
    el("input", { type: "checkbox", value: d.code, checked: depts.includes(d.code) ? "checked" : null }), " ", name(d)));
  const kind = el("select", { class: "w-kind" }, ...["routine", "tackle", "emergency"].map((k) =>
    el("option", { value: k }, t(k === "emergency" ? "emergency_k" : k))));
  const form = el("fieldset", { id: "whistle-form" }, el("legend", {}, t("whistle")), ...checks, el("br"),
    t("kind"), " ", kind, " ",
    el("button", { class: "do-whistle-send", onclick: () => {
      const ds = [...form.querySelectorAll("input:checked")].map((i) => i.value);
      act(t("whistle"), "whistle", { ticket: e.ticket, departments: ds, lead: prop && ds.includes(prop.lead) ? prop.lead : "",
        kind: kind.value });
    } }, t("send")));
  $("card-body").append(form);
}
function drawCard() {
  const e = S.events.get(S.card);
  if (!e) return;
  if ($("whistle-form") && e.state === "filed") return; // keep the open form
  const pill = el("span", { class: "pill" }, stateWord(e.state));
  pill.style.background = (STATES[e.state] || ["", "", "#fff"])[2];
  const orders = [...S.orders.values()].filter((o) => o.ticket === e.ticket);
  $("card-body").replaceChildren(
    el("h2", {}, e.ticket, " ", pill),
    el("dl", {},
      el("dt", {}, t("category")), el("dd", {}, catName(e.category)),
      el("dt", {}, t("place")), el("dd", {}, nodeName(e.node)),
      el("dt", {}, t("priority")), el("dd", {}, (PRIORITIES[e.priority] || [e.priority, e.priority])[lang === "zh" ? 0 : 1]),
      el("dt", {}, t("description")), el("dd", {}, e.description),
      el("dt", {}, t("reported_at")), el("dd", {}, when(e.created_ms)),
      el("dt", {}, t("due")), el("dd", {}, when(e.due_ms))),
    ...caseActions(e),
    ...(photoPanel(e) || []),
    orders.length ? el("ul", {}, orders.map((o) => el("li", { "data-order": o.id }, "#" + o.id + " " + deptName(o.department) + " · " +
      orderWord(o.state) + " · ", el("span", { class: "cd " + countdown(o).cls }, countdown(o).text)))) : null,
    el("h3", {}, t("timeline")),
    el("ol", {}, (e.timeline || []).map((x) => el("li", {}, when(x.at_ms) + " · " + x.actor + " · " + x.action +
      (x.department ? " · " + deptName(x.department) : "") + (x.note ? " · " + x.note : "")))));
}

// ---- statistics and supervision
async function loadStats() {
  const by = $("s-by").value || "department", period = $("s-period").value || "month";
  try {
    const j = await call("get_stats", { by, period, totals: true });
    const rows = j.stats.rows.filter((r) => r.bucket === "total");
    const charts = ["response_rate", "resolution_rate", "satisfaction_rate", "on_time_close_rate", "rework_rate"]
      .map((k) => chart(t(k), rows, (r) => r[k], true, k === "rework_rate"));
    charts.push(chart(t("overdue_n"), rows, (r) => r.overdue, false, true));
    // the trend over the buckets, all codes summed
    $("charts").replaceChildren(...charts, trend(j.stats.rows.filter((r) => r.bucket !== "total")));
  } catch (e) { status(e.message, true); }
  try {
    const s = await call("list_supervisions", { limit: 100 });
    $("sup-rows").replaceChildren(...s.supervisions.supervisions.map((x) => el("tr",
      { onclick: () => openCard(x.ticket) }, el("td", {}, x.id), el("td", {}, x.ticket),
      el("td", {}, deptName(x.department)), el("td", {}, x.level), el("td", {}, when(x.opened_ms)),
      el("td", {}, x.open ? t("open") : t("closed_s")))));
  } catch (e) { status(e.message, true); }
}
$("stats-form").addEventListener("submit", (ev) => { ev.preventDefault(); loadStats(); });
function rowName(r) {
  return r.by === "department" ? deptName(r.code) : S.nodes.has(r.code) ? nodeName(r.code) : r.name || r.code;
}
function chart(title, rows, val, rate, bad) {
  const W = 400, bh = 18, gap = 6, left = 120, H = Math.max(1, rows.length) * (bh + gap) + 10;
  const svg = sv("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const max = rate ? 1 : Math.max(1, ...rows.map(val));
  rows.forEach((r, i) => {
    const v = val(r) || 0, y = 5 + i * (bh + gap), w = ((W - left - 60) * v) / max;
    const lb = sv("text", { x: left - 6, y: y + 13, "text-anchor": "end" });
    lb.textContent = rowName(r);
    const bar = sv("rect", { x: left, y, width: Math.max(1, w), height: bh, class: "bar" + (bad ? " bad" : "") });
    const vt = sv("text", { x: left + w + 4, y: y + 13 });
    vt.textContent = rate ? (v * 100).toFixed(1) + "%" : v;
    svg.append(lb, bar, vt);
  });
  return el("div", { class: "chart" }, el("h3", {}, title), svg);
}
function trend(rows) {
  const by = new Map();
  for (const r of rows) by.set(r.bucket, (by.get(r.bucket) || 0) + (r.orders || r.reported || 0));
  const ks = [...by.keys()].sort(), W = 400, H = 160, max = Math.max(1, ...by.values());
  const svg = sv("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
  const bw = ks.length ? (W - 20) / ks.length : 0;
  ks.forEach((k, i) => {
    const v = by.get(k), h = ((H - 30) * v) / max;
    svg.append(sv("rect", { x: 10 + i * bw + 2, y: H - 20 - h, width: Math.max(1, bw - 4), height: h, class: "bar" }));
    const tx = sv("text", { x: 10 + i * bw + bw / 2, y: H - 6, "text-anchor": "middle" });
    tx.textContent = k;
    svg.append(tx);
  });
  return el("div", { class: "chart" }, el("h3", {}, t("trend") + " · " + t($("s-period").value || "month")), svg);
}

// ---- language
function applyLang() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
  document.querySelectorAll("[data-tp]").forEach((e) => { e.placeholder = t(e.dataset.tp); });
  document.querySelectorAll(".lang-switch").forEach((b) => { b.textContent = lang === "zh" ? "English" : "中文"; });
  setLive(!!S.live);
  if (S.me) { fillFilters(); render(); if (S.view === "stats") loadStats(); }
}
document.querySelectorAll(".lang-switch").forEach((b) => b.addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh";
  localStorage.setItem("whistle.lang", lang);
  applyLang();
}));

// ---- start: a session still open goes straight in
(async () => {
  applyLang();
  try { await start(await http("GET", "/web/api/session")); } catch (e) { showLogin(); }
})();
