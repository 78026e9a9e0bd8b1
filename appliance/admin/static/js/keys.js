// Keyboard shortcuts (the full list is behind "?": shortcuts.js). Viewer: ←/→ move, 0–5 rate, P pick,
// X reject, U unflag, Space/Enter publish, E edit, R rotate, Delete reject and skip, Shift+U unpublish,
// Esc close. Buffer: arrows move between tiles, Space/Enter/E open the newest photo; 0–5/P/X/U act on the selection or the focused
// tile (selection.js does Ctrl/Cmd+A and Esc). Live: U unpublishes.
import { $ } from "./dom.js";
import { state } from "./state.js";
import { closeEditor, openEditor, publishCurrent, rejectCurrent, rotate, step, toggleEditFocus, unpublishPhoto } from "./editor.js";
import { flagCurrent, flagPhotos, rateCurrent, ratePhotos } from "./culling.js";
import { unpublishLive } from "./live.js";
import { panelOpen } from "./panel.js";
import { openShortcuts } from "./shortcuts.js";

const FLAG_KEYS = { p: "picked", P: "picked", x: "rejected", X: "rejected", u: "none" };

function viewerKeys(e) {
  const key = e.key;
  const p = state.photos[state.ed.index];
  if (e.target.type === "range" && (key === "ArrowRight" || key === "ArrowLeft")) return null;
  if (/^[0-5]$/.test(key)) return () => rateCurrent(Number(key));
  if (FLAG_KEYS[key]) return () => flagCurrent(FLAG_KEYS[key]);
  return {
    " ": publishCurrent, Enter: publishCurrent, ArrowRight: () => step(1), ArrowLeft: () => step(-1),
    Delete: rejectCurrent, Backspace: rejectCurrent, r: rotate, R: rotate, e: toggleEditFocus, E: toggleEditFocus,
    U: () => p.state === "published" && unpublishPhoto(p), Escape: () => closeEditor(),
  }[key] || null;
}

// Arrows in the grid: focus the next tile in that direction (a row is as wide as the grid shows).
function moveFocus(key) {
  const tiles = [...document.querySelectorAll("#grid .tile[data-id]")];
  if (!tiles.length) return;
  const here = tiles.indexOf(document.activeElement?.closest?.("#grid .tile"));
  const cols = tiles.filter((t) => t.offsetTop === tiles[0].offsetTop).length || 1;
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols }[key];
  const tile = tiles[here < 0 ? 0 : Math.max(0, Math.min(tiles.length - 1, here + step))];
  tile.focus({ preventScroll: true });
  tile.scrollIntoView({ block: "nearest" });
}

// The photos the buffer's keys act on: the selection, else the focused tile.
function bufferTargets() {
  if (state.sel.size) return [...state.sel];
  const tile = document.activeElement?.closest?.("#grid .tile");
  return tile ? [Number(tile.dataset.id)] : [];
}

function bufferKeys(e) {
  const key = e.key;
  if (/^[0-5]$/.test(key) || FLAG_KEYS[key]) {
    const ids = bufferTargets();
    if (!ids.length) return null;
    return /^[0-5]$/.test(key) ? () => ratePhotos(ids, Number(key)) : () => flagPhotos(ids, FLAG_KEYS[key]);
  }
  if (key.startsWith("Arrow")) return () => moveFocus(key);
  if ((key === " " || key === "Enter") && !e.target.closest?.(".tile, button, a")) return () => openEditor(0);
  if (key === "e" || key === "E") {
    const tile = document.activeElement?.closest?.("#grid .tile");
    return () => openEditor(tile ? Number(tile.dataset.index) : 0);
  }
  return null;
}

document.addEventListener("keydown", (e) => {
  if (!$("#sheet").hidden || panelOpen() || e.altKey || e.ctrlKey || e.metaKey) return;
  const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) && e.target.type !== "range";
  if (typing) return;
  const key = e.key;
  let action = null;
  if (key === "?") action = openShortcuts;
  else if (state.ed) action = viewerKeys(e);
  else if (state.tab === "buffer") action = bufferKeys(e);
  else if (state.tab === "live" && (key === "u" || key === "U")) {
    const row = document.activeElement?.closest?.(".row") || $("#live-list .row");
    const p = row && state.live.find((x) => String(x.id) === row.dataset.id);
    if (p && p.state === "published") action = () => unpublishLive(p);
  }
  if (action) { e.preventDefault(); action(); }
});
