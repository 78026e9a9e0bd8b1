/* A QR code as an SVG data: URL, drawn in the browser by qrcode-generator
 * (vendored from npm: web/vendor/qrcode-generator/, MIT). */

import qrcode from "../vendor/qrcode-generator/qrcode.mjs";

/** The SVG markup of a QR code for `text` (error correction M: survives a glare spot). */
export function qrSvg(text) {
  var qr = qrcode(0, "M"); // 0: the smallest version that holds the text
  qr.addData(String(text));
  qr.make();
  return qr.createSvgTag({ cellSize: 1, margin: 2, scalable: true });
}

/** An <img>-ready data: URL (the gallery's CSP allows img-src data:). */
export function qrDataUrl(text) {
  return "data:image/svg+xml;charset=utf-8," + encodeURIComponent(qrSvg(text));
}
