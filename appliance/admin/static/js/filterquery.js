// The buffer's filter state <-> URL query (what GET /api/buffer and the page's URL carry). Pure: no DOM.

export const DEFAULTS = Object.freeze({ filter: "all", rating: "0", flag: "", state: "", source: "", from: "", to: "",
  sort: "capture" });
const ALLOWED = { filter: ["all", "new", "published", "rejected"], rating: ["0", "1", "2", "3", "4", "5"],
  flag: ["", "picked", "rejected", "unflagged"], state: ["", "published", "unpublished"], sort: ["capture", "import"] };
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/;

// The filters a query string names; unknown or malformed values fall back to the default.
export function fromSearch(search) {
  const q = new URLSearchParams(search);
  const out = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS)) {
    const v = q.get(key);
    if (v === null) continue;
    if (ALLOWED[key] ? ALLOWED[key].includes(v) : key === "source" ? /^[^\x00-\x1f]{1,200}$/.test(v) : TIME.test(v)) out[key] = v;
  }
  return out;
}

// Only what differs from the defaults, in a stable order (the API's parameters and the page's URL).
export function toParams(f) {
  const q = new URLSearchParams();
  for (const [key, def] of Object.entries(DEFAULTS)) if (f[key] && f[key] !== def) q.set(key, f[key]);
  return q;
}

// How many filters beyond the preset chip (All/New/Published/Rejected) are set.
export function extraCount(f) {
  return Object.keys(DEFAULTS).filter((k) => k !== "filter" && f[k] && f[k] !== DEFAULTS[k]).length;
}

const FLAG_TEXT = { picked: "Picked", rejected: "Rejected", unflagged: "Unflagged" };
const STATE_TEXT = { published: "Published", unpublished: "Not published" };

// The active filters as short chip texts: [[key, text], ...] (the preset chip is not among them).
export function describe(f, sources = []) {
  const out = [];
  if (f.rating !== "0") out.push(["rating", `★ ${f.rating}+`]);
  if (f.flag) out.push(["flag", FLAG_TEXT[f.flag]]);
  if (f.state) out.push(["state", STATE_TEXT[f.state]]);
  if (f.source) out.push(["source", sources.find((s) => sourceKey(s) === f.source)?.label || f.source]);
  if (f.from) out.push(["from", `From ${f.from.replace("T", " ").slice(0, 16)}`]);
  if (f.to) out.push(["to", `Until ${f.to.replace("T", " ").slice(0, 16)}`]);
  if (f.sort !== "capture") out.push(["sort", "Import order"]);
  return out;
}

// The value the API's `source` parameter takes for a source of the response's `sources` list.
export const sourceKey = (s) => (s.name ? `${s.kind}:${s.name}` : s.kind);
