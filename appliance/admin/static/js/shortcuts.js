// The "?" overlay: every keyboard shortcut of the admin, in one list (keys.js does what it says).
import { $, el } from "./dom.js";
import { openPanel } from "./panel.js";

export const SHORTCUTS = [
  ["Viewer", [
    ["← / →", "Previous / next photo"], ["0 – 5", "Rate 0 to 5 stars"], ["P", "Pick"], ["X", "Reject"], ["U", "Unflag"],
    ["Space", "Publish (with the edits), then the next photo"], ["Enter", "Publish, then the next photo"],
    ["E", "Edit: to the adjust slider and back"], ["R", "Rotate 90°"], ["Delete", "Reject and go to the next photo"],
    ["Shift + U", "Unpublish (a published photo)"], ["Esc", "Close the viewer"]]],
  ["Buffer", [
    ["← → ↑ ↓", "Move between photos"], ["Space / Enter", "Open the newest (or the focused) photo"], ["E", "Open the viewer"], ["Click", "Open a photo (select it while selecting)"],
    ["Ctrl/⌘ + click", "Select or unselect one photo"], ["Shift + click", "Select a range"],
    ["Ctrl/⌘ + A", "Select all photos in this filter"], ["0 – 5, P, X, U", "Rate / flag the selection (or the focused photo)"],
    ["Esc", "Clear the selection"]]],
  ["Live feed", [["U", "Unpublish the focused photo"]]],
  ["Anywhere", [["?", "This list"]]],
];

export function openShortcuts() {
  const body = el("div", { class: "keys-help" }, ...SHORTCUTS.map(([title, rows]) => el("section", {},
    el("h3", {}, title), el("dl", {}, ...rows.flatMap(([key, what]) => [el("dt", {}, el("kbd", {}, key)), el("dd", {}, what)])))));
  openPanel({ title: "Keyboard shortcuts", id: "shortcuts", body, wide: true });
}

// A "?" chip at the end of the filter row (hidden on touch screens, where there is no keyboard).
$(".chips").append(el("button", { type: "button", class: "help-chip", id: "help-open", "aria-label": "Keyboard shortcuts (?)",
  title: "Keyboard shortcuts (?)", onclick: openShortcuts }, "?"));
