// The buffer: the grid of tiles, its filter chips and infinite loading as the sentinel nears.
import { $, $$, api, el, toast } from "./dom.js";
import { PAGE, state } from "./state.js";
import { openEditor } from "./editor.js";

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
  return el("button", { type: "button", class: "tile" + (p.rejected ? " rejected" : ""), "data-id": p.id,
    "data-index": index, "aria-label": p.name, onclick: () => openEditor(index) }, img, badge(p));
}

function renderCounts(counts) {
  state.counts = counts;
  for (const b of $$("[data-count]")) b.textContent = counts[b.dataset.count] ?? "";
}

export function appendPhotos(data) {
  const start = state.photos.length;
  state.photos.push(...data.photos);
  state.next = data.next;
  state.total = data.total;
  renderCounts(data.counts);
  const grid = $("#grid");
  if (!state.photos.length) {
    const msg = { all: "No photos yet. Insert a card.", new: "Nothing new — all photos handled.",
      published: "Nothing published yet.", rejected: "No rejected photos." }[state.filter];
    grid.replaceChildren(el("p", { class: "empty" }, msg));
    return;
  }
  grid.append(...data.photos.map((p, i) => tile(p, start + i)));
}

export async function loadBuffer(reset = false) {
  if (state.loading || (!reset && !state.next)) return;
  state.loading = true;
  try {
    const params = new URLSearchParams({ limit: PAGE, filter: state.filter });
    if (!reset && state.next) params.set("cursor", state.next);
    const data = await api("/api/buffer?" + params);
    if (reset) { state.photos = []; $("#grid").replaceChildren(); $("#fresh").hidden = true; }
    appendPhotos(data);
  } catch (e) { toast(e.message, { error: true }); }
  finally { state.loading = false; }
  if (state.next && sentinelVisible) loadBuffer();
}

export function updateTile(index) {
  const p = state.photos[index];
  const old = $(`.tile[data-index="${index}"]`);
  if (old && p) old.replaceWith(tile(p, index));
}

let sentinelVisible = false;
new IntersectionObserver((entries) => {
  sentinelVisible = entries.some((e) => e.isIntersecting);
  if (sentinelVisible) loadBuffer();
}, { rootMargin: "1200px 0px" }).observe($("#sentinel"));

for (const chip of $$(".chips button")) {
  chip.addEventListener("click", () => {
    state.filter = chip.dataset.filter;
    for (const c of $$(".chips button")) c.setAttribute("aria-selected", String(c === chip));
    window.scrollTo({ top: 0 });
    loadBuffer(true);
  });
}
$("#fresh").addEventListener("click", () => { window.scrollTo({ top: 0, behavior: "smooth" }); loadBuffer(true); });
