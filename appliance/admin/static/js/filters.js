// The buffer's filters: the preset chips (All/New/Published/Rejected), a "Filters" chip that opens the
// filter sheet (rating, flag, published, source, time range, sort) and one removable chip per active
// filter. The state lives in the page's URL (history.replaceState): a reload shows the same view.
import { $, $$, api, el } from "./dom.js";
import { state } from "./state.js";
import { DEFAULTS, describe, extraCount, sourceKey, toParams } from "./filterquery.js";
import { closePanel, openPanel, segmented } from "./panel.js";
import { loadBuffer } from "./buffer.js";
import { clearSelection } from "./selection.js";

function writeUrl() {
  const q = toParams(state.f).toString();
  history.replaceState(history.state, "", location.pathname + (q ? "?" + q : "") + location.hash);
}

// Changes some filters, puts them in the URL and reloads the grid from the top.
export async function setFilters(changes) {
  Object.assign(state.f, changes);
  clearSelection(); // "select all" means all in the filter shown
  state.filter = state.f.filter;
  writeUrl();
  renderChips();
  window.scrollTo({ top: 0 });
  await loadBuffer(true);
  renderChips();
  if ($("#filter-sheet")) renderSheet();
}

export function renderChips() {
  const row = $(".chips");
  for (const c of $$("button[data-filter]", row)) c.setAttribute("aria-selected", String(c.dataset.filter === state.f.filter));
  $$(".chip-extra", row).forEach((c) => c.remove());
  const n = extraCount(state.f);
  const extra = [el("button", { type: "button", class: "chip-extra chip-filters" + (n ? " on" : ""), id: "filter-open",
    "aria-haspopup": "dialog", onclick: openFilterSheet }, "Filters", n ? el("b", {}, String(n)) : null)];
  for (const [key, text] of describe(state.f, state.sources)) {
    extra.push(el("button", { type: "button", class: "chip-extra chip-on", "data-clear": key,
      "aria-label": `Remove filter ${text}`, onclick: () => setFilters({ [key]: DEFAULTS[key] }) }, text, el("span", { "aria-hidden": "true" }, "✕")));
  }
  row.prepend(...extra); // first: on a phone the row scrolls sideways, "Filters" stays in sight
  const help = $("#help-open", row);
  if (help) row.append(help); // the "?" stays last
}

function group(title, ...children) {
  return el("fieldset", { class: "fgroup" }, el("legend", {}, title), ...children);
}

function timeInput(key, label) {
  const input = el("input", { type: "datetime-local", name: key, value: state.f[key] || null, "aria-label": label });
  input.addEventListener("change", () => setFilters({ [key]: input.value ? input.value.slice(0, 16) : "" }));
  return el("label", { class: "ftime" }, label, input);
}

function sheetBody() {
  const f = state.f;
  const source = el("select", { name: "source", "aria-label": "Source" },
    el("option", { value: "" }, "Every source"),
    ...(state.sources || []).map((s) => el("option", { value: sourceKey(s), selected: sourceKey(s) === f.source },
      `${s.label} (${s.count})`)));
  if (f.source && !source.value) source.append(el("option", { value: f.source, selected: true }, f.source));
  source.addEventListener("change", () => setFilters({ source: source.value }));
  return el("div", { class: "fsheet" },
    group("Rating", segmented("Rating at least", [["0", "Any"], ...[1, 2, 3, 4, 5].map((n) => [String(n), `${n}★+`])],
      f.rating, (v) => setFilters({ rating: v }))),
    group("Flag", segmented("Flag", [["", "Any"], ["picked", "Picked"], ["rejected", "Rejected"], ["unflagged", "Unflagged"]],
      f.flag, (v) => setFilters({ flag: v }))),
    group("In the gallery", segmented("Published", [["", "Any"], ["published", "Published"], ["unpublished", "Not published"]],
      f.state, (v) => setFilters({ state: v }))),
    group("Source", source),
    group("Time", el("div", { class: "ftimes" }, timeInput("from", "From"), timeInput("to", "Until"))),
    group("Sort", segmented("Sort by", [["capture", "Capture time"], ["import", "Import time"]], f.sort,
      (v) => setFilters({ sort: v }))));
}

function renderSheet() {
  const panel = $("#filter-sheet .panel");
  if (!panel) return;
  $(".panel-body", panel).replaceChildren(sheetBody());
  $("[data-f=show]", panel).textContent = `Show ${state.total} photo${state.total === 1 ? "" : "s"}`;
}

export function openFilterSheet() {
  openPanel({ title: "Filter the buffer", id: "filter-sheet", body: sheetBody(), footer: [
    el("button", { type: "button", "data-f": "clear", onclick: () => setFilters({ ...DEFAULTS, filter: state.f.filter }) }, "Clear"),
    el("button", { type: "button", class: "primary", "data-f": "show", onclick: closePanel }, `Show ${state.total} photos`)] });
  renderSheet();
  if (!state.sources.length) { // the page's first buffer came without the source list
    api("/api/buffer?limit=1").then((d) => { state.sources = d.sources || []; renderSheet(); }).catch(() => {});
  }
}

for (const chip of $$(".chips button[data-filter]")) chip.addEventListener("click", () => setFilters({ filter: chip.dataset.filter }));
renderChips();
