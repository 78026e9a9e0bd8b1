// Multi-select in the buffer. Phone: long-press a photo, then tap more. Laptop: Ctrl/Cmd-click adds or
// removes one, Shift-click a range, the ✓ on a tile too. While photos are selected a plain click or
// tap adds/removes one (as in Google Photos); with none selected it opens the viewer. "Select all"
// takes every photo the filters match (GET /api/buffer/ids). Others listen to the "selection" event.
import { $, $$, api, el, toast } from "./dom.js";
import { state } from "./state.js";
import { toParams } from "./filterquery.js";
import { openEditor } from "./editor.js";
import { panelOpen } from "./panel.js";

const LONG_PRESS_MS = 450;

function changed() {
  state.selecting = state.sel.size > 0;
  document.body.classList.toggle("selecting", state.selecting);
  for (const t of $$("#grid .tile[data-id]")) {
    const on = state.sel.has(Number(t.dataset.id));
    t.classList.toggle("selected", on);
    if (state.selecting) t.setAttribute("aria-pressed", String(on)); else t.removeAttribute("aria-pressed");
  }
  document.dispatchEvent(new CustomEvent("selection"));
}

export function clearSelection() {
  if (!state.sel.size && !state.selecting) return;
  state.sel.clear();
  state.anchor = null;
  changed();
}

function toggle(index) {
  const p = state.photos[index];
  if (!p) return;
  if (state.sel.has(p.id)) state.sel.delete(p.id); else state.sel.add(p.id);
  state.anchor = index;
  changed();
}

// Shift: from the anchor (the last photo clicked, else the one last open in the viewer) to this one.
function range(index) {
  const current = $("#grid .tile.current");
  const from = state.anchor ?? (current ? Number(current.dataset.index) : index);
  state.anchor = from;
  const [lo, hi] = from < index ? [from, index] : [index, from];
  for (const p of state.photos.slice(lo, hi + 1)) state.sel.add(p.id);
  changed();
}

export async function selectAll() {
  try {
    const data = await api("/api/buffer/ids?" + toParams(state.f));
    state.sel = new Set(data.ids);
    changed();
    if (data.total > data.ids.length) toast(`Selected the first ${data.ids.length} of ${data.total} photos`);
  } catch (e) { toast(`Could not select all: ${e.message}`, { error: true }); }
}

let suppressUntil = 0; // the click that ends a long-press must not toggle again

export function tileClick(e, index) {
  if (performance.now() < suppressUntil) { e.preventDefault(); return; }
  if (e.shiftKey) range(index);
  else if (e.ctrlKey || e.metaKey || state.selecting) toggle(index);
  else openEditor(index);
}

// The ✓ in a tile's corner: selects without opening (mouse users; a 44 px target).
export function selectBox(p) {
  return el("span", { class: "sel-box", "aria-hidden": "true", "data-select": p.id }, el("i", {}, "✓"));
}

const grid = $("#grid");
grid.addEventListener("click", (e) => {
  const box = e.target.closest(".sel-box");
  if (!box) return;
  e.stopPropagation();
  const tile = box.closest(".tile");
  if (e.shiftKey) range(Number(tile.dataset.index)); else toggle(Number(tile.dataset.index));
}, true);

let press = null; // { timer, x, y, fired }
grid.addEventListener("pointerdown", (e) => {
  suppressUntil = 0; // a new touch: its own click counts
  const tile = e.target.closest(".tile");
  if (e.pointerType !== "touch" || !tile) return;
  const index = Number(tile.dataset.index);
  press = { x: e.clientX, y: e.clientY, fired: false, timer: setTimeout(() => {
    press.fired = true;
    const p = state.photos[index];
    if (p && !state.sel.has(p.id)) toggle(index); else state.anchor = index;
  }, LONG_PRESS_MS) };
});
const endPress = (e) => {
  if (!press) return;
  clearTimeout(press.timer);
  if (press.fired) { suppressUntil = performance.now() + 400; e.preventDefault?.(); }
  press = null;
};
grid.addEventListener("pointerup", endPress);
grid.addEventListener("pointercancel", endPress);
grid.addEventListener("pointermove", (e) => {
  if (press && !press.fired && Math.hypot(e.clientX - press.x, e.clientY - press.y) > 10) endPress(e);
});
grid.addEventListener("contextmenu", (e) => { if (e.target.closest(".tile") && (press || performance.now() < suppressUntil)) e.preventDefault(); });

window.addEventListener("hashchange", () => { if (location.hash && location.hash !== "#buffer") clearSelection(); });

document.addEventListener("keydown", (e) => {
  if (state.tab !== "buffer" || state.ed || panelOpen() || !$("#sheet").hidden) return;
  if (/^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName)) return;
  if ((e.ctrlKey || e.metaKey) && (e.key === "a" || e.key === "A")) { e.preventDefault(); selectAll(); }
  else if (e.key === "Escape" && state.selecting) { e.preventDefault(); clearSelection(); }
});
