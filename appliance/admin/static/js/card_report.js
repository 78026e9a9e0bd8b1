// The card banner once an import is done: its report (js/report.js) saying "Safe to remove" only when
// every file was imported and verified or deliberately ignored, else "Keep the card" and why; each
// camera's latest burst of frames (FTP, USB) in the status panel; its last error in plain words.
import { $, el } from "./dom.js";
import { shortTime } from "./format.js";
import { plainError, reportCard } from "./report.js";

let shownKey = "";

export function renderCardReport(banner, card) {
  const key = `${card.import_id}:${card.finished_at}`;
  const dismissed = localStorage.getItem("cardDismissed") === card.finished_at;
  banner.hidden = dismissed;
  const why = card.report?.verdict || "";
  $("#st-card").textContent = card.safe_to_remove ? "Safe to remove" : why.charAt(0).toUpperCase() + why.slice(1);
  if (key === shownKey && banner.classList.contains("report-banner")) return; // keep what is open
  shownKey = key;
  const title = card.report?.title || "Card";
  banner.className = "banner done report-banner" + (card.safe_to_remove ? "" : " keep");
  banner.replaceChildren(reportCard(card.report || { counts: { imported: card.imported } }, {
    title: `${title} imported`,
    keepText: title === "Card" ? "⚠ Keep the card" : "⚠ Not everything was imported",
    safeText: title === "Card" ? "✓ Safe to remove" : "✓ Everything imported",
    left: title === "Card" ? "left on the card" : "left where it was",
    note: card.safe_to_remove || title !== "Card" ? "" : "Do not format it: those files are only on the card.",
    onClose: () => { localStorage.setItem("cardDismissed", card.finished_at); banner.hidden = true; },
  }));
}

export function renderLastError(node, explained) {
  node.hidden = !explained;
  node.replaceChildren(...(explained ? [el("span", { class: "muted" }, "Last error: "), plainError(explained)] : []));
}

let camerasShown = "";

// One report per camera that sent frames lately, under the status panel's Cameras line.
export function renderCameraReports(reports) {
  let box = $("#st-camera-reports");
  if (!box) {
    box = el("div", { class: "camera-reports", id: "st-camera-reports" });
    $("#st-error").before(box); // under the panel's list (a <dl> holds only its rows)
  }
  const sig = JSON.stringify(reports);
  if (sig === camerasShown) return; // keep what is open
  camerasShown = sig;
  box.hidden = !reports.length;
  box.replaceChildren(...reports.map((r) => reportCard(r, {
    title: `${r.title} ${r.name}: frames since ${shortTime(r.since)}`,
    safeText: "✓ Every frame is on the appliance", keepText: "⚠ Keep the camera's card",
    left: "left on the camera" })));
}
