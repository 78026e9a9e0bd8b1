// "Add photos": the phone's camera roll into the buffer. Each file is one POST /api/upload (the raw
// file as the body, imported like a card's file), a few at a time, with its own progress bar. When
// the Wi-Fi drops the file is sent again after a pause (safe: the import dedupes by content), a few
// times, then it fails with a plain reason. At the end: the same import report as a card's.
import { $, el } from "./dom.js";
import { bytes } from "./format.js";
import { reportCard } from "./report.js";

export const PARALLEL = 3; // files in flight at once
export const ATTEMPTS = 4; // tries per file when the connection drops
export const BACKOFF_MS = [1000, 2000, 4000]; // pause before the 2nd, 3rd, 4th try
const RETRY_STATUS = new Set([0, 408, 429, 502, 503, 504]); // the network or a gateway, not the file
const csrf = $('meta[name="csrf-token"]').content;
const WIFI = "The connection to the appliance dropped and did not come back after " +
  `${ATTEMPTS} tries. The photo is still on this device: add it again when the Wi-Fi is back.`;
const DONE_TEXT = { imported: "Added", archived: "Original archived", duplicates: "Already on the appliance",
  hidden: "Ignored (hidden file)", not_photo: "Ignored (not a photo)" };

let batch = null; // { items: [...], running, done }

// One try: resolves {status, data}; status 0 when the connection failed.
function send(item) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload?report=1"); // a refused file answers 200 {ok: false}: no console noise
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("X-Filename", encodeURIComponent(item.file.name));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.timeout = 10 * 60 * 1000;
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      item.row.dataset.sent = String(e.loaded); // bytes the browser reports sent (this try)
      progress(item, e.loaded / e.total);
    };
    xhr.upload.onload = () => { progress(item, 1); show(item, "Checking on the appliance…"); };
    xhr.onload = () => {
      let data = {};
      try { data = JSON.parse(xhr.responseText || "{}"); } catch { data = {}; }
      resolve({ status: xhr.status, data });
    };
    xhr.onerror = xhr.ontimeout = xhr.onabort = () => resolve({ status: 0, data: {} });
    xhr.send(item.file);
  });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
export const OFFLINE_WAIT_MS = 120_000; // while the device says it is offline, wait this long for it

// Before a retry: the pause; then, while the device knows it is offline, until the Wi-Fi is back.
async function pause(item, ms) {
  await wait(ms);
  if (navigator.onLine) return;
  show(item, "Waiting for the Wi-Fi to come back…");
  await new Promise((resolve) => {
    const done = () => { clearTimeout(timer); window.removeEventListener("online", done); resolve(); };
    const timer = setTimeout(done, OFFLINE_WAIT_MS);
    window.addEventListener("online", done);
  });
}

async function upload(item) {
  const maxMb = Number(input.dataset.maxMb || 0); // importer.upload_max_mb: refused before sending
  if (maxMb && item.file.size > maxMb * 1024 * 1024) {
    return finish(item, "failed", `The file is larger than this appliance accepts (${maxMb} MB).`);
  }
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    item.attempts = attempt;
    progress(item, 0);
    show(item, attempt === 1 ? "Sending…" : `Sending again (try ${attempt} of ${ATTEMPTS})…`);
    const { status, data } = await send(item);
    if (status === 401) { location.href = "/login?next=/"; return; }
    if (status >= 200 && status < 300 && data.ok !== false) return finish(item, data.category || "imported", "");
    if (data.ok === false || !RETRY_STATUS.has(status) || attempt === ATTEMPTS) {
      const reason = data.ok === false || !RETRY_STATUS.has(status) ? data.reason || data.error || `refused (${status})` : WIFI;
      return finish(item, data.category || "failed", reason, data.details);
    }
    show(item, `Connection lost — trying again in ${BACKOFF_MS[attempt - 1] / 1000} s`);
    await pause(item, BACKOFF_MS[attempt - 1]);
  }
}

function finish(item, category, reason, details) {
  Object.assign(item, { category, reason, details, done: true });
  item.row.dataset.state = category;
  progress(item, 1);
  show(item, reason || DONE_TEXT[category] || category);
}

function progress(item, fraction) {
  item.bar.value = Math.round(fraction * 100);
  item.bar.setAttribute("aria-valuetext", `${item.file.name}: ${item.bar.value}%`);
}

function show(item, text) { item.status.textContent = text; }

function row(file) {
  const item = { file, attempts: 0, done: false };
  item.bar = el("progress", { max: "100", value: "0", "aria-label": `Upload of ${file.name}` });
  item.status = el("span", { class: "up-status", "aria-live": "polite" }, "Waiting");
  item.row = el("li", { class: "up-file", "data-name": file.name, "data-state": "waiting" },
    el("div", { class: "up-line" }, el("span", { class: "up-name" }, file.name), el("span", { class: "muted small" }, bytes(file.size))),
    item.bar, item.status);
  return item;
}

// The report of this batch, counted like a card's (each server answer names its category).
export function batchReport(items) {
  const counts = {}, files = {};
  for (const it of items) {
    counts[it.category] = (counts[it.category] || 0) + 1;
    (files[it.category] ||= []).push({ name: it.file.name, reason: it.reason || "", details: it.details });
  }
  const trouble = (counts.unreadable || 0) + (counts.zero_byte || 0) + (counts.failed || 0);
  const kept = (counts.imported || 0) + (counts.archived || 0) + (counts.duplicates || 0);
  const verdict = trouble
    ? `${trouble} of ${items.length} ${items.length === 1 ? "file was" : "files were"} not added — they are only on this device`
    : kept ? `every photo is on the appliance${counts.duplicates ? " (duplicates were there already)" : ""}`
      : "there were no photos to add";
  return { counts, files, safe_to_remove: !trouble, verdict };
}

async function runBatch(files) {
  const panel = $("#upload-panel");
  const items = files.map(row);
  batch = { items, done: false };
  $("#upload-list").replaceChildren(...items.map((i) => i.row));
  $("#upload-report").replaceChildren();
  $("#upload-title").textContent = `Adding ${items.length} ${items.length === 1 ? "file" : "files"}`;
  $("#upload-retry").hidden = true;
  panel.hidden = false;
  panel.dataset.state = "running";
  const queue = [...items];
  const worker = async () => { while (queue.length) await upload(queue.shift()); };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  batch.done = true;
  panel.dataset.state = "done";
  const report = batchReport(items);
  $("#upload-title").textContent = "Upload finished";
  $("#upload-report").replaceChildren(reportCard(report, { title: "Upload report",
    safeText: "✓ All on the appliance", keepText: "⚠ Some files were not added", left: "not added" }));
  $("#upload-retry").hidden = !items.some((i) => i.category === "failed" && i.reason === WIFI);
}

const input = $("#upload-input");
$("#add-photos").addEventListener("click", () => { if (!batch || batch.done) input.click(); else $("#upload-panel").hidden = false; });
input.addEventListener("change", () => {
  const files = [...input.files];
  input.value = "";
  if (files.length) runBatch(files);
});
$("#upload-close").addEventListener("click", () => { $("#upload-panel").hidden = true; });
$("#upload-retry").addEventListener("click", () => {
  if (batch && batch.done) runBatch(batch.items.filter((i) => i.category === "failed" && i.reason === WIFI).map((i) => i.file));
});
