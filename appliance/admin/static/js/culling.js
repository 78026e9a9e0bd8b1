// Ratings (0–5 ★) and flags (picked / rejected / none): the marks on a grid tile, the bar on the
// viewer's photo, and the change itself: shown at once, changed back with a toast if the box refuses.
import { $, $$, api, el, toast } from "./dom.js";
import { state } from "./state.js";
import { refreshCounts, updateTile } from "./buffer.js";
import { renderEdState } from "./editor.js";

const FLAG_API = { picked: "pick", rejected: "reject", none: "none" };

// A photo's flag, with `rejected` (which the viewer's Reject, auto-publish's ✕ and a publish change
// alone) taking precedence: rejecting clears a pick; a publish or a restore clears the rejection.
function flagOf(p) {
  if (p.rejected) p.flag = "rejected";
  else if (p.flag === "rejected") p.flag = null;
  return p.flag || "none";
}

// The small marks on a grid tile: a lock when protected in the camera, a green flag when picked, the stars.
export function tileMarks(p) {
  flagOf(p);
  const flag = p.flag === "picked" ? el("span", { class: "m-pick", title: "Picked" }, "⚑") : null;
  const stars = p.rating > 0 ? el("span", { class: "m-stars", title: `${p.rating} star${p.rating > 1 ? "s" : ""}` },
    "★".repeat(p.rating)) : null;
  const lock = p.protected ? el("span", { class: "m-lock", title: "Protected in the camera", "aria-label": "Protected" }) : null;
  return flag || stars || lock ? el("span", { class: "marks" }, lock, flag, stars) : null;
}

function viewerPhoto() {
  return state.ed ? state.photos[state.ed.index] : null;
}

// The rating/flag bar on the viewer's photo shows photo `p`.
export function renderCullBar(p) {
  const bar = $("#cull-bar");
  if (!bar || !p) return;
  for (const b of $$("[data-rate]", bar)) {
    const n = Number(b.dataset.rate);
    b.textContent = n <= (p.rating || 0) ? "★" : "☆";
    b.setAttribute("aria-pressed", String(n === (p.rating || 0)));
  }
  const flag = flagOf(p);
  for (const b of $$("[data-flag]", bar)) b.setAttribute("aria-pressed", String(b.dataset.flag === flag));
  bar.dataset.flag = flag;
}

function repaint(p) {
  const index = state.photos.indexOf(p);
  if (index >= 0) updateTile(index);
  if (viewerPhoto() === p) { renderCullBar(p); renderEdState(p); }
}

const newest = new Map(); // photo id -> the newest change's number: an older failure must not undo a newer change
let changes = 0;

async function change(ids, apply, path, body, verb) {
  const wanted = new Set(ids);
  const photos = state.photos.filter((p) => wanted.has(p.id));
  const number = ++changes;
  const before = photos.map((p) => [p, { rating: p.rating, flag: p.flag, rejected: p.rejected }]);
  for (const p of photos) { apply(p); newest.set(p.id, number); repaint(p); }
  try {
    const res = await api(path, { body });
    refreshCounts();
    return res;
  } catch (e) {
    for (const [p, old] of before) if (newest.get(p.id) === number) { Object.assign(p, old); repaint(p); }
    const what = ids.length === 1 ? (photos[0]?.name || "the photo") : `${ids.length} photos`;
    toast(`Could not ${verb} ${what} — changed back. ${e.message}`, { error: true, ms: 6000 });
    return null;
  }
}

// Rate photos (ids) 0–5 stars.
export function ratePhotos(ids, rating) {
  return change(ids, (p) => { p.rating = rating; }, "/api/rate", { ids, rating }, "rate");
}

// Flag photos: "picked", "rejected" or "none" (picking clears a rejection and the other way round).
export function flagPhotos(ids, flag) {
  return change(ids, (p) => { p.flag = flag === "none" ? null : flag; p.rejected = flag === "rejected"; },
    "/api/flag", { ids, flag: FLAG_API[flag] }, { picked: "pick", rejected: "reject", none: "unflag" }[flag]);
}

// The viewer's photo: a tap on its current star clears the rating.
export function rateCurrent(n) {
  const p = viewerPhoto();
  if (p) ratePhotos([p.id], n);
}

export function flagCurrent(flag) {
  const p = viewerPhoto();
  if (p) flagPhotos([p.id], flag);
}

function buildBar() {
  const stars = [1, 2, 3, 4, 5].map((n) => el("button", { type: "button", class: "star", "data-rate": n,
    "aria-label": `${n} star${n > 1 ? "s" : ""} (${n})`, title: `${n} (key ${n}; again for none)` }, "☆"));
  const flag = (name, label, key, text) => el("button", { type: "button", class: "flag", "data-flag": name,
    "aria-label": `${label} (${key})`, title: `${label} (${key})` }, text);
  const bar = el("div", { id: "cull-bar", class: "cull-bar", role: "toolbar", "aria-label": "Rating and flag" },
    el("div", { class: "stars", role: "group", "aria-label": "Rating" }, ...stars),
    el("div", { class: "flags", role: "group", "aria-label": "Flag" },
      flag("picked", "Pick", "P", "⚑"), flag("rejected", "Reject", "X", "✕"), flag("none", "Unflag", "U", "○")));
  bar.addEventListener("click", (e) => {
    const b = e.target.closest("button");
    const p = viewerPhoto();
    if (!b || !p) return;
    if (b.dataset.rate) { const n = Number(b.dataset.rate); rateCurrent(n === (p.rating || 0) ? 0 : n); }
    else flagCurrent(b.dataset.flag);
  });
  $("#ed-stage").append(bar);
}
buildBar();
