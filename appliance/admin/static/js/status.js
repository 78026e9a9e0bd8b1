// The always-visible status: header pill, details panel, card import banner; polled by admin.js.
import { $, api, el } from "./dom.js";
import { ago, bytes, cardPercent } from "./format.js";
import { state } from "./state.js";
import { loadBuffer } from "./buffer.js";
import { camerasLine } from "./cameras.js";
import { renderCameraReports, renderCardReport, renderLastError } from "./card_report.js";
import { detailsToggle } from "./report.js";

const since = (iso) => ago(iso, state.status?.server_time ? state.status.server_time * 1000 : Date.now());

export function renderStatus(s) {
  state.status = s;
  const node = $("#status");
  const offline = s.online === false;
  const busy = !offline && (s.queue.jobs > 0 || s.publishing > 0 || s.card.state === "importing");
  node.className = "status " + (offline ? "offline" : busy ? "busy" : s.online === null ? "unknown" : "online");
  const parts = [offline ? "Offline" : s.online === null ? "Not synced yet" : "Online"];
  if (s.publishing) parts.push(`${s.publishing} rendering`);
  if (s.queue.jobs) parts.push(`${s.queue.jobs} queued`);
  else if (!offline && s.last_upload_at) parts.push(since(s.last_upload_at));
  if ((s.second_copy || []).some((t) => t.problem)) parts.push("⚠ 2nd copy");
  $(".status-text", node).textContent = parts.join(" · ");
  $("#st-online").textContent = offline ? "Offline — uploads wait" : s.online === null ? "Not checked yet" : "Online";
  $("#st-queue").textContent = s.queue.jobs ? `${s.queue.jobs} jobs · ${bytes(s.queue.bytes)}` +
    (s.current_upload ? ` · uploading ${s.current_upload.split("/").pop()}` : "") : "Empty";
  $("#st-last").textContent = since(s.last_upload_at);
  $("#st-disk").textContent = `${bytes(s.disk.free_bytes)} of ${bytes(s.disk.total_bytes)}`;
  $("#st-buffer").textContent = `${s.buffer} photos · ${s.new} new`;
  $("#st-published").textContent = [`${s.published} published`, `${s.live} live`,
    s.publishing && `${s.publishing} rendering`, s.failed && `${s.failed} failed`].filter(Boolean).join(" · ");
  renderLastError($("#st-error"), s.last_error_explained);
  $("#st-cameras").textContent = camerasLine(s.cameras);
  renderCameraReports(s.camera_reports || []);
  renderCard(s.card);
  renderSecondCopy(s.second_copy || []);
  $("#tab-count-buffer").textContent = s.new ? String(s.new) : "";
  if (state.counts.all !== undefined && s.buffer !== state.counts.all) {
    // New photos from the card: refresh in place when the grid is at the top, else offer a button.
    if (window.scrollY < 80 && !state.ed && !state.loading) loadBuffer(true);
    else $("#fresh").hidden = false;
  }
}

function renderCard(card) {
  const banner = $("#card-banner");
  if (card.state === "importing") {
    const pct = cardPercent(card);
    banner.className = "banner";
    banner.replaceChildren(el("span", {}, `Importing card ${card.files_done}/${card.files_total}`),
      el("span", { class: "bar" }, el("i", { style: null })), el("b", {}, `${pct}%`));
    $(".bar i", banner).style.width = pct + "%";
    banner.hidden = false;
    $("#st-card").textContent = `Importing ${card.files_done}/${card.files_total} — do not remove`;
  } else if (card.state === "done") {
    renderCardReport(banner, card);
  } else {
    banner.hidden = true;
    $("#st-card").textContent = "No import running";
  }
}

// "Drive BACKUP: 1,204 / 1,210, 6 pending", one line per target; a missing drive is a warning.
export function secondCopyLine(t) {
  const n = (x) => x.toLocaleString("en-US");
  const where = `${t.target === "drive" ? "Drive" : "Bucket"} ${t.name}`;
  return `${where}: ${n(t.done)} / ${n(t.total)}, ${n(t.pending)} pending` + (t.problem ? ` — ${t.problem}` : "");
}

function renderSecondCopy(targets) {
  $("#st-second-copy-row").hidden = !targets.length;
  $("#st-second-copy").replaceChildren(...targets.map((t) =>
    el("div", { class: t.problem ? "warn-text" : null }, (t.problem ? "⚠ " : "") +
      secondCopyLine(t.problem_explained ? { ...t, problem: t.problem_explained.message } : t),
      detailsToggle(t.problem_explained?.details))));
}

export async function pollStatus() {
  try { renderStatus(await api("/api/status")); } catch (e) { $(".status-text").textContent = "No connection"; $("#status").className = "status offline"; }
}

$("#status").addEventListener("click", () => {
  const panel = $("#status-panel");
  panel.hidden = !panel.hidden;
  $("#status").setAttribute("aria-expanded", String(!panel.hidden));
});
