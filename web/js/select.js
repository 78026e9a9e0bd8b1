/* Selecting photos to download: "Select" in the masthead turns tapping a tile
 * into ticking it (instead of opening the lightbox); the bar at the bottom
 * counts, selects all (every photo of the event, also those not scrolled to
 * yet) and downloads them as one ZIP (download.js), or on a phone hands a small
 * selection to the share sheet to save to the camera roll.
 *
 * Stays out of the tiles' own code: a capturing click listener on the grid and
 * a MutationObserver that ticks tiles as they are added. */

import { canShareFiles, collectFiles, pickFile, saveBlob, streamToFile, zipResponse } from "./download.js";
import { els, root } from "./dom.js";
import { CFG } from "./settings.js";
import { state } from "./state.js";
import { doneText, downloadItems, progressText, selectionText, SHARE_MAX, zipName } from "./zip-plan.js";

var $ = function (id) { return document.getElementById(id); };
var ui = {
  start: $("select-start"), bar: $("selectbar"), cancel: $("select-cancel"), count: $("select-count"),
  all: $("select-all"), go: $("select-download"), goText: $("select-go-text"), meter: $("select-meter"),
};
var sel = { on: false, names: new Set(), job: null, files: null, noShare: false };

/** Every photo of the event in screen order (the held-back new ones are the newest). */
function everyEntry() {
  return state.pending.concat(state.list);
}

function mark(el) {
  var on = sel.names.has(el.getAttribute("data-name"));
  el.classList.toggle("is-selected", on);
  el.setAttribute("aria-pressed", on ? "true" : "false");
}

function markAll() {
  els.grid.querySelectorAll(".tile").forEach(function (el) {
    if (sel.on) mark(el);
    else { el.classList.remove("is-selected"); el.removeAttribute("aria-pressed"); }
  });
}

function update() {
  // Photos unpublished meanwhile are no longer selectable.
  var live = new Set(everyEntry().map(function (e) { return e.name; }));
  sel.names.forEach(function (n) { if (!live.has(n)) sel.names.delete(n); });
  var n = sel.names.size;
  var total = live.size;
  ui.count.textContent = selectionText(n, total);
  ui.all.textContent = n === total && total > 0 ? "None" : "All";
  ui.go.disabled = n === 0 || !!sel.job;
  ui.goText.textContent = sel.files ? "Save to Photos" : "Download";
}

function setMeter(fraction) {
  ui.meter.hidden = fraction === null;
  ui.meter.style.transform = "scaleX(" + (fraction || 0) + ")";
}

function start() {
  sel.on = true;
  root.classList.add("is-selecting");
  ui.bar.hidden = false;
  ui.start.setAttribute("aria-expanded", "true");
  markAll();
  update();
}

function stop() {
  if (sel.job) sel.job.abort();
  sel.job = null;
  sel.files = null;
  sel.on = false;
  sel.names.clear();
  root.classList.remove("is-selecting");
  ui.bar.hidden = true;
  ui.start.setAttribute("aria-expanded", "false");
  setMeter(null);
  markAll();
}

function onGridClick(ev) {
  if (!sel.on) return;
  var a = ev.target.closest && ev.target.closest(".tile");
  if (!a || a.classList.contains("tile--ghost")) return;
  ev.preventDefault();
  ev.stopPropagation(); // not the lightbox
  if (sel.job) return;
  var name = a.getAttribute("data-name");
  if (sel.names.has(name)) sel.names.delete(name);
  else sel.names.add(name);
  sel.files = null;
  mark(a);
  update();
}

function toggleAll() {
  var every = everyEntry();
  if (sel.names.size === every.length) sel.names.clear();
  else every.forEach(function (e) { sel.names.add(e.name); });
  sel.files = null;
  markAll();
  update();
}

function rawManifest() {
  try { return JSON.parse(state.lastText); } catch (_) { return null; }
}

function finish(saved, skipped) {
  sel.job = null;
  setMeter(null);
  ui.count.textContent = doneText(saved, skipped);
  ui.go.disabled = false;
  setTimeout(function () { if (sel.on && !sel.job) stop(); }, 2500);
}

function failed(err, job) {
  if (sel.job !== job) return;
  sel.job = null;
  setMeter(null);
  update();
  if (!err || err.name !== "AbortError") ui.count.textContent = "Interrupted: try again";
}

function progress(job, total) {
  return {
    done: 0, skipped: [],
    onChange: function (p) {
      if (sel.job !== job) return;
      ui.count.textContent = progressText(p.done + p.skipped.length, total, p.skipped.length);
      setMeter((p.done + p.skipped.length) / total);
    },
  };
}

function downloadZip(items, total) {
  var job = new AbortController();
  var name = zipName(state.event, items.length, total);
  // The save picker needs the tap: ask before anything is fetched.
  var picked = items.length > CFG.zipSaveAbove ? pickFile(name) : null;
  sel.job = job;
  update();
  var p = progress(job, items.length);
  p.onChange(p);
  var res = zipResponse(items, p, job.signal);
  var saving = picked
    ? streamToFile(picked, res, job.signal)
    : res.blob().then(function (blob) { if (sel.job === job) saveBlob(blob, name); });
  saving.then(function () {
    if (sel.job === job) finish(p.done, p.skipped.length);
  }, function (err) { failed(err, job); });
}

function share() {
  var files = sel.files;
  sel.files = null;
  navigator.share({ files: files }).then(function () {
    finish(files.length, 0);
  }, function (err) {
    // Dismissed (AbortError) or refused: the ZIP is always there.
    update();
    if (err && err.name !== "AbortError") {
      sel.noShare = true; // the next tap makes a ZIP instead
      ui.count.textContent = "Could not share";
    }
  });
}

function prepareShare(items) {
  var job = new AbortController();
  sel.job = job;
  update();
  var p = progress(job, items.length);
  p.onChange(p);
  collectFiles(items, p, job.signal).then(function (files) {
    if (sel.job !== job) return;
    sel.job = null;
    setMeter(null);
    sel.files = files.length ? files : null;
    update();
    ui.count.textContent = files.length ? "Ready to save" : doneText(0, p.skipped.length);
  }, function (err) { failed(err, job); });
}

function onDownload() {
  if (sel.files) { share(); return; } // a new tap: the share sheet needs one
  var every = everyEntry();
  var chosen = every.filter(function (e) { return sel.names.has(e.name); });
  if (!chosen.length || sel.job) return;
  var items = downloadItems(chosen, rawManifest());
  if (items.length <= SHARE_MAX && !sel.noShare && canShareFiles()) prepareShare(items);
  else downloadZip(items, every.length);
}

/** Show "Select" once there are photos; tick tiles as they are added. */
export function bindSelect() {
  new MutationObserver(function () {
    ui.start.hidden = root.getAttribute("data-state") !== "ready";
    if (ui.start.hidden && sel.on) stop();
  }).observe(root, { attributes: true, attributeFilter: ["data-state"] });
  new MutationObserver(function (records) {
    if (!sel.on) return;
    records.forEach(function (r) {
      r.addedNodes.forEach(function (n) { if (n.classList && n.classList.contains("tile")) mark(n); });
    });
    update();
  }).observe(els.grid, { childList: true, subtree: true });
  els.grid.addEventListener("click", onGridClick, true);
  ui.start.addEventListener("click", function () { if (sel.on) stop(); else start(); });
  ui.cancel.addEventListener("click", stop);
  ui.all.addEventListener("click", toggleAll);
  ui.go.addEventListener("click", onDownload);
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && sel.on && !state.lb.open) stop();
  });
}

// For tests (window.gallery.select).
export var selection = sel;
