/* "Find my photos": the guest's selfie -> the photos of the event with their face, best first.
 * Loaded only when a guest taps the button (js/faces-entry.js). The selfie is read on this
 * device only (createImageBitmap -> canvas -> the face model, js/face-model.js); what is fetched
 * is the model and the event's face indexes (one per appliance, js/face-index.js); matching is
 * js/face-match.js. Nothing is sent anywhere. */

import { els } from "./dom.js";
import { decodeAll } from "./face-index.js";
import { clampStep, DEFAULT_STEP, matches, prepare, scores, THRESHOLDS } from "./face-match.js";
import { describe, loadModel, toCanvas } from "./face-model.js";
import { plural } from "./format.js";
import { openLightbox } from "./lightbox.js";
import { listIndex, state, urlFor } from "./state.js";

var PRIVATE = "Your photo stays on this phone: the face model runs here, nothing is uploaded.";
var ui = null; // {panel, body, bar, text, fewer, more, results}
var offer = null;
var loaded = { key: null, faces: null }; // the offer's indexes ("src?v" list), prepared
var found = { ranked: [], step: DEFAULT_STEP };

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

function button(cls, text, testid, onClick) {
  var b = el("button", cls, text);
  b.type = "button";
  if (testid) b.setAttribute("data-testid", testid);
  b.addEventListener("click", onClick);
  return b;
}

function build() {
  var css = el("link");
  css.rel = "stylesheet";
  css.href = new URL("../faces.css", import.meta.url).href;
  document.head.appendChild(css);
  var panel = el("div", "faces");
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-modal", "true");
  panel.setAttribute("aria-labelledby", "faces-title");
  panel.setAttribute("data-testid", "faces");
  panel.hidden = true;
  var sheet = el("div", "faces__sheet");
  var close = button("faces__close", "", "faces-close", closePanel);
  close.setAttribute("aria-label", "Close");
  close.innerHTML = '<svg class="icon" aria-hidden="true"><use href="#i-close"/></svg>';
  var title = el("h2", "faces__title", "Find my photos");
  title.id = "faces-title";
  var body = el("div", "faces__body");
  body.setAttribute("aria-live", "polite");
  sheet.append(close, title, body);
  panel.appendChild(sheet);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") closePanel(); });
  document.body.appendChild(panel);

  var bar = el("div", "facebar");
  bar.setAttribute("data-testid", "faces-bar");
  bar.hidden = true;
  var text = el("p", "facebar__text");
  text.setAttribute("data-testid", "faces-count");
  text.setAttribute("aria-live", "polite");
  var fewer = button("facebar__btn", "Show fewer", "faces-fewer", function () { restep(found.step + 1); });
  var more = button("facebar__btn", "Show more", "faces-more", function () { restep(found.step - 1); });
  var all = button("facebar__btn facebar__all", "All photos", "faces-all", showAll);
  var again = button("facebar__btn", "Another selfie", "faces-again", function () { openFaces(offer); });
  var tools = el("div", "facebar__tools");
  tools.append(el("span", "facebar__hint", "Not you?"), fewer, more, again, all);
  bar.append(text, tools);
  var results = el("div", "faces-results");
  results.setAttribute("data-testid", "faces-results");
  results.setAttribute("aria-label", "Your photos");
  results.hidden = true;
  els.grid.parentNode.insertBefore(bar, els.grid);
  els.grid.parentNode.insertBefore(results, els.grid);
  ui = { panel: panel, body: body, bar: bar, text: text, fewer: fewer, more: more, results: results };
}

function picker(label, testid, capture, primary) {
  var l = el("label", "faces__pick" + (primary ? " faces__pick--primary" : ""));
  var input = el("input");
  input.type = "file";
  input.accept = "image/*";
  if (capture) input.setAttribute("capture", "user");
  input.setAttribute("data-testid", testid);
  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    input.value = "";
    if (file) run(file);
  });
  l.append(el("span", "", label), input);
  return l;
}

function show(nodes) {
  ui.body.replaceChildren.apply(ui.body, nodes);
}

function pickers() {
  var row = el("div", "faces__actions");
  row.append(picker("Take a selfie", "faces-selfie", true, true), picker("Choose a photo", "faces-file", false));
  return row;
}

/** Open the panel: the owner's consent text first, then the selfie. */
export function openFaces(o) {
  offer = o;
  if (!ui) build();
  var consent = el("p", "faces__consent", o.consent || "");
  consent.setAttribute("data-testid", "faces-consent");
  show([consent, el("p", "faces__private", PRIVATE), pickers()]);
  ui.panel.hidden = false;
  document.documentElement.classList.add("has-faces-panel");
  ui.panel.querySelector(".faces__pick input").focus({ preventScroll: true });
}

function closePanel() {
  if (!ui) return;
  ui.panel.hidden = true;
  document.documentElement.classList.remove("has-faces-panel");
  document.getElementById("faces-start").focus({ preventScroll: true });
}

function message(text, testid, more) {
  var p = el("p", "faces__msg", text);
  p.setAttribute("data-testid", testid);
  show([p].concat(more || []));
}

function progress(fraction) {
  var bar = ui.body.querySelector("progress");
  if (bar) bar.value = fraction;
}

function indexUrl(ix) {
  return urlFor(ix.src) + "?v=" + encodeURIComponent(ix.v);
}

async function getIndex(ix) {
  var res = await fetch(indexUrl(ix));
  if (!res.ok) throw new Error("face index " + res.status);
  return res.arrayBuffer();
}

/** Every index of the offer (one per appliance of a shared event), prepared as one list. */
async function loadIndexes(indexes) {
  var key = indexes.map(indexUrl).join(" ");
  if (loaded.key !== key) loaded = { key: key, faces: prepare(await decodeAll(indexes, getIndex)) };
  return loaded.faces;
}

async function run(file) {
  var bar = el("progress", "faces__progress");
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute("data-testid", "faces-progress");
  message("Loading the face finder… (the first time only; it stays on this phone)", "faces-loading", [bar]);
  var faceapi, faces, canvas;
  try {
    var both = await Promise.all([loadModel(progress), loadIndexes(offer.indexes)]);
    faceapi = both[0];
    faces = both[1];
  } catch (err) {
    message("The face finder could not be loaded. Check the connection and try again.", "faces-error",
      [pickers()]);
    return;
  }
  message("Looking for your face…", "faces-working");
  try {
    canvas = await toCanvas(file);
  } catch (err) {
    message("That file is not a photo this phone can open. Try another one.", "faces-bad", [pickers()]);
    return;
  }
  var seen;
  try {
    seen = await describe(faceapi, canvas);
  } catch (err) {
    message("The face finder stopped on this photo. Try another one.", "faces-error", [pickers()]);
    return;
  }
  if (!seen.length) {
    message("No face found in this photo. Try another: your face towards the camera, in good light.",
      "faces-none", [pickers()]);
  } else if (seen.length === 1) {
    search(seen[0].descriptor, faces);
  } else {
    choose(seen, canvas, faces);
  }
}

function crop(canvas, box) { // a square crop of one face, drawn here: never leaves the page
  var side = Math.max(box.w, box.h) * 1.4, c = el("canvas");
  c.width = c.height = 160;
  var x = box.x + box.w / 2 - side / 2, y = box.y + box.h / 2 - side / 2;
  c.getContext("2d").drawImage(canvas, x, y, side, side, 0, 0, 160, 160);
  return c;
}

function choose(seen, canvas, faces) {
  var grid = el("div", "faces__choices");
  seen.forEach(function (f, i) {
    var b = button("faces__choice", "", "faces-choice", function () { search(f.descriptor, faces); });
    b.setAttribute("aria-label", "This one (face " + (i + 1) + " of " + seen.length + ")");
    b.appendChild(crop(canvas, f.box));
    grid.appendChild(b);
  });
  message("There are " + seen.length + " faces in this photo. Which one is you?", "faces-which", [grid]);
}

function search(descriptor, faces) {
  found = {
    ranked: scores(descriptor, faces).filter(function (r) { return listIndex(r.photo) !== -1; }),
    step: DEFAULT_STEP,
  };
  ui.panel.hidden = true;
  document.documentElement.classList.remove("has-faces-panel");
  document.documentElement.classList.add("is-faces");
  ui.bar.hidden = false;
  ui.results.hidden = false;
  render();
  window.scrollTo(0, 0);
}

function restep(step) {
  found.step = clampStep(step);
  render();
}

function tile(entry) {
  var a = el("a", "faces-tile");
  a.href = urlFor(entry.src);
  a.setAttribute("data-name", entry.name);
  a.setAttribute("data-testid", "faces-tile");
  a.setAttribute("aria-label", "Open photo " + entry.name);
  a.style.setProperty("--ar", entry.w + " / " + entry.h);
  a.style.setProperty("--ph", entry.color || "#8a8580");
  var img = el("img");
  img.alt = "";
  img.decoding = "async";
  img.loading = "lazy";
  img.addEventListener("load", function () { a.classList.add("is-loaded"); });
  img.src = urlFor(entry.thumb || entry.src);
  a.appendChild(img);
  a.addEventListener("click", function (e) {
    e.preventDefault();
    if (listIndex(entry.name) === -1) render(); // taken down since: gone from the results too
    else openLightbox(entry.name, false);
  });
  return a;
}

function render() {
  var hits = matches(found.ranked, found.step).filter(function (h) { return listIndex(h.photo) !== -1; });
  ui.text.textContent = hits.length
    ? plural(hits.length, "photo", "photos") + " with you, best match first"
    : "No photos with your face found.";
  ui.fewer.disabled = found.step >= THRESHOLDS.length - 1 || !hits.length;
  ui.more.disabled = found.step <= 0 || hits.length === found.ranked.length;
  ui.results.replaceChildren.apply(ui.results, hits.map(function (h) {
    return tile(state.list[listIndex(h.photo)]);
  }));
}

function showAll() {
  ui.bar.hidden = true;
  ui.results.hidden = true;
  ui.results.replaceChildren();
  document.documentElement.classList.remove("is-faces");
}
