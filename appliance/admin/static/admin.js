// Gallery admin: buffer grid, publish sheet, live feed, status. Vanilla JS, no framework.
"use strict";
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const $ = (sel) => document.querySelector(sel);
const PAGE = 60;
let offset = 0;
let selected = null;

async function api(path, options = {}) {
  const init = { credentials: "same-origin", ...options, headers: { "Accept": "application/json", ...(options.headers || {}) } };
  if (options.body !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.headers["X-CSRFToken"] = csrf;
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(path, init);
  if (res.status === 401) { location.href = "/login"; throw new Error("login required"); }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else if (v !== null && v !== undefined) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function tile(p) {
  const badge = p.state === "published" ? el("span", { class: "badge published" }, "Live")
    : p.state ? el("span", { class: "badge" }, p.state) : "";
  const node = el("button", { class: "tile", "data-id": p.id, "aria-label": p.name, onclick: () => openSheet(p) },
    el("img", { src: p.thumb, alt: p.name, loading: "lazy", decoding: "async" }), badge);
  return node;
}

async function loadBuffer(reset = false) {
  if (reset) { offset = 0; $("#buffer").replaceChildren(); }
  const data = await api(`/api/buffer?limit=${PAGE}&offset=${offset}`);
  offset += data.photos.length;
  $("#buffer").append(...data.photos.map(tile));
  $("#buffer-count").textContent = data.total ? `(${data.total})` : "";
  $("#more").hidden = offset >= data.total;
  if (!data.total) $("#buffer").replaceChildren(el("p", { class: "empty" }, "No photos yet. Insert a card."));
}

function closeSheet() { document.querySelector(".sheet")?.remove(); selected = null; }

function openSheet(p) {
  closeSheet();
  selected = p;
  const sheet = el("div", { class: "sheet", role: "dialog", "aria-label": `Photo ${p.name}` },
    el("img", { src: p.thumb, alt: p.name }),
    el("div", { class: "meta" }, `${p.name} · ${p.capture_time || "no capture time"}${p.camera ? " · " + p.camera : ""}`),
    el("div", { class: "actions" },
      el("button", { onclick: closeSheet }, "Close"),
      el("button", { class: "primary", id: "publish", onclick: () => publish(p) }, "Publish")));
  document.body.append(sheet);
}

async function publish(p) {
  const button = $("#publish");
  button.disabled = true; button.textContent = "Publishing…";
  try {
    await api("/api/publish", { body: { id: p.id, recipe: {} } });
    closeSheet();
    await Promise.all([loadBuffer(true), loadLive()]);
  } catch (err) { button.disabled = false; button.textContent = `Failed: ${err.message}`; }
}

async function loadLive() {
  const data = await api("/api/live");
  $("#live-count").textContent = data.photos.length ? `(${data.photos.length})` : "";
  const rows = data.photos.map((p) => el("div", { class: "row", "data-name": p.name },
    el("img", { src: p.thumb, alt: "" }),
    el("div", { class: "grow" }, el("div", { class: "name" }, p.name),
      el("div", { class: "sub" }, p.error || p.published_at || p.state)),
    el("span", { class: `pill ${p.sync}` }, p.sync),
    p.state === "published" ? el("button", { class: "danger", onclick: () => unpublish(p) }, "Unpublish") : ""));
  $("#live").replaceChildren(...(rows.length ? rows : [el("p", { class: "empty" }, "Nothing published yet.")]));
}

async function unpublish(p) {
  if (!confirm(`Unpublish ${p.name}?`)) return;
  await api("/api/unpublish", { body: { id: p.id } });
  await Promise.all([loadLive(), loadBuffer(true)]);
}

async function refreshStatus() {
  try {
    const s = await api("/api/status");
    const node = $("#status");
    const state = s.online === false ? "offline" : s.queue.jobs ? "busy" : "online";
    node.className = `status ${state}`;
    const parts = [s.online === false ? "Offline" : "Online"];
    if (s.queue.jobs) parts.push(`${s.queue.jobs} queued (${(s.queue.bytes / 1e6).toFixed(1)} MB)`);
    if (s.importing) parts.push("importing");
    node.replaceChildren(el("span", { class: "dot" }), parts.join(" · "));
    const details = [];
    if (s.current_upload) details.push(`Uploading ${s.current_upload}`);
    if (s.last_success_at) details.push(`Last upload ${s.last_success_at}`);
    if (s.last_error) details.push(`Last error ${s.last_error_at || ""}: ${s.last_error}`);
    node.title = details.join("\n");
  } catch (err) { /* next poll */ }
}

document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => {
  document.querySelectorAll(".tabs button").forEach((x) => x.setAttribute("aria-selected", x === b));
  $("#buffer").hidden = b.dataset.tab !== "buffer";
  $("#more").hidden = b.dataset.tab !== "buffer" || $("#more").hidden;
  $("#live").hidden = b.dataset.tab !== "live";
  if (b.dataset.tab === "live") loadLive();
}));
$("#more").addEventListener("click", () => loadBuffer());
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") closeSheet();
  if (e.key === "Enter" && selected) publish(selected);
});

loadBuffer(true); loadLive(); refreshStatus();
setInterval(refreshStatus, 3000);
setInterval(() => { if (!document.hidden && !selected && offset <= PAGE) loadBuffer(true); loadLive(); }, 5000);
