// The status panel's sync box: the uplink (online/offline, last contact with the bucket) and an
// inline SVG chart of the last hour, minute by minute: files uploaded (green) and failed attempts
// (red) as stacked bars, the upload queue as a blue line. Loaded while the panel is open.
import { $, api, el } from "./dom.js";
import { ago } from "./format.js";

// SVG's namespace as the HTML parser gives it (no URL in the code: test_admin_api checks assets for them).
const NS = (() => { const t = document.createElement("template"); t.innerHTML = "<svg></svg>"; return t.content.firstChild.namespaceURI; })();
const H = 96, TOP = 12, BOTTOM = 14;

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

// The chart for `series` ([{t, queued, uploaded, failed}], oldest first) drawn `width` px wide.
export function chart(series, width) {
  const w = Math.max(120, Math.round(width));
  const n = series.length || 1;
  const peak = Math.max(1, ...series.map((s) => Math.max(s.queued, s.uploaded + s.failed)));
  const plot = H - TOP - BOTTOM;
  const y = (v) => TOP + plot - (plot * v) / peak;
  const slot = w / n, bar = Math.max(1, slot - 1);
  const root = svg("svg", { class: "sync-chart", viewBox: `0 0 ${w} ${H}`, width: w, height: H, role: "img",
    "aria-label": "Uploads, failures and the queue over the last hour" });
  root.append(svg("line", { class: "grid-line", x1: 0, x2: w, y1: y(0) + 0.5, y2: y(0) + 0.5 }),
    svg("line", { class: "grid-line", x1: 0, x2: w, y1: TOP + 0.5, y2: TOP + 0.5 }));
  series.forEach((s, i) => {
    const x = i * slot;
    if (s.uploaded) root.append(svg("rect", { class: "up", x, width: bar, y: y(s.uploaded), height: y(0) - y(s.uploaded) }));
    if (s.failed) {
      const base = y(s.uploaded);
      root.append(svg("rect", { class: "fail", x, width: bar, y: base - (y(0) - y(s.failed)), height: y(0) - y(s.failed) }));
    }
  });
  const points = series.map((s, i) => `${(i * slot + slot / 2).toFixed(1)},${y(s.queued).toFixed(1)}`);
  if (series.some((s) => s.queued)) {
    root.append(svg("polygon", { class: "queue-area",
      points: `${(slot / 2).toFixed(1)},${y(0)} ${points.join(" ")} ${(w - slot / 2).toFixed(1)},${y(0)}` }));
    root.append(svg("polyline", { class: "queue", points: points.join(" ") }));
  }
  root.append(svg("text", { x: 2, y: 9 }, String(peak)),
    svg("text", { x: 2, y: H - 2 }, `${n} min ago`), svg("text", { x: w - 2, y: H - 2, "text-anchor": "end" }, "now"));
  return root;
}

function uplinkLine(u, now) {
  const since = (iso) => ago(iso, now);
  const state = u.online === null ? "Not synced yet" : u.online ? "Online" : "Offline — uploads wait";
  const contact = u.last_contact_at ? `last contact ${since(u.last_contact_at)}` : "no contact yet";
  return el("div", { class: "uplink" }, el("span", { class: "dot " + (u.online ? "on" : u.online === false ? "off" : ""),
    "aria-hidden": "true" }), el("span", {}, state), el("small", {}, contact));
}

function legend(d) {
  const t = d.totals;
  return el("div", { class: "sync-legend" },
    el("span", {}, el("i", { class: "k-up" }), `${t.uploaded} uploaded`),
    el("span", {}, el("i", { class: "k-fail" }), `${t.failed} failed attempt${t.failed === 1 ? "" : "s"}`),
    el("span", {}, el("i", { class: "k-queue" }), `${d.queue.jobs} queued now`));
}

export function renderSync(d) {
  const box = $("#st-sync");
  const width = box.clientWidth || 320;
  box.replaceChildren(uplinkLine(d.uplink, d.now * 1000), chart(d.series, width), legend(d));
}

let timer = 0, loading = false;
async function refresh() {
  clearTimeout(timer);
  if ($("#status-panel").hidden || loading) return;
  loading = true;
  try { renderSync(await api("/api/sync/history")); } catch { /* the status pill says "No connection" */ }
  finally { loading = false; }
  timer = setTimeout(refresh, document.hidden ? 15000 : 5000);
}

new MutationObserver(refresh).observe($("#status-panel"), { attributes: true, attributeFilter: ["hidden"] });
