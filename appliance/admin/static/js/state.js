// The admin's one shared mutable state, and the boot data the page rendered into #boot.
import { $ } from "./dom.js";

export const boot = JSON.parse($("#boot").textContent);
export const PAGE = boot.page || 60;

export const state = {
  tab: "buffer", filter: "all", photos: [], next: null, loading: false, total: 0, counts: {},
  status: boot.status, live: [], liveSig: "", settings: null,
  ed: null, // { index, recipe, shown, tool, seq }
};
