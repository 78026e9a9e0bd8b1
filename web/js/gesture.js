/* Lightbox swipes: horizontal flick changes photo, downward flick closes. Pure. */

/** The image's transform while a finger drags it by (dx, dy), or null to leave it. */
export function dragTransform(dx, dy) {
  if (Math.abs(dx) > Math.abs(dy)) return "translateX(" + dx + "px)";
  if (dy > 0) return "translateY(" + dy + "px)";
  return null;
}

/**
 * What a finished swipe does: +1 (next photo), -1 (previous), "close", or
 * null. A fast flick (under 300 ms) needs 30px sideways, a slow drag 60px.
 */
export function swipeAction(dx, dy, ms) {
  var fast = ms < 300;
  var minX = fast ? 30 : 60;
  if (Math.abs(dx) > minX && Math.abs(dx) > Math.abs(dy) * 1.2) return dx < 0 ? 1 : -1;
  if (dy > 90 && dy > Math.abs(dx) * 1.5) return "close";
  return null;
}
