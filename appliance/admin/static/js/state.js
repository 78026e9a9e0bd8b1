// The admin's one shared mutable state, and the boot data the page rendered into #boot.
import { $ } from "./dom.js";
import { fromSearch } from "./filterquery.js";

export const boot = JSON.parse($("#boot").textContent);
export const PAGE = boot.page || 60;

const filters = fromSearch(location.search); // the buffer's filters, kept in the URL (filters.js)

export const state = {
  tab: "buffer", filter: filters.filter, f: filters, sources: [], photos: [], next: null, loading: false, total: 0, counts: {},
  status: boot.status, live: [], liveSig: "", settings: null,
  ed: null, // { index, recipe, shown, tool, seq }
  sel: new Set(), selecting: false, anchor: null, // multi-select (selection.js)
};

// Who is logged in ({name, role}); the page hides what the role cannot do, the server refuses it.
export const user = boot.user || { name: "", role: "viewer" };
export const isOwner = () => user.role === "owner";
