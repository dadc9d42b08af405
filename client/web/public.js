// The public echo board (docs/web.md): a place's notices, read through the
// gateway as its public principal; no login, no cookie, nothing but the
// gateway asked.
"use strict";
const PW = {
  zh: { title: "民情回音栏", none: "暂无公告", reply: "回音", decision: "议事结果", work_update: "工作动态",
    unspecified: "公告", case: "案件", posted: "发布", offline: "暂时无法读取，请稍后再试",
    stats: "本社区办件情况", month: "月份", reported: "上报", closed: "办结", on_time_close_rate: "按时办结率",
    satisfaction_rate: "满意率", rated: "评价", stats_note: "仅统计数字，不含任何个人信息" },
  en: { title: "Echo board", none: "No notices", reply: "Reply", decision: "Decision", work_update: "Work update",
    unspecified: "Notice", case: "Case", posted: "Posted", offline: "Cannot be read now; try again later",
    stats: "Cases in this community", month: "Month", reported: "Reported", closed: "Closed",
    on_time_close_rate: "Closed on time", satisfaction_rate: "Satisfied", rated: "Rated",
    stats_note: "Counts and rates only; no personal data" },
};
let plang = localStorage.getItem("whistle.lang") || ((navigator.language || "").startsWith("zh") ? "zh" : "en");
const pt = (k) => PW[plang][k] || k;
const node = new URLSearchParams(location.search).get("node") || "";
let places = new Map(), notices = [], stats = null;

function pel(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function placeName(code) {
  const n = places.get(code);
  return n ? (plang === "zh" ? n.name_zh : n.name_en) || n.name_zh : code;
}
// a rate as a percentage; none measured: a dash
const pct = (v) => (v === null || v === undefined ? "—" : Math.round(v * 1000) / 10 + "%");
function drawStats() {
  const box = document.getElementById("p-stats");
  if (!stats || !stats.months.length) { box.hidden = true; return; }
  box.hidden = false;
  const cols = ["reported", "closed", "on_time_close_rate", "rated", "satisfaction_rate"];
  const table = pel("table", "list");
  const head = pel("tr");
  head.append(pel("th", "", pt("month")), ...cols.map((k) => pel("th", "", pt(k))));
  table.append(head);
  for (const m of stats.months) {
    const tr = pel("tr");
    tr.dataset.month = m.month;
    tr.append(pel("td", "", m.month));
    for (const k of cols) {
      const td = pel("td", "", k.endsWith("_rate") ? pct(m[k]) : String(m[k]));
      td.dataset.k = k;
      tr.append(td);
    }
    table.append(tr);
  }
  box.replaceChildren(pel("h2", "", pt("stats")), table, pel("p", "who", pt("stats_note")));
}
function draw() {
  drawStats();
  document.documentElement.lang = plang === "zh" ? "zh-CN" : "en";
  document.title = pt("title");
  document.getElementById("p-title").textContent = pt("title");
  document.getElementById("p-place").textContent = node ? placeName(node) : "";
  document.getElementById("p-lang").textContent = plang === "zh" ? "English" : "中文";
  const box = document.getElementById("p-notices");
  if (!notices.length) { box.replaceChildren(pel("p", "", pt("none"))); return; }
  box.replaceChildren(...notices.map((n) => {
    const d = pel("div", "order notice");
    d.dataset.notice = n.id;
    d.append(pel("h3", "", n.title), pel("div", "", pt(n.kind) + " · " + placeName(n.node) +
      (n.ticket ? " · " + pt("case") + " " + n.ticket : "")), pel("p", "", n.body),
      pel("div", "who", pt("posted") + " " + new Date(n.posted_ms).toLocaleString(plang === "zh" ? "zh-CN" : "en-GB",
        { hour12: false })));
    return d;
  }));
}
document.getElementById("p-lang").addEventListener("click", () => {
  plang = plang === "zh" ? "en" : "zh";
  localStorage.setItem("whistle.lang", plang);
  draw();
});
(async () => {
  try {
    const [p, b] = await Promise.all([fetch("/web/api/public/places").then((r) => r.json()),
      fetch("/web/api/public/board?node=" + encodeURIComponent(node)).then((r) => r.json())]);
    if (p.nodes) places = new Map(p.nodes.nodes.map((n) => [n.code, n]));
    // the statistics are optional: a gateway without web.public_stats_as,
    // or a place that is not a community, shows the board alone
    fetch("/web/api/public/stats?node=" + encodeURIComponent(node)).then((r) => r.json())
      .then((s) => { if (s.stats) { stats = s.stats; draw(); } }).catch(() => {});
    if (!b.board) throw new Error(b.message);
    notices = b.board.notices.filter((n) => !n.withdrawn);
    draw();
  } catch (e) {
    document.getElementById("p-status").textContent = pt("offline");
    draw();
  }
})();
