// The buffer: the grid of tiles (with their rating/flag marks and selection) and infinite loading as
// the sentinel nears. Which photos it shows is the filter state (filters.js, in the URL).
import { $, $$, api, el, toast } from "./dom.js";
import { PAGE, state } from "./state.js";
import { extraCount, toParams } from "./filterquery.js";
import { tileMarks } from "./culling.js";
import { selectBox, tileClick } from "./selection.js";

function badge(p) {
  if (p.rejected) return el("span", { class: "badge" }, "Rejected");
  if (p.state === "published") return el("span", { class: "badge" + (p.live ? " live" : "") }, p.live ? "Live" : "Uploading");
  if (p.state === "failed") return el("span", { class: "badge failed" }, "Failed");
  if (p.state === "queued" || p.state === "processing") return el("span", { class: "badge" }, "Publishing");
  return null;
}

function tile(p, index) {
  const img = el("img", { src: p.thumb, alt: p.name, loading: "lazy", decoding: "async", width: 400, height: 400 });
  img.addEventListener("load", () => img.classList.add("ok"), { once: true });
  const selected = state.sel.has(p.id);
  return el("button", { type: "button", class: "tile" + (p.rejected ? " rejected" : "") + (selected ? " selected" : ""),
    "data-id": p.id, "data-index": index, "aria-label": p.name, "aria-pressed": state.selecting ? String(selected) : null,
    onclick: (e) => tileClick(e, Number(e.currentTarget.dataset.index)) }, img, badge(p), tileMarks(p), selectBox(p));
}

function renderCounts(counts) {
  if (!counts) return;
  state.counts = counts;
  for (const b of document.querySelectorAll("[data-count]")) b.textContent = counts[b.dataset.count] ?? "";
}

function emptyMessage() {
  if (extraCount(state.f)) return "No photos match these filters.";
  return { all: "No photos yet. Insert a card.", new: "Nothing new — all photos handled.",
    published: "Nothing published yet.", rejected: "No rejected photos." }[state.filter];
}

export function appendPhotos(data) {
  const start = state.photos.length;
  state.photos.push(...data.photos);
  state.next = data.next;
  state.total = data.total;
  if (data.sources) state.sources = data.sources;
  renderCounts(data.counts);
  const grid = $("#grid");
  if (!state.photos.length) {
    grid.replaceChildren(el("p", { class: "empty" }, emptyMessage()));
    return;
  }
  grid.append(...data.photos.map((p, i) => tile(p, start + i)));
}

// The whole grid again from state.photos (after photos left it, e.g. a batch delete).
export function renderGrid() {
  const photos = state.photos;
  state.photos = [];
  $("#grid").replaceChildren();
  appendPhotos({ photos, next: state.next, total: state.total, counts: null });
}

// Photos leave the grid (a batch delete): their tiles go, the others are numbered again (no rebuild).
export function dropPhotos(ids) {
  const gone = new Set(ids);
  state.photos = state.photos.filter((p) => !gone.has(p.id));
  for (const t of $$("#grid .tile[data-id]")) if (gone.has(Number(t.dataset.id))) t.remove();
  $$("#grid .tile[data-id]").forEach((t, i) => { t.dataset.index = i; });
  if (!state.photos.length) $("#grid").replaceChildren(el("p", { class: "empty" }, emptyMessage()));
}

let loadSeq = 0; // a reset (new filters) supersedes a page still loading
export async function loadBuffer(reset = false) {
  if (!reset && (state.loading || !state.next)) return;
  const seq = ++loadSeq;
  state.loading = true;
  try {
    const params = toParams(state.f);
    params.set("limit", PAGE);
    if (!reset && state.next) params.set("cursor", state.next);
    const data = await api("/api/buffer?" + params);
    if (seq !== loadSeq) return;
    if (reset) { state.photos = []; $("#grid").replaceChildren(); $("#fresh").hidden = true; }
    appendPhotos(data);
  } catch (e) {
    if (seq === loadSeq) toast(e.message, { error: true });
  } finally {
    if (seq === loadSeq) state.loading = false;
  }
  if (seq === loadSeq && state.next && sentinelVisible) loadBuffer();
}

// The filter chips' counts again, shortly after a change (one request for a burst of key presses).
let countsTimer = 0;
export function refreshCounts() {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(async () => {
    const params = toParams(state.f);
    params.set("limit", 1);
    try { const data = await api("/api/buffer?" + params); renderCounts(data.counts); state.total = data.total; }
    catch { /* the status bar reports a box that does not answer */ }
  }, 600);
}

// The loaded photos' states again from the box (after a batch), painted where they changed.
export async function refreshLoaded() {
  if (!state.photos.length) return;
  const params = toParams(state.f);
  params.set("limit", Math.min(500, state.photos.length));
  try {
    const data = await api("/api/buffer?" + params);
    renderCounts(data.counts);
    const fresh = new Map(data.photos.map((p) => [p.id, p]));
    state.photos.forEach((p, i) => {
      const now = fresh.get(p.id);
      if (now && JSON.stringify(now) !== JSON.stringify(p)) { Object.assign(p, now); updateTile(i); }
    });
  } catch { /* the status bar reports a box that does not answer */ }
}

export function updateTile(index) {
  const p = state.photos[index];
  const old = $(`.tile[data-index="${index}"]`);
  if (old && p) {
    const fresh = tile(p, index);
    if (old.classList.contains("current")) fresh.classList.add("current");
    const img = $("img", old);
    if (img?.classList.contains("ok")) $("img", fresh).classList.add("ok"); // no fade-in again
    const focused = document.activeElement === old;
    old.replaceWith(fresh);
    if (focused) fresh.focus({ preventScroll: true });
  }
}

let sentinelVisible = false;
new IntersectionObserver((entries) => {
  sentinelVisible = entries.some((e) => e.isIntersecting);
  if (sentinelVisible) loadBuffer();
}, { rootMargin: "1200px 0px" }).observe($("#sentinel"));

$("#fresh").addEventListener("click", () => { window.scrollTo({ top: 0, behavior: "smooth" }); loadBuffer(true); });
