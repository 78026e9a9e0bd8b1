// The batch bar while photos are selected: publish, unpublish, rate, pick, reject, unflag, the same
// edit (exposure/rotation) or delete (undo for 10 s). Publish, unpublish, edit and delete are ONE
// POST /api/batch each; a batch publish shows a progress bar (GET /api/batch/<id>) until every photo
// is live or failed, and names each failure.
import { $, api, confirmSheet, el, toast } from "./dom.js";
import { state } from "./state.js";
import { dropPhotos, loadBuffer, refreshCounts, refreshLoaded, renderGrid, updateTile } from "./buffer.js";
import { flagPhotos, ratePhotos } from "./culling.js";
import { closePanel, openPanel, segmented } from "./panel.js";
import { clearSelection, selectAll } from "./selection.js";
import { pollStatus } from "./status.js";

const POLL_MS = 1000;
const UNDO_MS = 10_000;
const plural = (n, word = "photo") => `${n} ${word}${n === 1 ? "" : "s"}`;
const selectedIds = () => [...state.sel];
const loaded = (ids) => { const set = new Set(ids); return state.photos.filter((p) => set.has(p.id)); };

function repaint(photos) {
  for (const p of photos) { const i = state.photos.indexOf(p); if (i >= 0) updateTile(i); }
}

// One batch request; the per-photo refusals come back in `results` ({id, ok, error}).
async function post(action, ids, value) {
  return api("/api/batch", { body: value === undefined ? { action, ids } : { action, ids, value } });
}

// " · 2 kept (published or publishing: unpublish it first)" for the photos a batch left alone.
function refusals(res, left) {
  const bad = (res.results || []).filter((r) => !r.ok);
  if (!bad.length) return "";
  const reasons = [...new Set(bad.map((r) => r.error || "refused"))].join("; ");
  return ` · ${bad.length} ${left} (${reasons})`;
}

// -- publish, with its progress bar ---------------------------------------------------------------

function progressBox() {
  let box = $("#batch-progress");
  if (!box) {
    box = el("section", { id: "batch-progress", class: "batch-progress", role: "status", "aria-label": "Batch progress" },
      el("div", { class: "bp-head" }, el("strong", { class: "bp-title" }),
        el("button", { type: "button", class: "icon", "aria-label": "Hide progress", onclick: () => { box.hidden = true; } }, "✕")),
      el("div", { class: "bp-bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": 0,
        "aria-label": "Publishing" }, el("i")),
      el("p", { class: "bp-text" }), el("ul", { class: "bp-failed" }));
    $("#grid").before(box); // in the buffer, above the grid: it sticks under the header while scrolling
  }
  box.hidden = false;
  return box;
}

function showProgress({ title, pct, text, failed = [], done = false }) {
  const box = progressBox();
  box.classList.toggle("done", done);
  box.classList.toggle("has-failed", failed.length > 0);
  $(".bp-title", box).textContent = title;
  $(".bp-bar", box).setAttribute("aria-valuenow", String(pct));
  $(".bp-bar i", box).style.width = pct + "%";
  $(".bp-text", box).textContent = text;
  $(".bp-failed", box).replaceChildren(...failed.map((f) => el("li", {}, el("b", {}, f.name || `Photo ${f.id}`), ` — ${f.error}`)));
}

// Rendered photos count 60 %, live ones (in the bucket) or failed ones 100 %.
export function publishPercent(b) {
  if (b.done) return 100;
  const c = b.counts || {};
  return b.total ? Math.min(99, Math.floor((100 * ((c.live || 0) + (c.failed || 0) + 0.6 * (c.published || 0))) / b.total)) : 0;
}

function progressText(b) {
  const c = b.counts || {};
  const parts = [c.live && `${c.live} live`, c.published && `${c.published} uploading`,
    (c.queued || c.processing) && `${(c.queued || 0) + (c.processing || 0)} rendering`, c.failed && `${c.failed} failed`];
  return parts.filter(Boolean).join(" · ") || "Starting…";
}

let shownBatch = null; // the progress box follows the newest publish batch
const POLL_RETRIES = 5;

async function follow(batchId, total, photos, misses = 0) {
  let b;
  try { b = await api(`/api/batch/${batchId}`); } catch (e) {
    if (batchId === shownBatch) {
      showProgress({ title: `Publishing ${plural(total)}`, pct: 0, text: misses < POLL_RETRIES
        ? `No answer from the box (${e.message}); trying again…` : `Lost track of the batch: ${e.message}. It goes on in the box.` });
    }
    if (misses < POLL_RETRIES) setTimeout(() => follow(batchId, total, photos, misses + 1), 3 * POLL_MS);
    return;
  }
  const pct = publishPercent(b);
  const failedIds = new Set((b.failed || []).map((f) => f.id));
  for (const p of photos) if (failedIds.has(p.id) && p.state !== "failed") { p.state = "failed"; repaint([p]); }
  if (!b.done) {
    if (batchId === shownBatch) {
      showProgress({ title: `Publishing ${plural(b.total)}`, pct, text: `${pct} % · ${progressText(b)}`, failed: b.failed || [] });
    }
    setTimeout(() => follow(batchId, total, photos), POLL_MS);
    return;
  }
  for (const p of photos) if (!failedIds.has(p.id)) Object.assign(p, { state: "published", live: true });
  repaint(photos);
  const n = b.failed?.length || 0;
  if (batchId === shownBatch) {
    showProgress({ title: n ? `Published ${b.total - n} of ${plural(b.total)}` : `Published ${plural(b.total)}`, pct: 100, done: true,
      text: n ? `100 % · ${n} failed — the reasons are below` : "100 % · all live in the gallery", failed: b.failed || [] });
  }
  pollStatus();
  refreshLoaded();
}

export async function publishSelected() {
  const ids = selectedIds();
  if (!ids.length) return;
  const photos = loaded(ids);
  const before = photos.map((p) => [p, { state: p.state, live: p.live, rejected: p.rejected, flag: p.flag }]);
  for (const p of photos) Object.assign(p, { state: "queued", live: false, rejected: false, flag: p.flag === "rejected" ? null : p.flag });
  repaint(photos);
  clearSelection();
  shownBatch = null; // an older batch still polling leaves the box to this one
  showProgress({ title: `Publishing ${plural(ids.length)}`, pct: 0, text: "Sending…" });
  try {
    const res = await post("publish", ids);
    const byId = new Map((res.results || []).map((r) => [r.id, r]));
    for (const p of photos) {
      const r = byId.get(p.id);
      if (r?.publication_id) p.publication_id = r.publication_id;
      if (r && !r.ok) Object.assign(p, before.find(([q]) => q === p)[1]);
    }
    repaint(photos);
    shownBatch = res.batch;
    follow(res.batch, res.total, photos);
  } catch (e) {
    for (const [p, old] of before) Object.assign(p, old);
    repaint(photos);
    showProgress({ title: `Nothing published`, pct: 0, done: true, text: `The box refused the batch: ${e.message}` });
  }
}

// -- unpublish, edit, delete ----------------------------------------------------------------------

// The bar says what it is doing (at once) and takes no second action until the box answers.
async function whileBusy(text, work) {
  const bar = $("#batch-bar");
  bar.classList.add("busy");
  bar.setAttribute("aria-busy", "true");
  $("#bb-count").textContent = text;
  try { return await work(); } finally {
    bar.classList.remove("busy");
    bar.removeAttribute("aria-busy");
    renderBar();
  }
}

export async function unpublishSelected() {
  const ids = selectedIds();
  if (!ids.length || !(await confirmSheet(`Unpublish ${plural(ids.length)}?`,
    "Guests stop seeing them within seconds. The originals stay in the buffer.", "Unpublish"))) return;
  const photos = loaded(ids);
  try {
    const res = await whileBusy(`Unpublishing ${plural(ids.length)}…`, () => post("unpublish", ids));
    const ok = new Set((res.results || []).filter((r) => r.ok).map((r) => r.id));
    for (const p of photos) if (ok.has(p.id)) Object.assign(p, { state: "unpublished", live: false });
    repaint(photos);
    clearSelection();
    toast(`Unpublished ${plural(ok.size)}${refusals(res, "left as they were")}`, { ms: 5000 });
    refreshCounts();
    pollStatus();
  } catch (e) { toast(`Could not unpublish: ${e.message}`, { error: true }); }
}

export async function deleteSelected() {
  const ids = selectedIds();
  if (!ids.length) return;
  const wanted = new Set(ids);
  const removed = state.photos.map((p, i) => [i, p]).filter(([, p]) => wanted.has(p.id));
  const putBack = (which) => {
    for (const [i, p] of which) state.photos.splice(Math.min(i, state.photos.length), 0, p);
    state.total += which.length;
    renderGrid();
  };
  state.total = Math.max(0, state.total - removed.length);
  clearSelection();
  dropPhotos(ids);
  try {
    const res = await post("delete", ids);
    const refused = new Set((res.results || []).filter((r) => !r.ok).map((r) => r.id));
    if (refused.size) putBack(removed.filter(([, p]) => refused.has(p.id)));
    const deleted = ids.length - refused.size;
    refreshCounts();
    if (deleted) toast(`Deleted ${plural(deleted)}${refusals(res, "kept")}`, { ms: UNDO_MS, action: { label: "Undo", run: () => undoDelete(res.batch) } });
    else toast(`Nothing deleted${refusals(res, "kept")}`, { error: true, ms: 6000 });
  } catch (e) {
    putBack(removed);
    toast(`Nothing deleted: ${e.message}`, { error: true });
  }
}

async function undoDelete(batchId) {
  try {
    const res = await api(`/api/batch/${batchId}/undo`, { body: {} });
    await loadBuffer(true);
    toast(`Restored ${plural(res.restored)}`);
  } catch (e) { toast(`Could not undo: ${e.message}`, { error: true }); }
}

function openEdit() {
  const edit = { exposure: 0, rotate: 0 };
  const ids = selectedIds();
  const label = el("output", {}, "0.0 EV");
  const range = el("input", { type: "range", min: -2, max: 2, step: 0.1, value: 0, "aria-label": "Exposure" });
  range.addEventListener("input", () => { edit.exposure = Number(range.value); label.textContent = `${edit.exposure > 0 ? "+" : ""}${edit.exposure.toFixed(1)} EV`; });
  const rotation = el("div");
  const renderRotation = () => rotation.replaceChildren(segmented("Rotation", [[0, "0°"], [90, "90°"], [180, "180°"], [270, "270°"]],
    edit.rotate, (v) => { edit.rotate = Number(v); renderRotation(); }));
  renderRotation();
  const apply = async () => {
    const value = {};
    if (edit.exposure) value.exposure = Math.round(edit.exposure * 100) / 100;
    if (edit.rotate) value.rotate = edit.rotate;
    closePanel();
    try {
      const res = await whileBusy(`Saving the edit on ${plural(ids.length)}…`, () => post("edit", ids, value));
      clearSelection();
      const saved = (res.results || []).filter((r) => r.ok).length;
      toast(`Edit saved on ${plural(saved)} — used when they are opened or published${refusals(res, "skipped")}`, { ms: 5000 });
    } catch (e) { toast(`Could not save the edit: ${e.message}`, { error: true }); }
  };
  openPanel({ title: `Edit ${plural(ids.length)}`, id: "batch-edit", body: el("div", { class: "fsheet" },
    el("fieldset", { class: "fgroup" }, el("legend", {}, "Exposure ", label), range),
    el("fieldset", { class: "fgroup" }, el("legend", {}, "Rotation"), rotation)),
  footer: [el("button", { type: "button", onclick: closePanel }, "Cancel"),
    el("button", { type: "button", class: "primary", "data-b": "apply-edit", onclick: apply }, `Apply to ${plural(ids.length)}`)] });
}

function openRate() {
  const ids = selectedIds();
  openPanel({ title: `Rate ${plural(ids.length)}`, id: "batch-rate", body: segmented("Rating",
    [[0, "None"], ...[1, 2, 3, 4, 5].map((n) => [n, "★".repeat(n)])], -1, (v) => { closePanel(); ratePhotos(ids, Number(v)); }) });
}

// -- the bar --------------------------------------------------------------------------------------

const ACTIONS = {
  clear: clearSelection, all: selectAll, publish: publishSelected, rate: openRate,
  pick: () => flagPhotos(selectedIds(), "picked"), reject: () => flagPhotos(selectedIds(), "rejected"),
  unflag: () => flagPhotos(selectedIds(), "none"), edit: openEdit, unpublish: unpublishSelected, delete: deleteSelected,
};

function buildBar() {
  const b = (action, text, cls = null, label = null) => el("button", { type: "button", class: cls, "data-b": action, "aria-label": label }, text);
  const bar = el("div", { id: "batch-bar", class: "batch-bar", role: "toolbar", "aria-label": "Selected photos", hidden: true },
    el("div", { class: "bb-head" }, b("clear", "✕", "icon", "Clear the selection (Esc)"), el("strong", { id: "bb-count" }),
      b("all", "Select all", "bb-all")),
    el("div", { class: "bb-actions" }, b("publish", "Publish", "primary"), b("rate", "★ Rate"), b("pick", "⚑ Pick"),
      b("reject", "✕ Reject"), b("edit", "Edit"), b("unflag", "Unflag"), b("unpublish", "Unpublish"), b("delete", "Delete", "danger")));
  bar.addEventListener("click", (e) => {
    const action = e.target.closest("[data-b]")?.dataset.b;
    if (action) ACTIONS[action]();
  });
  document.body.append(bar);
}

function renderBar() {
  const bar = $("#batch-bar");
  bar.hidden = !state.selecting;
  $("#bb-count").textContent = `${state.sel.size} selected`;
  const all = $("[data-b=all]", bar);
  all.textContent = `Select all ${state.total}`;
  all.hidden = state.sel.size >= state.total;
}

buildBar();
document.addEventListener("selection", renderBar);
