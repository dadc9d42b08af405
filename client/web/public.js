// The public echo board (docs/web.md): a place's notices, read through the
// gateway as its public principal; no login, no cookie, nothing but the
// gateway asked.
"use strict";
const PW = {
  zh: { title: "民情回音栏", none: "暂无公告", reply: "回音", decision: "议事结果", work_update: "工作动态",
    unspecified: "公告", case: "案件", posted: "发布", offline: "暂时无法读取，请稍后再试" },
  en: { title: "Echo board", none: "No notices", reply: "Reply", decision: "Decision", work_update: "Work update",
    unspecified: "Notice", case: "Case", posted: "Posted", offline: "Cannot be read now; try again later" },
};
let plang = localStorage.getItem("whistle.lang") || ((navigator.language || "").startsWith("zh") ? "zh" : "en");
const pt = (k) => PW[plang][k] || k;
const node = new URLSearchParams(location.search).get("node") || "";
let places = new Map(), notices = [];

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
function draw() {
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
    if (!b.board) throw new Error(b.message);
    notices = b.board.notices.filter((n) => !n.withdrawn);
    draw();
  } catch (e) {
    document.getElementById("p-status").textContent = pt("offline");
    draw();
  }
})();
