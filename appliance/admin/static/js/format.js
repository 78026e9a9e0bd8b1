// Text for the admin's screens: sizes, times, slider values. Pure (no DOM, no state): node --test runs it.

export const LABELS = { exposure: (v) => `${v > 0 ? "+" : ""}${v.toFixed(1)} EV`, straighten: (v) => `${v.toFixed(1)}°`,
  scale: (v) => `${Math.round(v * 100)}%` };

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
}

// How long ago an ISO time (UTC when it has no offset) was, seen from `now` (ms; the server's clock).
export function ago(iso, now) {
  if (!iso) return "never";
  const t = Date.parse(iso.endsWith("Z") || /[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function shortTime(iso) {
  if (!iso) return "";
  const m = /T(\d\d:\d\d)(:\d\d)?/.exec(iso);
  return m ? m[1] + (m[2] || "") : iso;
}

// A card import's progress in whole percent: by bytes when known, else by files.
export function cardPercent(card) {
  return card.bytes_total ? Math.round((100 * card.bytes_done) / card.bytes_total)
    : card.files_total ? Math.round((100 * card.files_done) / card.files_total) : 0;
}

// The web name suggested for a new event's title: lower case, no accents, dashes, at most 63 characters.
export function webName(title) {
  return title.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 63);
}
