/* The page's elements (web/index.html) and small DOM helpers. */

import { TOP_SLACK } from "./settings.js";

var $ = function (id) { return document.getElementById(id); };
export var root = document.documentElement;
export var els = {
  masthead: $("masthead"), hero: $("hero"), title: $("title"), subtitle: $("subtitle"),
  count: $("count"), live: $("live"), notice: $("notice"), grid: $("grid"),
  sentinel: $("sentinel"), footer: $("footer"), pill: $("new-pill"), pillText: $("new-pill-text"),
  lb: $("lightbox"), lbStage: $("lb-stage"), lbImg: $("lb-img"), lbError: $("lb-error"),
  lbCounter: $("lb-counter"), lbCaption: $("lb-caption"), lbClose: $("lb-close"),
  lbPrev: $("lb-prev"), lbNext: $("lb-next"), lbDownload: $("lb-download"), lbShare: $("lb-share"),
};

export function gridTop() { return els.grid.getBoundingClientRect().top; }

export function atTop() { return gridTop() >= -TOP_SLACK; }

export function viewportH() { return window.innerHeight || root.clientHeight; }

export function viewportW() { return window.innerWidth || root.clientWidth; }

export function setNotice(text, kind) {
  if (!text) { els.notice.hidden = true; els.notice.textContent = ""; return; }
  els.notice.hidden = false;
  els.notice.className = "notice" + (kind ? " notice--" + kind : "");
  els.notice.textContent = text;
}

var passingTimer = null;

/** A passing word over the page (notice--info), gone after `ms` unless another notice replaced it. */
export function passingNotice(text, ms) {
  setNotice(text, "info");
  clearTimeout(passingTimer);
  passingTimer = setTimeout(function () {
    if (els.notice.classList.contains("notice--info")) setNotice("");
  }, ms);
}

export function setState(s) { root.setAttribute("data-state", s); }

export function reducedMotion() {
  return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}
