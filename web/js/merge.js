/* An event fed by several appliances: one manifest shard per appliance
 * (<prefix>/<event>/manifests/<appliance id>.json), handed to the page as one bundle
 * {version: 2, shards: [...]} by the Pages Function (or the local gallery server). merge() makes
 * the one manifest the page shows, in the shape of a single appliance's manifest.
 *
 * Order (several shards): capture time, newest first, corrected per appliance by its clock
 * offset (clock.offset_s: the bucket's clock minus the appliance's, from the bucket's Date
 * header) and per photo by its camera's offset set in the admin (skew, seconds); a photo without
 * a capture time uses its publish time. Ties: appliance id, then the shard's own order, so every
 * guest sees the same order. One shard keeps its own order (as a single appliance always did).
 * Each photo gets its photographer's credit (the shard's event.credit) unless it has its own.
 * Face search: each shard's `faces` entry (its own index) goes into the list `faces`.
 * Pure: no DOM, node's tests import it (functions/test/gallery-merge.test.js).
 */

var MAX_OFFSET_S = 7 * 24 * 3600; // an offset beyond a week is a broken clock, not a correction

/** A number of seconds within ±MAX_OFFSET_S, else 0. */
export function seconds(v) {
  var n = Number(v);
  return Number.isFinite(n) && Math.abs(n) <= MAX_OFFSET_S ? n : 0;
}

/** Is this a bundle of shards rather than one manifest? */
export function isBundle(m) {
  return !!m && typeof m === "object" && Array.isArray(m.shards);
}

function shardId(s, i) {
  var a = s.appliance && typeof s.appliance.id === "string" ? s.appliance.id : "";
  return a || "~" + String(i).padStart(6, "0");
}

/** The masthead shard: the one whose appliance made the event (appliance.owner), else the
 * most recently generated one with a title. */
function headShard(shards) {
  var best = null;
  for (var i = 0; i < shards.length; i++) {
    var s = shards[i];
    var score = [s.appliance && s.appliance.owner ? 1 : 0, s.event && s.event.title ? 1 : 0,
      String(s.generated_at || "")];
    if (!best || score[0] > best[1][0] || (score[0] === best[1][0] && (score[1] > best[1][1]
        || (score[1] === best[1][1] && score[2] > best[1][2])))) best = [s, score];
  }
  return best ? best[0] : null;
}

/** Milliseconds of an ISO time, NaN when missing or not a time. */
function ms(t) {
  return typeof t === "string" ? Date.parse(t) : NaN;
}

/** One manifest from a bundle (or a single manifest, returned as it is). */
export function merge(m) {
  if (!isBundle(m)) return m;
  var shards = m.shards.filter(function (s) { return s && typeof s === "object" && Array.isArray(s.photos); });
  var ids = shards.map(shardId);
  var order = shards.map(function (_, i) { return i; });
  order.sort(function (a, b) { return ids[a] < ids[b] ? -1 : ids[a] > ids[b] ? 1 : a - b; });
  var head = headShard(shards);
  var event = head && head.event && typeof head.event === "object" ? Object.assign({}, head.event) : {};
  var generated = "";
  var rows = [];
  var seen = new Set();
  order.forEach(function (k, rank) {
    var s = shards[k];
    var offset = seconds(s.clock && s.clock.offset_s) * 1000;
    var credit = s.event && typeof s.event.credit === "string" ? s.event.credit : null;
    if (String(s.generated_at || "") > generated) generated = String(s.generated_at);
    for (var i = 0; i < s.photos.length; i++) {
      var p = s.photos[i];
      if (!p || typeof p.name !== "string" || seen.has(p.name)) continue;
      seen.add(p.name);
      var t = ms(p.taken);
      if (Number.isNaN(t)) t = ms(p.published);
      var out = p;
      if (credit && !(typeof p.credit === "string" && p.credit)) {
        out = Object.assign({}, p, { credit: credit });
      }
      rows.push({ t: Number.isNaN(t) ? -Infinity : t + offset + seconds(p.skew) * 1000, rank: rank, i: i, p: out });
    }
  });
  if (shards.length > 1) {
    rows.sort(function (a, b) {
      return (b.t - a.t) || (a.rank - b.rank) || (a.i - b.i);
    });
  }
  var out = {
    version: 1,
    event: event,
    generated_at: generated || null,
    photos: rows.map(function (r) { return r.p; }),
    shards: ids.length,
  };
  var faces = faceEntries(shards, order, ids, head);
  if (faces.length) out.faces = faces;
  return out;
}

/** Each shard's face index entry ({v, consent, src} plus its appliance), the masthead shard's
 * first (its consent text is the one guests see); js/faces-entry.js validates them. */
function faceEntries(shards, order, ids, head) {
  var out = [];
  order.forEach(function (k) {
    var f = shards[k].faces;
    if (!f || typeof f !== "object" || Array.isArray(f)) return;
    var entry = Object.assign({}, f, { appliance: ids[k] });
    if (shards[k] === head) out.unshift(entry);
    else out.push(entry);
  });
  return out;
}
