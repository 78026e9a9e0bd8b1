/* Layout maths of the masonry: how many columns, which column a tile goes to,
 * how tall a tile is, and the tiles' `sizes`. Pure (columns are plain
 * {height, topAdded} records here; the DOM side is in columns.js).
 *
 * Each tile goes to the column with the least total height, known up front
 * from the manifest's w/h, so nothing jumps while the images load.
 */

/** Columns for a viewport `width` CSS px wide: 3 from 1024px, 2 from 360px, else 1. */
export function columnsFor(width) {
  if (width >= 1024) return 3;
  if (width >= 360) return 2;
  return 1;
}

// `sizes` for the tiles: the slot widths of the CSS (3 columns in a max
// 1800px container, 2, or 1), scaled down on purpose so the browser takes
// the thumbnail unless it would be blown up a lot. A grid tile is small:
// device pixels are counted up to 2 per CSS pixel (a 3x phone gets no 3x
// tiles), and a thumbnail covering 80% of that is good enough. Without
// this, phones would fetch the 2048px web JPEG (10-20x the bytes) for
// every tile, and portrait thumbnails (480px tall, 320px wide) would lose
// almost everywhere. The lightbox always shows the web size.
export var TILE_MAX_DENSITY = 2;
export var TILE_COVER = 0.8;

/** The tiles' `sizes` attribute for a devicePixelRatio of `dpr` (falsy: 1). */
export function sizesFor(dpr) {
  dpr = dpr || 1;
  var f = (Math.min(dpr, TILE_MAX_DENSITY) / dpr) * TILE_COVER;
  var s = function (len) { return "calc(" + len + " * " + f.toFixed(3) + ")"; };
  return "(min-width: 1024px) " + s("min(33vw, 600px)") + ", (min-width: 360px) " + s("50vw") +
    ", " + s("100vw");
}

export function tileUnits(entry) {
  return entry.h / entry.w + 0.02; // height in column widths, plus the gap
}

/** Index of the column with the least height (the first of equals). */
export function shortestColumn(columns) {
  var best = 0;
  for (var i = 1; i < columns.length; i++) {
    if (columns[i].height < columns[best].height - 1e-9) best = i;
  }
  return best;
}

/**
 * The column a new arrival enters at the top of. New arrivals spread over
 * the top row (least added at the top so far, then the shortest), so the
 * columns' bottoms keep the balance they had.
 */
export function topColumn(columns) {
  var c = 0;
  for (var i = 1; i < columns.length; i++) {
    var a = columns[i], b = columns[c];
    if (a.topAdded < b.topAdded - 1e-9 || (Math.abs(a.topAdded - b.topAdded) < 1e-9 && a.height < b.height - 1e-9)) c = i;
  }
  return c;
}
