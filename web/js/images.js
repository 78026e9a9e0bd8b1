/* Which image URL to show, and the blurred placeholder painted under a tile. */

import { urlFor } from "./state.js";

// WebP: the manifest names one beside the web JPEG when the appliance made
// it (publish.webp). Used for the web size (lightbox, large tiles) once
// this browser has shown it can decode WebP; downloads stay JPEG.
var webpOk = false;
(function () {
  var probe = new Image();
  probe.onload = function () { webpOk = probe.width === 1; };
  probe.src = "data:image/webp;base64,UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA";
})();

/** URL of the web-size image to display (not to download). */
export function webUrl(e) { return urlFor(webpOk && e.webp ? e.webp : e.src); }

// The manifest's `ph`: a 3x3 grid of the photo's colours (nine #rgb, row by
// row). Painted as a 3x3 PNG that the browser stretches smoothly over the
// tile: a blurred preview of the photo until the thumbnail arrives.
var phCanvas = null;
export function placeholderUrl(ph) {
  if (!ph) return null;
  try {
    if (!phCanvas) {
      phCanvas = document.createElement("canvas");
      phCanvas.width = 3;
      phCanvas.height = 3;
    }
    var ctx = phCanvas.getContext("2d");
    var img = ctx.createImageData(3, 3);
    for (var i = 0; i < 9; i++) {
      for (var k = 0; k < 3; k++) img.data[i * 4 + k] = parseInt(ph.charAt(i * 3 + k), 16) * 17;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    return phCanvas.toDataURL("image/png");
  } catch (_) {
    return null; // canvas unavailable: the flat colour remains
  }
}
