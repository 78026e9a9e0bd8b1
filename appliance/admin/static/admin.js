// Gallery admin: buffer, editor, live feed, settings, status. Vanilla JS, no framework, no CDN.
// Keys: Space/→ next, Shift+Space/← previous, Enter publish, Delete reject, R rotate, U unpublish, Esc close.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const csrf = $('meta[name="csrf-token"]').content;
const boot = JSON.parse($("#boot").textContent);
const PAGE = boot.page || 60;
const LIMITS = { exposure: [-2, 2, 0.1], straighten: [-10, 10, 0.5], scale: [1, 2, 0.05] };
const LABELS = { exposure: (v) => `${v > 0 ? "+" : ""}${v.toFixed(1)} EV`, straighten: (v) => `${v.toFixed(1)}°`,
  scale: (v) => `${Math.round(v * 100)}%` };

const state = {
  tab: "buffer", filter: "all", photos: [], next: null, loading: false, total: 0, counts: {},
  status: boot.status, live: [], liveSig: "", settings: null,
  ed: null, // { index, recipe, shown, tool, seq }
};

// -- helpers ------------------------------------------------------------------------------------
async function api(path, { method, body, form } = {}) {
  const init = { credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined || form !== undefined || (method && method !== "GET")) {
    init.method = method || "POST";
    init.headers["X-CSRFToken"] = csrf;
    if (form) init.body = form;
    else if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  }
  const res = await fetch(path, init);
  if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("login required"); }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
  return data;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== "") node.append(c);
  return node;
}

function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

function ago(iso) {
  if (!iso) return "never";
  const t = Date.parse(iso.endsWith("Z") || /[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
  if (Number.isNaN(t)) return iso;
  const serverNow = state.status?.server_time ? state.status.server_time * 1000 : Date.now();
  const s = Math.max(0, Math.round((serverNow - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function shortTime(iso) {
  if (!iso) return "";
  const m = /T(\d\d:\d\d)(:\d\d)?/.exec(iso);
  return m ? m[1] + (m[2] || "") : iso;
}

let toastTimer = 0;
function toast(message, { error = false, action = null, ms = 3200 } = {}) {
  const node = $("#toast");
  node.className = "toast" + (error ? " error" : "");
  node.replaceChildren(el("span", {}, message));
  if (action) node.append(el("button", { type: "button", onclick: () => { node.hidden = true; action.run(); } }, action.label));
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, ms);
}

function confirmSheet(title, text, okLabel = "OK") {
  return new Promise((resolve) => {
    const wrap = $("#sheet");
    $("#sheet-title").textContent = title;
    $("#sheet-text").textContent = text;
    const ok = $('[data-sheet="ok"]', wrap);
    ok.textContent = okLabel;
    const done = (answer) => { wrap.hidden = true; wrap.onclick = null; document.removeEventListener("keydown", keys, true); resolve(answer); };
    const keys = (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); done(false); }
      if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); done(true); }
    };
    wrap.onclick = (e) => {
      if (e.target === wrap || e.target.dataset.sheet === "cancel") done(false);
      else if (e.target.dataset.sheet === "ok") done(true);
    };
    document.addEventListener("keydown", keys, true);
    wrap.hidden = false;
    ok.focus();
  });
}

// -- status (always visible) -------------------------------------------------------------------------
function renderStatus(s) {
  state.status = s;
  const node = $("#status");
  const offline = s.online === false;
  const busy = !offline && (s.queue.jobs > 0 || s.publishing > 0 || s.card.state === "importing");
  node.className = "status " + (offline ? "offline" : busy ? "busy" : s.online === null ? "unknown" : "online");
  const parts = [offline ? "Offline" : s.online === null ? "Not synced yet" : "Online"];
  if (s.publishing) parts.push(`${s.publishing} rendering`);
  if (s.queue.jobs) parts.push(`${s.queue.jobs} queued`);
  else if (!offline && s.last_upload_at) parts.push(ago(s.last_upload_at));
  $(".status-text", node).textContent = parts.join(" · ");
  $("#st-online").textContent = offline ? "Offline — uploads wait" : s.online === null ? "Not checked yet" : "Online";
  $("#st-queue").textContent = s.queue.jobs ? `${s.queue.jobs} jobs · ${bytes(s.queue.bytes)}` : "Empty";
  $("#st-last").textContent = ago(s.last_upload_at);
  $("#st-disk").textContent = `${bytes(s.disk.free_bytes)} of ${bytes(s.disk.total_bytes)}`;
  $("#st-buffer").textContent = `${s.buffer} photos · ${s.new} new`;
  $("#st-published").textContent = [`${s.published} published`, `${s.live} live`,
    s.publishing && `${s.publishing} rendering`, s.failed && `${s.failed} failed`].filter(Boolean).join(" · ");
  const err = $("#st-error");
  err.hidden = !s.last_error;
  err.textContent = s.last_error ? `Last error: ${s.last_error}` : "";
  const card = s.card;
  const banner = $("#card-banner");
  if (card.state === "importing") {
    const pct = card.bytes_total ? Math.round((100 * card.bytes_done) / card.bytes_total)
      : card.files_total ? Math.round((100 * card.files_done) / card.files_total) : 0;
    banner.className = "banner";
    banner.replaceChildren(el("span", {}, `Importing card ${card.files_done}/${card.files_total}`),
      el("span", { class: "bar" }, el("i", { style: null })), el("b", {}, `${pct}%`));
    $(".bar i", banner).style.width = pct + "%";
    banner.hidden = false;
    $("#st-card").textContent = `Importing ${card.files_done}/${card.files_total} — do not remove`;
  } else if (card.state === "done") {
    banner.className = "banner done";
    banner.replaceChildren(el("span", {}, `✓ Card imported (${card.imported} new) — safe to remove`),
      el("button", { type: "button", class: "close", "aria-label": "Dismiss", onclick: () => {
        localStorage.setItem("cardDismissed", card.finished_at); banner.hidden = true; } }, "✕"));
    banner.hidden = localStorage.getItem("cardDismissed") === card.finished_at;
    $("#st-card").textContent = "Safe to remove";
  } else {
    banner.hidden = true;
    $("#st-card").textContent = "No import running";
  }
  $("#tab-count-buffer").textContent = s.new ? String(s.new) : "";
  if (state.counts.all !== undefined && s.buffer !== state.counts.all) {
    // New photos from the card: refresh in place when the grid is at the top, else offer a button.
    if (window.scrollY < 80 && !state.ed && !state.loading) loadBuffer(true);
    else $("#fresh").hidden = false;
  }
}

async function pollStatus() {
  try { renderStatus(await api("/api/status")); } catch (e) { $(".status-text").textContent = "No connection"; $("#status").className = "status offline"; }
}

$("#status").addEventListener("click", () => {
  const panel = $("#status-panel");
  panel.hidden = !panel.hidden;
  $("#status").setAttribute("aria-expanded", String(!panel.hidden));
});

// -- buffer ---------------------------------------------------------------------------------------------
function badge(p) {
  if (p.rejected) return el("span", { class: "badge" }, "Rejected");
  if (p.state === "published") return el("span", { class: "badge" + (p.live ? " live" : "") }, p.live ? "Live" : "Uploading");
  if (p.state === "failed") return el("span", { class: "badge failed" }, "Failed");
  if (p.state === "queued" || p.state === "processing") return el("span", { class: "badge" }, "Publishing");
  return null;
}

function tile(p, index) {
  const img = el("img", { src: p.thumb, alt: p.name, loading: "lazy", decoding: "async", width: 400, height: 400 });
  img.addEventListener("load", () => img.classList.add("ok"), { once: true });
  return el("button", { type: "button", class: "tile" + (p.rejected ? " rejected" : ""), "data-id": p.id,
    "data-index": index, "aria-label": p.name, onclick: () => openEditor(index) }, img, badge(p));
}

function renderCounts(counts) {
  state.counts = counts;
  for (const b of $$("[data-count]")) b.textContent = counts[b.dataset.count] ?? "";
}

function appendPhotos(data) {
  const start = state.photos.length;
  state.photos.push(...data.photos);
  state.next = data.next;
  state.total = data.total;
  renderCounts(data.counts);
  const grid = $("#grid");
  if (!state.photos.length) {
    const msg = { all: "No photos yet. Insert a card.", new: "Nothing new — all photos handled.",
      published: "Nothing published yet.", rejected: "No rejected photos." }[state.filter];
    grid.replaceChildren(el("p", { class: "empty" }, msg));
    return;
  }
  grid.append(...data.photos.map((p, i) => tile(p, start + i)));
}

async function loadBuffer(reset = false) {
  if (state.loading || (!reset && !state.next)) return;
  state.loading = true;
  try {
    const params = new URLSearchParams({ limit: PAGE, filter: state.filter });
    if (!reset && state.next) params.set("cursor", state.next);
    const data = await api("/api/buffer?" + params);
    if (reset) { state.photos = []; $("#grid").replaceChildren(); $("#fresh").hidden = true; }
    appendPhotos(data);
  } catch (e) { toast(e.message, { error: true }); }
  finally { state.loading = false; }
  if (state.next && sentinelVisible) loadBuffer();
}

function updateTile(index) {
  const p = state.photos[index];
  const old = $(`.tile[data-index="${index}"]`);
  if (old && p) old.replaceWith(tile(p, index));
}

let sentinelVisible = false;
new IntersectionObserver((entries) => {
  sentinelVisible = entries.some((e) => e.isIntersecting);
  if (sentinelVisible) loadBuffer();
}, { rootMargin: "1200px 0px" }).observe($("#sentinel"));

for (const chip of $$(".chips button")) {
  chip.addEventListener("click", () => {
    state.filter = chip.dataset.filter;
    for (const c of $$(".chips button")) c.setAttribute("aria-selected", String(c === chip));
    window.scrollTo({ top: 0 });
    loadBuffer(true);
  });
}
$("#fresh").addEventListener("click", () => { window.scrollTo({ top: 0, behavior: "smooth" }); loadBuffer(true); });

// -- editor ---------------------------------------------------------------------------------------------
const neutral = () => ({ exposure: 0, rotate: 0, straighten: 0, scale: 1 });

function previewUrl(p, r) {
  const q = new URLSearchParams({ exposure: r.exposure.toFixed(2), rotate: r.rotate, straighten: r.straighten.toFixed(2),
    scale: r.scale.toFixed(2), v: state.status?.watermark_version ?? 0 });
  return `/api/preview/${p.id}?${q}`;
}

function openEditor(index) {
  const p = state.photos[index];
  if (!p) return;
  const first = !state.ed;
  state.ed = { index, recipe: neutral(), shown: null, tool: state.ed?.tool || "exposure", seq: 0 };
  if (first) history.pushState({ editor: true }, "", location.hash || "#buffer");
  $("#editor").hidden = false;
  document.body.style.overflow = "hidden";
  $$(".tile.current").forEach((t) => t.classList.remove("current"));
  $(`.tile[data-index="${index}"]`)?.classList.add("current");
  $("#ed-name").textContent = p.name;
  $("#ed-meta").textContent = [p.capture_time ? p.capture_time.replace("T", " ").slice(0, 19) : "no capture time",
    p.camera, p.width && `${p.width}×${p.height}`].filter(Boolean).join(" · ");
  $("#ed-pos").textContent = `${index + 1} / ${state.total}`;
  const img = $("#ed-img");
  img.style.transform = ""; img.style.filter = "";
  img.src = p.thumb; // instant, then the real pipeline's preview replaces it
  img.dataset.src = "";
  renderEdState(p);
  selectTool(state.ed.tool);
  refreshPreview(true);
  if (index >= state.photos.length - 5) loadBuffer();
}

function closeEditor(fromHistory = false) {
  if (!state.ed) return;
  const index = state.ed.index;
  state.ed = null;
  $("#editor").hidden = true;
  document.body.style.overflow = "";
  if (!fromHistory && history.state?.editor) history.back();
  $(`.tile[data-index="${index}"]`)?.scrollIntoView({ block: "nearest" });
}
window.addEventListener("popstate", () => { if (state.ed) closeEditor(true); });

function renderEdState(p) {
  const box = $("#ed-state");
  let msg = null, failed = false, unpublish = false;
  if (p.rejected) msg = "Rejected — publish to bring it back";
  else if (p.state === "published") { msg = p.live ? "✓ Live in the gallery" : "Published — uploading"; unpublish = true; }
  else if (p.state === "queued" || p.state === "processing") msg = "Publishing…";
  else if (p.state === "failed") { msg = "Publishing failed"; failed = true; }
  box.hidden = !msg;
  box.className = "ed-state" + (failed ? " failed" : "");
  box.replaceChildren(el("span", {}, msg || ""));
  if (unpublish) box.append(el("button", { type: "button", class: "danger", onclick: () => unpublishPhoto(p) }, "Unpublish (U)"));
  $('[data-ed="publish"]').textContent = p.state === "published" ? "Publish again" : "Publish";
}

function selectTool(tool) {
  state.ed.tool = tool;
  for (const b of $$(".ed-tools button")) b.setAttribute("aria-selected", String(b.dataset.tool === tool));
  const [min, max, step] = LIMITS[tool];
  const range = $("#ed-range");
  Object.assign(range, { min, max, step });
  range.value = state.ed.recipe[tool];
  range.setAttribute("aria-label", tool);
  renderToolValues();
}

function renderToolValues() {
  for (const b of $$("[data-v]")) b.textContent = LABELS[b.dataset.v](state.ed.recipe[b.dataset.v]);
}

// Instant feedback with CSS while the server renders the real thing (relative to what is shown).
function approximate() {
  const { recipe: r, shown: s } = state.ed;
  const img = $("#ed-img");
  if (!s) return;
  const turn = r.rotate - s.rotate + (r.straighten - s.straighten);
  const zoom = r.scale / s.scale;
  img.style.transform = turn || zoom !== 1 ? `rotate(${turn}deg) scale(${zoom})` : "";
  const gain = Math.pow(2, (r.exposure - s.exposure) / 2.2);
  img.style.filter = gain !== 1 ? `brightness(${gain.toFixed(3)})` : "";
}

let previewTimer = 0;
function refreshPreview(now = false) {
  clearTimeout(previewTimer);
  approximate();
  previewTimer = setTimeout(async () => {
    const ed = state.ed;
    if (!ed) return;
    const p = state.photos[ed.index];
    const recipe = { ...ed.recipe };
    const seq = ++ed.seq;
    const url = previewUrl(p, recipe);
    $("#ed-busy").hidden = false;
    try {
      // The server renders with the real pipeline (and caches briefly); the blob is shown as is.
      const res = await fetch(url, { credentials: "same-origin" });
      if (!res.ok) throw new Error((await res.json().catch(() => ({}))).error || "Preview failed");
      const blob = await res.blob();
      if (state.ed !== ed || seq !== ed.seq) return;
      const img = $("#ed-img");
      const shown = URL.createObjectURL(blob);
      await new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; img.src = shown; });
      if (img.dataset.blob) URL.revokeObjectURL(img.dataset.blob);
      img.dataset.blob = shown;
      img.dataset.src = url;
      ed.shown = recipe;
      approximate();
    } catch (e) {
      if (state.ed === ed && seq === ed.seq) toast(e.message, { error: true });
    } finally {
      if (state.ed === ed && seq === ed.seq) $("#ed-busy").hidden = true;
    }
  }, now ? 0 : 220);
}

function onRange() {
  const tool = state.ed.tool;
  state.ed.recipe[tool] = Number($("#ed-range").value);
  renderToolValues();
  refreshPreview();
}

function rotate() {
  state.ed.recipe.rotate = (state.ed.recipe.rotate + 90) % 360;
  refreshPreview(true);
}

function resetEdits() {
  state.ed.recipe = neutral();
  selectTool(state.ed.tool);
  refreshPreview(true);
}

function step(delta) {
  if (!state.ed) return;
  const next = state.ed.index + delta;
  if (next < 0) return;
  if (next >= state.photos.length) {
    if (state.next) loadBuffer().then(() => { if (state.photos[next]) openEditor(next); });
    else toast("That was the last photo");
    return;
  }
  openEditor(next);
}

function recipeBody(r) {
  const out = {};
  for (const k of ["exposure", "straighten"]) if (r[k]) out[k] = Math.round(r[k] * 100) / 100;
  if (r.rotate) out.rotate = r.rotate;
  if (r.scale !== 1) out.scale = Math.round(r.scale * 100) / 100;
  return out;
}

async function publishCurrent() {
  const ed = state.ed;
  if (!ed) return;
  const p = state.photos[ed.index];
  const button = $('[data-ed="publish"]');
  button.disabled = true;
  try {
    const res = await api("/api/publish", { body: { id: p.id, recipe: recipeBody(ed.recipe) } });
    Object.assign(p, { state: res.state, rejected: false, live: false, publication_id: res.id });
    updateTile(ed.index);
    toast(`Publishing ${res.name}`);
    pollStatus();
    step(1);
  } catch (e) { toast(e.message, { error: true }); }
  finally { button.disabled = false; }
}

async function rejectCurrent() {
  const ed = state.ed;
  if (!ed) return;
  const index = ed.index;
  const p = state.photos[index];
  try {
    await api("/api/reject", { body: { id: p.id } });
    p.rejected = true;
    updateTile(index);
    toast(`Rejected ${p.name}`, { action: { label: "Undo", run: async () => {
      await api("/api/restore", { body: { id: p.id } }); p.rejected = false; updateTile(index);
    } } });
    step(1);
  } catch (e) { toast(e.message, { error: true }); }
}

async function unpublishPhoto(p) {
  if (!p.publication_id) return;
  if (!(await confirmSheet(`Unpublish ${p.name}?`, "Guests stop seeing it within seconds. The original stays in the buffer.", "Unpublish"))) return;
  try {
    await api("/api/unpublish", { body: { id: p.publication_id } });
    p.state = "unpublished"; p.live = false;
    const index = state.photos.indexOf(p);
    if (index >= 0) updateTile(index);
    if (state.ed && state.photos[state.ed.index] === p) renderEdState(p);
    toast(`Unpublished ${p.name}`);
    loadLive();
  } catch (e) { toast(e.message, { error: true }); }
}

$("#ed-range").addEventListener("input", onRange);
for (const b of $$(".ed-tools button")) b.addEventListener("click", () => selectTool(b.dataset.tool));
$("#editor").addEventListener("click", (e) => {
  const action = e.target.closest("[data-ed]")?.dataset.ed;
  if (!action) return;
  ({ close: () => closeEditor(), prev: () => step(-1), next: () => step(1), rotate, reset: resetEdits,
    publish: publishCurrent, reject: rejectCurrent })[action]();
});

// Swipe left/right on the photo for next/previous.
let touch = null;
$("#ed-stage").addEventListener("touchstart", (e) => {
  if (e.touches.length === 1) touch = { x: e.touches[0].clientX, y: e.touches[0].clientY, t: Date.now() };
}, { passive: true });
$("#ed-stage").addEventListener("touchend", (e) => {
  if (!touch) return;
  const dx = e.changedTouches[0].clientX - touch.x, dy = e.changedTouches[0].clientY - touch.y;
  if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy) && Date.now() - touch.t < 800) step(dx < 0 ? 1 : -1);
  touch = null;
}, { passive: true });

// -- live feed ------------------------------------------------------------------------------------------
const SYNC_TEXT = { publishing: "Rendering", queued: "Queued", uploading: "Uploading", retrying: "Retrying", live: "Live",
  failed: "Failed" };

function liveRow(p) {
  const sub = p.error ? el("div", { class: "sub err" }, p.error)
    : el("div", { class: "sub" }, p.live_at ? `Live since ${shortTime(p.live_at)}` : p.published_at
      ? `Published ${shortTime(p.published_at)}` : `Requested ${shortTime(p.requested_at)}`);
  return el("div", { class: "row", role: "listitem", tabindex: 0, "data-id": p.id, "data-name": p.name, "data-sync": p.sync },
    el("img", { src: p.thumb, alt: "", loading: "lazy", width: 60, height: 60 }),
    el("div", { class: "grow" }, el("div", { class: "name" }, el("span", { class: `pill ${p.sync}` }, SYNC_TEXT[p.sync] || p.sync), p.name), sub),
    p.state === "published" ? el("button", { type: "button", class: "danger unpub", onclick: () => unpublishLive(p) }, "Unpublish")
      : p.state === "failed" ? el("button", { type: "button", class: "unpub", onclick: () => retryLive(p) }, "Retry") : null);
}

async function retryLive(p) {
  try { await api("/api/retry", { body: { id: p.id } }); toast(`Publishing ${p.name} again`); loadLive(); }
  catch (e) { toast(e.message, { error: true }); }
}

async function loadLive() {
  try {
    const data = await api("/api/live");
    const sig = JSON.stringify(data.photos);
    const published = data.photos.filter((p) => p.state === "published");
    const live = published.filter((p) => p.sync === "live").length;
    $("#tab-count-live").textContent = published.length ? String(published.length) : "";
    $("#live-summary").textContent = `${live} live · ${published.length - live} on the way`;
    if (sig === state.liveSig) return;
    state.liveSig = sig;
    state.live = data.photos;
    const focused = document.activeElement?.closest?.(".row")?.dataset.id;
    $("#live-list").replaceChildren(...(data.photos.length ? data.photos.map(liveRow)
      : [el("p", { class: "empty" }, "Nothing published yet. Open a photo in the buffer and tap Publish.")]));
    if (focused) $(`.row[data-id="${focused}"]`)?.focus();
  } catch (e) { /* the status bar shows connection trouble */ }
}

async function unpublishLive(p) {
  if (!(await confirmSheet(`Unpublish ${p.name}?`, "Guests stop seeing it within seconds. The original stays in the buffer.", "Unpublish"))) return;
  try {
    await api("/api/unpublish", { body: { id: p.id } });
    toast(`Unpublished ${p.name}`);
    const photo = state.photos.find((x) => x.publication_id === p.id);
    if (photo) { photo.state = "unpublished"; photo.live = false; updateTile(state.photos.indexOf(photo)); }
    loadLive();
  } catch (e) { toast(e.message, { error: true }); }
}

// -- settings -------------------------------------------------------------------------------------------
async function loadSettings() {
  try {
    const s = await api("/api/settings");
    state.settings = s;
    fillEvent(s.event);
    fillWatermark(s.watermark);
    fillCredits(s.credits);
    fillEvents(s.events);
    fillFolders(s.folders);
    fillCleanup(s.cleanup);
  } catch (e) { toast(e.message, { error: true }); }
}

function fillEvent(e) {
  if (!e) return;
  const f = $("#form-event");
  f.title.value = e.event.title; f.subtitle.value = e.event.subtitle; f.gallery_url.value = e.gallery_url || "";
  $("#event-title").textContent = e.event.title;
  $("#event-slug").textContent = e.event.slug;
  const img = $("#hero-img");
  img.hidden = !e.hero;
  if (e.hero) img.src = e.hero.thumb;
  $("#hero-name").textContent = e.hero ? e.hero.name : "None";
  f.dataset.hero = e.hero ? e.hero.publication_id : "";
}

$("#form-event").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  try {
    const body = { title: f.title.value, subtitle: f.subtitle.value, gallery_url: f.gallery_url.value.trim() };
    if (f.dataset.heroChanged) body.hero_publication_id = f.dataset.hero ? Number(f.dataset.hero) : null;
    fillEvent(await api("/api/settings/event", { method: "PUT", body }));
    delete f.dataset.heroChanged;
    toast("Event page saved — the gallery updates in a few seconds");
  } catch (e) { toast(e.message, { error: true }); }
});

$("#hero-pick").addEventListener("click", async () => {
  const picker = $("#hero-picker");
  if (!picker.hidden) { picker.hidden = true; return; }
  await loadLive();
  const published = state.live.filter((p) => p.state === "published");
  const f = $("#form-event");
  const choose = (p) => () => {
    f.dataset.hero = p ? p.id : ""; f.dataset.heroChanged = "1";
    $("#hero-img").hidden = !p; if (p) $("#hero-img").src = p.thumb;
    $("#hero-name").textContent = p ? `${p.name} (save to apply)` : "None (save to apply)";
    picker.hidden = true;
  };
  picker.replaceChildren(el("button", { type: "button", onclick: choose(null), "aria-label": "No cover" }, "None"),
    ...published.map((p) => el("button", { type: "button", onclick: choose(p), "aria-label": p.name },
      el("img", { src: p.thumb, alt: "", loading: "lazy" }))));
  if (!published.length) picker.append(el("p", { class: "muted small" }, "Publish a photo first."));
  picker.hidden = false;
});

function wmForm() { return $("#form-watermark"); }

function fillWatermark(w) {
  const f = wmForm(), s = w.watermark;
  state.status.watermark_version = w.version;
  for (const r of f.querySelectorAll('[name="kind"]')) r.checked = r.value === s.kind;
  for (const r of f.querySelectorAll('[name="position"]')) r.checked = r.value === s.position;
  f.text.value = s.text; f.opacity.value = s.opacity; f.size.value = s.size;
  f.dataset.png = s.png || "";
  syncWatermarkForm();
}

function wmDraft() {
  const f = wmForm();
  const draft = { kind: f.querySelector('[name="kind"]:checked')?.value || "none",
    position: f.querySelector('[name="position"]:checked')?.value || "bottom-right",
    text: f.text.value, opacity: Number(f.opacity.value), size: Number(f.size.value) };
  if (draft.kind === "image" && f.dataset.png) draft.png = f.dataset.png;
  return draft;
}

let wmTimer = 0;
function syncWatermarkForm() {
  const f = wmForm(), d = wmDraft();
  for (const n of f.querySelectorAll("[data-kind]")) {
    n.hidden = n.dataset.kind === "mark" ? d.kind === "none" : n.dataset.kind !== d.kind;
  }
  f["opacity-out"].value = `${Math.round(d.opacity * 100)}%`;
  f["size-out"].value = `${Math.round(d.size * 100)}% of the short edge`;
  clearTimeout(wmTimer);
  wmTimer = setTimeout(async () => {
    const ready = d.kind === "none" || (d.kind === "text" && d.text.trim()) || (d.kind === "image" && d.png);
    const img = $("#wm-preview"), note = $("#wm-note");
    if (!ready) { note.textContent = d.kind === "text" ? "Type the text to preview it." : "Choose a PNG to preview it."; return; }
    const res = await fetch("/api/settings/watermark/preview?" + new URLSearchParams(d), { credentials: "same-origin" });
    if (res.ok) {
      const blob = await res.blob();
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(blob); img.hidden = false; note.textContent = "Preview on a photo from the buffer.";
    } else {
      const data = await res.json().catch(() => ({}));
      img.hidden = true; note.textContent = data.error || "No preview.";
    }
  }, 300);
}

wmForm().addEventListener("input", (e) => { if (e.target.name !== "image") syncWatermarkForm(); });
wmForm().image.addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("png", file);
  try {
    await api("/api/settings/watermark.png", { method: "PUT", form });
    fillWatermark(await api("/api/settings/watermark"));
    toast("Watermark image uploaded — it is on");
  } catch (err) { toast(err.message, { error: true }); }
  e.target.value = "";
});
wmForm().addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillWatermark(await api("/api/settings/watermark", { method: "PUT", body: wmDraft() }));
    toast("Watermark saved — used for the next publications");
  } catch (e) { toast(e.message, { error: true }); }
});

function fillCredits(c) {
  const f = $("#form-credits");
  f.artist.value = c.artist; f.copyright.value = c.copyright;
}

$("#form-credits").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  try {
    const res = await api("/api/settings/publish", { method: "PUT",
      body: { credits: { artist: f.artist.value, copyright: f.copyright.value } } });
    fillCredits(res.credits);
    toast("Credits saved — written into the next publications");
  } catch (e) { toast(e.message, { error: true }); }
});

function fillEvents(data) {
  $("#events-list").replaceChildren(...data.events.map((e) => {
    const current = e.id === data.current_id;
    return el("div", { class: "event" + (current ? " current" : "") },
      el("div", { class: "grow" }, el("strong", {}, e.title), el("small", {}, `${e.slug} · ${e.published} published`)),
      current ? el("span", { class: "muted small" }, "Current")
        : el("button", { type: "button", onclick: () => switchEvent(e) }, "Switch"));
  }));
}

async function switchEvent(e) {
  if (!(await confirmSheet(`Switch to “${e.title}”?`, "New publications go to this event's gallery.", "Switch"))) return;
  try { fillEvents(await api("/api/events/current", { body: { id: e.id } })); await afterEventChange(); toast(`Now publishing to ${e.title}`); }
  catch (err) { toast(err.message, { error: true }); }
}

async function afterEventChange() {
  await loadSettings();
  state.liveSig = "";
  loadLive();
}

const newEvent = $("#form-new-event");
newEvent.title.addEventListener("input", () => {
  if (newEvent.slug.dataset.touched) return;
  newEvent.slug.value = newEvent.title.value.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
});
newEvent.slug.addEventListener("input", () => { newEvent.slug.dataset.touched = "1"; });
newEvent.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillEvents(await api("/api/events", { body: { title: newEvent.title.value, slug: newEvent.slug.value } }));
    newEvent.reset(); delete newEvent.slug.dataset.touched;
    await afterEventChange();
    toast("Event created — new publications go there");
  } catch (e) { toast(e.message, { error: true }); }
});

function fillFolders(data) {
  $("#folders-list").replaceChildren(...data.folders.map((f) => el("div", {},
    el("span", {}, f.name), el("span", {}, `${f.path} · ${bytes(f.free_bytes)} free`))));
  const select = $("#watch-select");
  const options = [el("option", { value: "" }, "As configured" + (data.watch && !data.watch_overridden ? ` (${data.watch})` : " (none)"))];
  for (const c of data.choices) options.push(el("option", { value: c.id, selected: data.watch_overridden && c.path === data.watch }, c.path));
  select.replaceChildren(...options);
}

$("#form-folders").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillFolders(await api("/api/settings/folders", { method: "PUT", body: { watch: $("#watch-select").value || null } }));
    toast("Folders saved");
  } catch (e) { toast(e.message, { error: true }); }
});

function fillCleanup(c) {
  for (const b of $$("[data-c]")) {
    b.textContent = b.dataset.c === "trash" ? `${c.trash_files} files · ${bytes(c.trash_bytes)}` : String(c[b.dataset.c]);
  }
}

for (const b of $$("[data-cleanup]")) {
  b.addEventListener("click", async () => {
    const action = b.dataset.cleanup;
    if (action === "empty_trash" && !(await confirmSheet("Empty the local trash?",
      "Deletes the web copies of unpublished photos on this box. Originals stay in the buffer.", "Empty trash"))) return;
    try {
      const res = await api("/api/cleanup", { body: { action } });
      fillCleanup(res);
      toast(`Done (${res.affected})`);
      if (action === "restore_rejected") loadBuffer(true);
    } catch (e) { toast(e.message, { error: true }); }
  });
}

// -- tabs, keys, polling ------------------------------------------------------------------------------
function showTab(tab) {
  if (!["buffer", "live", "settings"].includes(tab)) tab = "buffer";
  state.tab = tab;
  for (const a of $$(".tabbar a")) {
    if (a.dataset.tab === tab) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  for (const name of ["buffer", "live", "settings"]) $(`#view-${name}`).hidden = name !== tab;
  if (tab === "live") loadLive();
  if (tab === "settings") loadSettings();
}
window.addEventListener("hashchange", () => { if (!state.ed) showTab(location.hash.slice(1)); });

document.addEventListener("keydown", (e) => {
  if (!$("#sheet").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
  const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName) && e.target.type !== "range";
  if (typing) return;
  const key = e.key;
  if (state.ed) {
    const p = state.photos[state.ed.index];
    const map = {
      " ": () => step(e.shiftKey ? -1 : 1), ArrowRight: () => step(1), ArrowLeft: () => step(-1),
      Enter: publishCurrent, Delete: rejectCurrent, Backspace: rejectCurrent, r: rotate, R: rotate,
      u: () => p.state === "published" && unpublishPhoto(p), U: () => p.state === "published" && unpublishPhoto(p),
      Escape: () => closeEditor(),
    };
    if (e.target.type === "range" && (key === "ArrowRight" || key === "ArrowLeft")) return;
    if (map[key]) { e.preventDefault(); map[key](); }
    return;
  }
  if (state.tab === "buffer" && (key === " " || key === "Enter") && !e.target.closest?.(".tile")) {
    e.preventDefault();
    openEditor(0);
  } else if (state.tab === "live" && (key === "u" || key === "U")) {
    const row = document.activeElement?.closest?.(".row") || $("#live-list .row");
    const p = row && state.live.find((x) => String(x.id) === row.dataset.id);
    if (p && p.state === "published") { e.preventDefault(); unpublishLive(p); }
  }
});

appendPhotos(boot.buffer);
renderStatus(boot.status);
showTab(location.hash.slice(1) || "buffer");
loadLive();
setInterval(() => { if (!document.hidden) pollStatus(); }, 2500);
setInterval(() => { if (!document.hidden && state.tab === "live") loadLive(); }, 3000);
document.addEventListener("visibilitychange", () => { if (!document.hidden) { pollStatus(); if (state.tab === "live") loadLive(); } });
