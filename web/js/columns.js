/* The masonry's columns in the page: building them, and placing tiles in
 * them (the choice of column is layout.js's maths). */

import { els, atTop, viewportH, viewportW } from "./dom.js";
import { columnsFor, shortestColumn, topColumn } from "./layout.js";
import { state } from "./state.js";

export function wantedColumns() {
  return columnsFor(viewportW());
}

export function buildColumns(n) {
  els.grid.textContent = "";
  state.columns = [];
  for (var i = 0; i < n; i++) {
    var col = document.createElement("div");
    col.className = "col";
    els.grid.appendChild(col);
    state.columns.push({ el: col, height: 0, topAdded: 0 });
  }
  state.colCount = n;
  els.grid.setAttribute("data-columns", String(n));
}

/** First tile at least partly inside the viewport, and its offset. */
function viewportAnchor() {
  if (atTop()) return null;
  var best = null;
  var bestTop = Infinity;
  state.tiles.forEach(function (t) {
    var r = t.el.getBoundingClientRect();
    if (r.bottom > 0 && r.top < viewportH() && r.top < bestTop) { best = t; bestTop = r.top; }
  });
  return best ? { tile: best, top: bestTop } : null;
}

/** Rebuild the columns (when their number changes, or `force`), keeping the guest's place. */
export function relayout(force) {
  var n = wantedColumns();
  if (!force && n === state.colCount) return;
  var anchor = viewportAnchor();
  state.ghosts.forEach(function (g) { g.el.remove(); });
  state.ghosts.clear();
  buildColumns(n);
  for (var i = 0; i < state.rendered; i++) {
    var t = state.tiles.get(state.list[i].name);
    if (t) placeBottom(t);
  }
  if (anchor && anchor.tile.el.isConnected) {
    window.scrollBy(0, anchor.tile.el.getBoundingClientRect().top - anchor.top);
  }
}

export function placeBottom(t) {
  var c = shortestColumn(state.columns);
  state.columns[c].el.appendChild(t.el);
  state.columns[c].height += t.h;
  t.col = c;
}

export function placeTop(t) {
  var c = topColumn(state.columns);
  state.columns[c].el.insertBefore(t.el, state.columns[c].el.firstChild);
  state.columns[c].height += t.h;
  state.columns[c].topAdded += t.h;
  t.col = c;
}

/** In front of the tile `next`, in its column (capture order: a photo taken before it). */
export function placeBefore(t, next) {
  var c = next.col;
  state.columns[c].el.insertBefore(t.el, next.el);
  state.columns[c].height += t.h;
  t.col = c;
}

export function detach(t) {
  if (t.el.isConnected) t.el.remove();
  if (state.columns[t.col]) {
    state.columns[t.col].height = Math.max(0, state.columns[t.col].height - t.h);
  }
}
