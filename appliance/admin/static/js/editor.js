// The photo editor: open/close, the adjust tools, the server-rendered preview, publish/reject/unpublish
// of the current photo and stepping through the buffer (buttons and swipes; keys in keys.js).
import { $, $$, api, confirmSheet, el, toast } from "./dom.js";
import { LABELS } from "./format.js";
import { approxStyle, LIMITS, neutral, previewUrl, recipeBody } from "./recipe.js";
import { state } from "./state.js";
import { swipeStep } from "./swipe.js";
import { loadBuffer, updateTile } from "./buffer.js";
import { loadLive } from "./live.js";
import { pollStatus } from "./status.js";

export function openEditor(index) {
  const p = state.photos[index];
  if (!p) return;
  const first = !state.ed;
  state.ed = { index, recipe: neutral(), shown: null, tool: state.ed?.tool || "exposure", seq: 0 };
  if (first) history.pushState({ editor: true }, "", location.hash || "#buffer");
  $("#editor").hidden = false;
  document.body.classList.add("editing"); // phone: the page under it stays; wide: a pane (layout.css)
  $$(".tile.current").forEach((t) => t.classList.remove("current"));
  $(`.tile[data-index="${index}"]`)?.classList.add("current");
  $("#ed-name").textContent = p.name;
  $("#ed-meta").textContent = [p.capture_time ? p.capture_time.replace("T", " ").slice(0, 19) : "no capture time",
    p.camera, p.width && `${p.width}×${p.height}`].filter(Boolean).join(" · ");
  $("#ed-pos").textContent = `${index + 1} / ${state.total}`;
  const img = $("#ed-img");
  img.style.transform = ""; img.style.filter = "";
  img.src = p.thumb; // instant, then the real pipeline's preview replaces it
  img.dataset.src = "";
  renderEdState(p);
  selectTool(state.ed.tool);
  refreshPreview(true);
  if (index >= state.photos.length - 5) loadBuffer();
}

export function closeEditor(fromHistory = false) {
  if (!state.ed) return;
  const index = state.ed.index;
  state.ed = null;
  $("#editor").hidden = true;
  document.body.classList.remove("editing");
  if (!fromHistory && history.state?.editor) history.back();
  $(`.tile[data-index="${index}"]`)?.scrollIntoView({ block: "nearest" });
}
window.addEventListener("popstate", () => { if (state.ed) closeEditor(true); });

function renderEdState(p) {
  const box = $("#ed-state");
  let msg = null, failed = false, unpublish = false;
  if (p.rejected) msg = "Rejected — publish to bring it back";
  else if (p.state === "published") { msg = p.live ? "✓ Live in the gallery" : "Published — uploading"; unpublish = true; }
  else if (p.state === "queued" || p.state === "processing") msg = "Publishing…";
  else if (p.state === "failed") { msg = "Publishing failed"; failed = true; }
  box.hidden = !msg;
  box.className = "ed-state" + (failed ? " failed" : "");
  box.replaceChildren(el("span", {}, msg || ""));
  if (unpublish) box.append(el("button", { type: "button", class: "danger", onclick: () => unpublishPhoto(p) }, "Unpublish (U)"));
  $('[data-ed="publish"]').textContent = p.state === "published" ? "Publish again" : "Publish";
}

function selectTool(tool) {
  state.ed.tool = tool;
  for (const b of $$(".ed-tools button")) b.setAttribute("aria-selected", String(b.dataset.tool === tool));
  const [min, max, step] = LIMITS[tool];
  const range = $("#ed-range");
  Object.assign(range, { min, max, step });
  range.value = state.ed.recipe[tool];
  range.setAttribute("aria-label", tool);
  renderToolValues();
}

function renderToolValues() {
  for (const b of $$("[data-v]")) b.textContent = LABELS[b.dataset.v](state.ed.recipe[b.dataset.v]);
}

// Instant feedback with CSS while the server renders the real thing (relative to what is shown).
function approximate() {
  const { recipe: r, shown: s } = state.ed;
  const img = $("#ed-img");
  if (!s) return;
  Object.assign(img.style, approxStyle(r, s));
}

let previewTimer = 0;
function refreshPreview(now = false) {
  clearTimeout(previewTimer);
  approximate();
  previewTimer = setTimeout(async () => {
    const ed = state.ed;
    if (!ed) return;
    const p = state.photos[ed.index];
    const recipe = { ...ed.recipe };
    const seq = ++ed.seq;
    const url = previewUrl(p.id, recipe, state.status?.watermark_version);
    $("#ed-busy").hidden = false;
    try {
      // The server renders with the real pipeline (and caches briefly); the blob is shown as is.
      const res = await fetch(url, { credentials: "same-origin" });
      if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || "Preview failed");
      const blob = await res.blob();
      if (state.ed !== ed || seq !== ed.seq) return;
      const img = $("#ed-img");
      const shown = URL.createObjectURL(blob);
      await new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; img.src = shown; });
      if (img.dataset.blob) URL.revokeObjectURL(img.dataset.blob);
      img.dataset.blob = shown;
      img.dataset.src = url;
      ed.shown = recipe;
      approximate();
    } catch (e) {
      if (state.ed === ed && seq === ed.seq) toast(e.message, { error: true });
    } finally {
      if (state.ed === ed && seq === ed.seq) $("#ed-busy").hidden = true;
    }
  }, now ? 0 : 220);
}

function onRange() {
  const tool = state.ed.tool;
  state.ed.recipe[tool] = Number($("#ed-range").value);
  renderToolValues();
  refreshPreview();
}

export function rotate() {
  state.ed.recipe.rotate = (state.ed.recipe.rotate + 90) % 360;
  refreshPreview(true);
}

function resetEdits() {
  state.ed.recipe = neutral();
  selectTool(state.ed.tool);
  refreshPreview(true);
}

export function step(delta) {
  if (!state.ed) return;
  const next = state.ed.index + delta;
  if (next < 0) return;
  if (next >= state.photos.length) {
    if (state.next) loadBuffer().then(() => { if (state.photos[next]) openEditor(next); });
    else toast("That was the last photo");
    return;
  }
  openEditor(next);
}

export async function publishCurrent() {
  const ed = state.ed;
  if (!ed) return;
  const p = state.photos[ed.index];
  const button = $('[data-ed="publish"]');
  button.disabled = true;
  try {
    const res = await api("/api/publish", { body: { id: p.id, recipe: recipeBody(ed.recipe) }, busy: button });
    Object.assign(p, { state: res.state, rejected: false, live: false, publication_id: res.id });
    updateTile(ed.index);
    toast(`Publishing ${res.name}`);
    pollStatus();
    step(1);
  } catch (e) { toast(e.message, { error: true }); }
  finally { button.disabled = false; }
}

export async function rejectCurrent() {
  const ed = state.ed;
  if (!ed) return;
  const index = ed.index;
  const p = state.photos[index];
  try {
    await api("/api/reject", { body: { id: p.id }, busy: $('[data-ed="reject"]') });
    p.rejected = true;
    updateTile(index);
    toast(`Rejected ${p.name}`, { action: { label: "Undo", run: async () => {
      await api("/api/restore", { body: { id: p.id } }); p.rejected = false; updateTile(index);
    } } });
    step(1);
  } catch (e) { toast(e.message, { error: true }); }
}

export async function unpublishPhoto(p) {
  if (!p.publication_id) return;
  if (!(await confirmSheet(`Unpublish ${p.name}?`, "Guests stop seeing it within seconds. The original stays in the buffer.", "Unpublish"))) return;
  try {
    await api("/api/unpublish", { body: { id: p.publication_id } });
    p.state = "unpublished"; p.live = false;
    const index = state.photos.indexOf(p);
    if (index >= 0) updateTile(index);
    if (state.ed && state.photos[state.ed.index] === p) renderEdState(p);
    toast(`Unpublished ${p.name}`);
    loadLive();
  } catch (e) { toast(e.message, { error: true }); }
}

$("#ed-range").addEventListener("input", onRange);
for (const b of $$(".ed-tools button")) b.addEventListener("click", () => selectTool(b.dataset.tool));
$("#editor").addEventListener("click", (e) => {
  const action = e.target.closest("[data-ed]")?.dataset.ed;
  if (!action) return;
  ({ close: () => closeEditor(), prev: () => step(-1), next: () => step(1), rotate, reset: resetEdits,
    publish: publishCurrent, reject: rejectCurrent })[action]();
});

// Swipe left/right on the photo for next/previous.
let touch = null;
$("#ed-stage").addEventListener("touchstart", (e) => {
  if (e.touches.length === 1) touch = { x: e.touches[0].clientX, y: e.touches[0].clientY, t: Date.now() };
}, { passive: true });
$("#ed-stage").addEventListener("touchend", (e) => {
  if (!touch) return;
  const delta = swipeStep(touch, e.changedTouches[0].clientX, e.changedTouches[0].clientY, Date.now());
  if (delta) step(delta);
  touch = null;
}, { passive: true });
