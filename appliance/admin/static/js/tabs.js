// The three tabs (buffer, live, settings) and the #hash that selects one.
import { $, $$ } from "./dom.js";
import { state } from "./state.js";
import { loadLive } from "./live.js";
import { loadSettings } from "./settings.js";

export function showTab(tab) {
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
