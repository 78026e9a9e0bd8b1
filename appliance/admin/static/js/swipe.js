// A one-finger swipe on the editor's photo. Pure: node --test runs it.

// -1 (previous), 1 (next) or 0 for a touch from `start` ({x, y, t}) that ended at (x, y) at time t (ms).
export function swipeStep(start, x, y, t) {
  const dx = x - start.x, dy = y - start.y;
  return Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy) && t - start.t < 800 ? (dx < 0 ? 1 : -1) : 0;
}
