// Keyboard shortcuts. Editor: Space/→ next, Shift+Space/← previous, Enter publish, Delete reject,
// R rotate, U unpublish, Esc close. Buffer: Space/Enter opens the newest photo. Live: U unpublishes.
import { $ } from "./dom.js";
import { state } from "./state.js";
import { closeEditor, openEditor, publishCurrent, rejectCurrent, rotate, step, unpublishPhoto } from "./editor.js";
import { unpublishLive } from "./live.js";

document.addEventListener("keydown", (e) => {
  if (!$("#sheet").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
  const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) && e.target.type !== "range";
  if (typing) return;
  const key = e.key;
  if (state.ed) {
    const p = state.photos[state.ed.index];
    const map = {
      " ": () => step(e.shiftKey ? -1 : 1), ArrowRight: () => step(1), ArrowLeft: () => step(-1),
      Enter: publishCurrent, Delete: rejectCurrent, Backspace: rejectCurrent, r: rotate, R: rotate,
      u: () => p.state === "published" && unpublishPhoto(p), U: () => p.state === "published" && unpublishPhoto(p),
      Escape: () => closeEditor(),
    };
    if (e.target.type === "range" && (key === "ArrowRight" || key === "ArrowLeft")) return;
    if (map[key]) { e.preventDefault(); map[key](); }
    return;
  }
  if (state.tab === "buffer" && (key === " " || key === "Enter") && !e.target.closest?.(".tile")) {
    e.preventDefault();
    openEditor(0);
  } else if (state.tab === "live" && (key === "u" || key === "U")) {
    const row = document.activeElement?.closest?.(".row") || $("#live-list .row");
    const p = row && state.live.find((x) => String(x.id) === row.dataset.id);
    if (p && p.state === "published") { e.preventDefault(); unpublishLive(p); }
  }
});
