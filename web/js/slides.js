/* The slideshow's stage: exactly two layers (<figure> with one <img> each),
 * crossfading. The next photo loads and decodes in the hidden layer; only then
 * does it fade in on top. The layer that went under is emptied after the fade,
 * so at most two decoded photos exist at any time, however long the show runs. */

import { webUrl } from "./images.js";
import { urlFor } from "./state.js";

export var FADE_MS = 1400; // a little longer than the CSS transition (slideshow.css)

var layers = [];
var front = -1;
var token = 0;
var emptyTimer = null;

/** The two layer elements (each holds an <img>). */
export function bindStage(figures) {
  layers = figures.map(function (el) { return { el: el, img: el.querySelector("img") }; });
}

function empty(layer) {
  layer.img.removeAttribute("src");
  layer.el.classList.remove("is-on", "is-top");
  layer.el.style.removeProperty("--backdrop");
  layer.el.removeAttribute("data-name");
}

/** Load `entry` into the hidden layer and crossfade to it. Resolves true when shown, false if it failed. */
export function showSlide(entry) {
  var my = ++token;
  var backIndex = front === 0 ? 1 : 0;
  var back = layers[backIndex];
  clearTimeout(emptyTimer);
  empty(back);
  back.img.alt = "Photo " + entry.name;
  back.img.src = webUrl(entry);
  return back.img.decode().then(function () {
    if (my !== token) return false;
    var thumb = entry.thumb ? urlFor(entry.thumb) : webUrl(entry);
    back.el.style.setProperty("--backdrop", "url(\"" + thumb.replace(/"/g, "%22") + "\")");
    back.el.setAttribute("data-name", entry.name);
    back.el.classList.add("is-on", "is-top");
    var old = front === -1 ? null : layers[front];
    front = backIndex;
    if (old) {
      old.el.classList.remove("is-top");
      emptyTimer = setTimeout(function () { empty(old); }, FADE_MS);
    }
    return true;
  }, function () {
    if (my === token) empty(back);
    return false;
  });
}

/** The name of the photo on top (for tests), or null. */
export function onStage() {
  return front === -1 ? null : layers[front].el.getAttribute("data-name");
}

/** Take every photo off the stage (the event has none left). */
export function clearStage() {
  token += 1;
  clearTimeout(emptyTimer);
  layers.forEach(empty);
  front = -1;
}
