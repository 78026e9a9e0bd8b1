// A bottom sheet on a phone, a centred dialog on a laptop: the filter sheet, the batch's rate and
// edit choices and the shortcuts help. One at a time; Esc, the ✕ or a tap outside closes it.
import { el } from "./dom.js";

let current = null; // { wrap, onClose, keys }

export const panelOpen = () => current !== null;

export function closePanel() {
  if (!current) return;
  const { wrap, onClose, keys, focus } = current;
  current = null;
  document.removeEventListener("keydown", keys, true);
  wrap.remove();
  onClose?.();
  focus?.focus?.({ preventScroll: true });
}

// Opens a panel titled `title` holding `body` (a node); `footer` (nodes) sticks to its bottom.
export function openPanel({ title, body, footer = [], id = null, onClose = null, wide = false }) {
  closePanel();
  const close = el("button", { type: "button", class: "icon panel-close", "aria-label": "Close (Esc)", onclick: closePanel }, "✕");
  const panel = el("div", { class: "panel" + (wide ? " wide" : ""), role: "dialog", "aria-modal": "true", "aria-label": title },
    el("header", { class: "panel-head" }, el("h2", {}, title), close),
    el("div", { class: "panel-body" }, body),
    footer.length ? el("footer", { class: "panel-foot" }, ...footer) : null);
  const wrap = el("div", { class: "panel-wrap", id, onclick: (e) => { if (e.target === wrap) closePanel(); } }, panel);
  const keys = (e) => { if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); closePanel(); } };
  current = { wrap, onClose, keys, focus: document.activeElement };
  document.addEventListener("keydown", keys, true);
  document.body.append(wrap);
  close.focus({ preventScroll: true });
  return panel;
}

// A row of toggle buttons (one pressed): [[value, label], ...]; onPick(value) on a tap.
export function segmented(label, options, value, onPick) {
  return el("div", { class: "seg", role: "group", "aria-label": label },
    ...options.map(([v, text]) => el("button", { type: "button", "aria-pressed": String(String(v) === String(value)),
      "data-value": v, onclick: () => onPick(v) }, text)));
}
