// Wide screens (>= 800 px, layout.css): the viewer is a pane beside the grid, not a dialog over
// it, and the side rail stays usable while a photo is open (it closes the viewer first).
import { $, $$ } from "./dom.js";
import { state } from "./state.js";
import { closeEditor } from "./editor.js";

export const wide = matchMedia("(min-width: 800px)");

function syncEditor() {
  const editor = $("#editor");
  editor.setAttribute("aria-modal", String(!wide.matches));
  if (!editor.hidden && wide.matches) $(".tile.current")?.scrollIntoView({ block: "nearest" });
}

new MutationObserver(syncEditor).observe($("#editor"), { attributes: true, attributeFilter: ["hidden"] });
wide.addEventListener("change", syncEditor);
for (const a of $$(".tabbar a")) {
  a.addEventListener("click", () => { if (state.ed && a.dataset.tab !== "buffer") closeEditor(true); });
}
syncEditor();

// On a wide screen the status details drop down from the pill: a click elsewhere or Esc closes them.
function closeStatus() {
  $("#status-panel").hidden = true;
  $("#status").setAttribute("aria-expanded", "false");
}
document.addEventListener("click", (e) => {
  if (wide.matches && !$("#status-panel").hidden && !e.target.closest("#status-panel, #status")) closeStatus();
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !$("#status-panel").hidden && $("#sheet").hidden) { closeStatus(); e.stopImmediatePropagation(); }
}, true);
