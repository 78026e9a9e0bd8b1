// The import report, the same for a card, a hot folder and the phone's uploads:
// "212 imported · 3 duplicates · 2 unreadable · 1 zero-byte · 4 hidden files ignored", each count a
// <details> that opens the list of its files with the reason. And errors in plain words, with the
// raw text behind a "Details" toggle.
import { el } from "./dom.js";

// The report's order, its words, and which categories keep the card (or the phone's copy).
export const CATEGORIES = ["imported", "archived", "duplicates", "unreadable", "zero_byte", "failed", "hidden", "not_photo"];
export const LABELS = { imported: "imported", archived: "originals archived", duplicates: "duplicates",
  unreadable: "unreadable", zero_byte: "zero-byte", failed: "failed", hidden: "hidden files ignored",
  not_photo: "not photos (left on the card)" };
const ONE = { archived: "original archived", duplicates: "duplicate", hidden: "hidden file ignored",
  not_photo: "not a photo (left on the card)" };

// "3 duplicates", "1 duplicate"; `left`: where a file that is not a photo stays ("left on the card").
export function label(category, n, left = "left on the card") {
  return ((n === 1 && ONE[category]) || LABELS[category] || category).replace("left on the card", left);
}
export const TROUBLE = new Set(["unreadable", "zero_byte", "failed"]);

// "212 imported · 3 duplicates · ..." (only the categories that have files).
export function countsLine(counts, left) {
  return CATEGORIES.filter((c) => counts[c]).map((c) => `${counts[c]} ${label(c, counts[c], left)}`).join(" · ");
}

// The raw text of an error (as the log has it) behind a "Details" toggle.
export function detailsToggle(raw) {
  return raw ? el("details", { class: "pe-details" }, el("summary", {}, "Details"), el("code", {}, raw)) : null;
}

// A plain-words error with the raw text behind a toggle: {message, details}.
export function plainError(explained, cls = "plain-error") {
  if (!explained) return null;
  return el("div", { class: cls }, el("span", { class: "pe-message" }, explained.message),
    explained.details !== explained.message ? detailsToggle(explained.details) : null);
}

function fileItem(f) {
  return el("li", {},
    el("span", { class: "ir-name" }, f.name),
    f.reason ? el("span", { class: "ir-reason" }, f.reason) : null,
    f.details !== f.reason ? detailsToggle(f.details) : null);
}

function categoryBlock(category, count, label, files) {
  const shown = files || [];
  const more = count - shown.length;
  return el("details", { class: "ir-cat" + (TROUBLE.has(category) ? " trouble" : ""), "data-category": category },
    el("summary", {}, el("b", {}, String(count)), ` ${label}`),
    shown.length ? el("ul", { class: "ir-files" }, ...shown.map(fileItem)) : null,
    more > 0 ? el("p", { class: "ir-more muted small" },
      shown.length ? `and ${more} more (the full list is in the appliance log)` : "file names are in the appliance log") : null);
}

// The report card. `report`: {counts, files, safe_to_remove, verdict}; `heading`: what the
// verdict is about ("Card" → "Safe to remove" / "Keep the card"); `note`: a line under the verdict;
// `onClose`: a dismiss button.
export function reportCard(report, { title = "Import report", safeText = "✓ Safe to remove",
  keepText = "⚠ Keep the card", note = "", left = "left on the card", onClose = null } = {}) {
  const counts = report.counts || {};
  const safe = !!report.safe_to_remove;
  return el("section", { class: "import-report " + (safe ? "safe" : "keep"), "aria-label": title },
    el("div", { class: "ir-head" },
      el("div", { class: "ir-title" }, el("small", { class: "muted" }, title),
        el("strong", { class: "ir-verdict" }, safe ? safeText : keepText)),
      onClose ? el("button", { type: "button", class: "ir-close", "aria-label": "Dismiss the report", onclick: onClose }, "✕")
        : null),
    report.verdict ? el("p", { class: "ir-why" }, report.verdict) : null,
    note ? el("p", { class: "ir-note small" }, note) : null,
    el("p", { class: "ir-line" }, countsLine(counts, left) || "No files"), // the whole report in one line
    el("div", { class: "ir-cats" }, ...CATEGORIES.filter((c) => counts[c])
      .map((c) => categoryBlock(c, counts[c], label(c, counts[c], left), (report.files || {})[c]))));
}
