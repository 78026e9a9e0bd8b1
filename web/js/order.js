/* The order the guest sees the photos in: the lightbox's numbering and ←/→ follow it.
 *
 * Tiles on the page from top to bottom (their place in the masonry, not their place in the
 * manifest: a tall photo in one column can push the next one below a later photo in the other),
 * left to right on the same line; then the photos not rendered yet, in manifest order. Tiles that
 * were removed but keep their box (ghosts) and photos waiting behind the "new photos" pill are not
 * on the screen, so they are not in it. */

import { state } from "./state.js";

/** Sort key pairs [name, top, column, listIndex] into reading order (pure, for node tests). */
export function readingOrder(placed) {
  return placed.slice().sort(function (a, b) {
    return a[1] - b[1] || a[2] - b[2] || a[3] - b[3];
  }).map(function (p) { return p[0]; });
}

export function screenOrder() {
  var placed = [];
  var end = Math.min(state.rendered, state.list.length);
  for (var i = 0; i < end; i++) {
    var t = state.tiles.get(state.list[i].name);
    if (!t || t.el.classList.contains("tile--ghost")) continue;
    placed.push([state.list[i].name, t.el.offsetTop, t.col, i]);
  }
  var names = readingOrder(placed);
  for (var j = end; j < state.list.length; j++) names.push(state.list[j].name);
  return names;
}
