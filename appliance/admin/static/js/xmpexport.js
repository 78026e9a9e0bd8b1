// "Export ratings" in the settings: every photo's stars and pick/reject as an XMP sidecar beside its
// archived original (never on the card), for Lightroom and Photo Mechanic (POST /api/xmp/export).
import { $, api, el, toast } from "./dom.js";

async function exportRatings(button) {
  button.disabled = true;
  button.textContent = "Exporting…";
  try {
    const res = await api("/api/xmp/export", { body: {} });
    toast(res.photos ? `Ratings of ${res.photos} photo${res.photos === 1 ? "" : "s"} exported (${res.written} sidecar${res.written === 1 ? "" : "s"} written)`
      : "No rated or flagged photos to export");
  } catch (e) { toast(`Could not export the ratings: ${e.message}`, { error: true, ms: 6000 }); }
  finally { button.disabled = false; button.textContent = "Export ratings"; }
}

const button = el("button", { type: "button", id: "xmp-export", onclick: () => exportRatings(button) }, "Export ratings");
$("#cleanup-card")?.before(el("section", { class: "card", id: "xmp-card", "aria-labelledby": "xmp-title" },
  el("h2", { id: "xmp-title" }, "Ratings for Lightroom"),
  el("p", { class: "muted small" }, "Writes each photo's stars and pick or reject as an XMP sidecar beside its original " +
    "in the archive (never on the card). Lightroom and Photo Mechanic read them when you import the archive."),
  el("div", { class: "row-actions" }, button)));
