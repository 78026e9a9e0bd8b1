// Auto-publish: the settings card (each source's rule in the current event) and the countdown on a
// buffer tile in its grace window. The ✕ on the countdown rejects the photo, which cancels it.
import { $, $$, api, el, toast } from "./dom.js";
import { isOwner, state } from "./state.js";
import { updateTile } from "./buffer.js";

const MODES = { off: "Off", all: "All, after a countdown", rated: "Only rated ≥ N ★", protected: "Only protected" };
const UNIT = { all: "seconds to reject", rated: "stars or more" };
const DEFAULT = { all: 30, rated: 3, protected: 0, off: 0 };

let waiting = new Map(); // photo id -> due time (server clock, seconds)
let skew = 0; // server clock - this device's clock, seconds

function ruleForm(src) {
  const select = el("select", { name: "mode", "aria-label": `Rule for ${src.label}` },
    ...src.modes.map((m) => el("option", { value: m, selected: m === src.mode }, MODES[m])));
  const value = el("input", { name: "value", type: "number", inputmode: "numeric", min: src.mode === "rated" ? 1 : 0,
    max: src.mode === "rated" ? 5 : 86400, value: src.value, "aria-label": "N" });
  const unit = el("span", { class: "ap-unit" });
  const field = el("label", { class: "ap-value" }, value, unit);
  const sync = () => {
    const m = select.value;
    field.hidden = !(m in UNIT);
    unit.textContent = UNIT[m] || "";
    value.min = m === "rated" ? 1 : 0; value.max = m === "rated" ? 5 : 86400;
  };
  select.addEventListener("change", () => { value.value = select.value === src.mode ? src.value : DEFAULT[select.value]; sync(); });
  sync();
  const form = el("form", { class: "ap-rule", "data-kind": src.kind, "data-name": src.name },
    el("div", { class: "ap-head" }, el("strong", {}, src.label),
      el("span", { class: "ap-state" + (src.mode === "off" ? "" : " on") }, src.mode === "off" ? "off" : "on")),
    select, field, el("button", { type: "submit" }, "Save"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { kind: src.kind, name: src.name, mode: select.value, value: Number(value.value || 0) };
      render(await api("/api/autopublish", { method: "PUT", body }));
      toast(select.value === "off" ? `Auto-publish off for ${src.label}` : `Auto-publish set for ${src.label} — new photos from now on`);
    } catch (e) { toast(e.message, { error: true }); }
  });
  return form;
}

function render(data) {
  $("#ap-sources").replaceChildren(...data.sources.map(ruleForm));
}

export async function loadRules() {
  if (!isOwner()) return;
  try { render(await api("/api/autopublish")); } catch (e) { toast(e.message, { error: true }); }
}

export async function loadWaiting() {
  try {
    const data = await api("/api/autopublish/waiting");
    skew = data.now - Date.now() / 1000;
    waiting = new Map(data.photos.map((p) => [p.id, p.due_at]));
    paint();
  } catch { /* the status bar reports a server that does not answer */ }
}

function clock(s) {
  return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` : `${s} s`;
}

async function rejectTile(id, index) {
  try {
    await api("/api/reject", { body: { id } });
    waiting.delete(id);
    const p = state.photos[index];
    if (p) { p.rejected = true; updateTile(index); }
    paint();
    toast("Rejected — it will not be auto-published");
  } catch (e) { toast(e.message, { error: true }); }
}

function countdown(tile, id) {
  let node = $(".ap-count", tile);
  if (!node) {
    const stop = el("span", { class: "ap-stop", role: "button", "aria-label": "Reject: do not auto-publish", title: "Reject" }, "✕");
    stop.addEventListener("click", (ev) => { ev.stopPropagation(); ev.preventDefault(); rejectTile(id, Number(tile.dataset.index)); });
    node = el("span", { class: "ap-count" }, el("span", { class: "ap-time" }), stop);
    tile.append(node);
  }
  return node;
}

export function paint() {
  const now = Date.now() / 1000 + skew;
  for (const tile of $$("#grid .tile[data-id]")) {
    const id = Number(tile.dataset.id);
    const due = waiting.get(id);
    if (due === undefined || tile.classList.contains("rejected")) { $(".ap-count", tile)?.remove(); continue; }
    const left = Math.max(0, Math.ceil(due - now));
    const node = countdown(tile, id);
    $(".ap-time", node).textContent = left > 0 ? `Auto ${clock(left)}` : "Publishing…";
    node.setAttribute("aria-label", left > 0 ? `Auto-publishes in ${left} seconds` : "Auto-publishing now");
  }
}

setInterval(() => { if (!document.hidden && state.tab === "buffer") paint(); }, 1000);
setInterval(() => { if (!document.hidden && state.tab === "buffer") loadWaiting(); }, 3000);
window.addEventListener("hashchange", () => { if (location.hash === "#settings") loadRules(); });
if (location.hash === "#settings") loadRules();
loadWaiting();
