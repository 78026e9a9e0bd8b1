/* Live event gallery: vanilla JS, no build step, no dependencies.
 *
 * Reads ${photoBase}/${event}/manifest.json (newest first), lays the photos
 * out as a masonry of 1-3 columns, and polls the manifest with conditional
 * requests so new photos fade in and unpublished ones disappear.
 *
 * Layout model
 *   list      entries shown in the page, newest first. Tiles exist for
 *             list[0 .. rendered); the rest are added in pages of PAGE as
 *             the guest scrolls (IntersectionObserver on #sentinel).
 *   columns   each tile goes to the column with the least total height
 *             (known up front from w/h, so nothing jumps while loading).
 *   pending   new photos that arrived while the guest was scrolled down:
 *             they are not inserted (nothing above the viewport moves);
 *             a "N new photos" pill scrolls to the top, where they fade in.
 *   ghosts    tiles removed while above the viewport keep their box
 *             (invisible) until the guest is back at the top.
 */
(function () {
  "use strict";

  var DEFAULTS = { photoBase: "/photo", defaultEvent: null, pollSeconds: 10 };
  var CFG = Object.assign({}, DEFAULTS, window.GALLERY_CONFIG || {});
  var EVENT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
  var NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$/;
  var REL_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]{0,160})+$/;
  var PAGE = 60;
  var EAGER = 6;
  var TOP_SLACK = 48; // px the grid top may be scrolled past and still count as "at the top"
  var MAX_BACKOFF_S = 60;

  var $ = function (id) { return document.getElementById(id); };
  var root = document.documentElement;
  var els = {
    masthead: $("masthead"), hero: $("hero"), title: $("title"), subtitle: $("subtitle"),
    count: $("count"), live: $("live"), notice: $("notice"), grid: $("grid"),
    sentinel: $("sentinel"), footer: $("footer"), pill: $("new-pill"), pillText: $("new-pill-text"),
    lb: $("lightbox"), lbStage: $("lb-stage"), lbImg: $("lb-img"), lbError: $("lb-error"),
    lbCounter: $("lb-counter"), lbCaption: $("lb-caption"), lbClose: $("lb-close"),
    lbPrev: $("lb-prev"), lbNext: $("lb-next"), lbDownload: $("lb-download"),
  };

  var state = {
    event: null,
    base: String(CFG.photoBase || "/photo").replace(/\/+$/, ""),
    manifestUrl: null,
    sameOrigin: true,
    etag: null,
    lastText: null,
    loaded: false,
    list: [],
    rendered: 0,
    tiles: new Map(),      // name -> {el, img, col, h, entry}
    pending: [],           // entries waiting for the guest to be at the top
    ghosts: new Set(),     // tile records hidden in place above the viewport
    broken: new Map(),     // name -> signature of the entry whose image failed
    columns: [],           // [{el, height}]
    colCount: 0,
    timer: null,
    inFlight: false,
    nextPollAt: null,      // Date.now() when the next poll is due (null: none scheduled)
    failures: 0,
    lb: { open: false, name: null, pushed: false, touch: null },
  };

  // Counters for tests and debugging (window.gallery.stats).
  var stats = {
    polls: 0, notModified: 0, changed: 0, notFound: 0, errors: 0, lastStatus: null, lastPollEnd: null,
  };

  var EMPTY_TEXT = "No photos yet. Keep this page open: photos appear here by themselves as soon as the photographer shares them.";

  /* ------------------------------------------------------------ helpers */

  function signature(e) {
    return [e.src, e.thumb, e.w, e.h, e.tw, e.th, e.color, e.ph, e.webp].join("|");
  }

  function posInt(v) {
    var n = Number(v);
    return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
  }

  function relOk(p) {
    return typeof p === "string" && REL_RE.test(p) && p.indexOf("..") === -1;
  }

  function urlFor(rel) {
    return state.base + "/" + state.event + "/" + rel;
  }

  function sanitize(photos) {
    var out = [];
    var seen = new Set();
    if (!Array.isArray(photos)) return out;
    for (var i = 0; i < photos.length; i++) {
      var p = photos[i];
      if (!p || typeof p.name !== "string" || !NAME_RE.test(p.name) || seen.has(p.name)) continue;
      if (!relOk(p.src)) continue;
      var w = posInt(p.w), h = posInt(p.h);
      if (!w || !h) continue;
      var thumb = relOk(p.thumb) ? p.thumb : null;
      var tw = posInt(p.tw), th = posInt(p.th);
      if (!thumb || !tw || !th) { thumb = null; tw = 0; th = 0; }
      var color = typeof p.color === "string" && /^#[0-9a-fA-F]{3,8}$/.test(p.color) ? p.color : "#8a8580";
      var ph = typeof p.ph === "string" && /^[0-9a-fA-F]{27}$/.test(p.ph) ? p.ph : null;
      var webp = relOk(p.webp) && /\.webp$/.test(p.webp) ? p.webp : null;
      seen.add(p.name);
      out.push({
        name: p.name, src: p.src, w: w, h: h, thumb: thumb, tw: tw, th: th, color: color,
        ph: ph, webp: webp, taken: typeof p.taken === "string" ? p.taken : null,
      });
    }
    return out;
  }

  function fileName(entry) {
    var ext = (/\.([A-Za-z0-9]+)$/.exec(entry.src) || [0, "jpg"])[1];
    return entry.name + "." + ext.toLowerCase();
  }

  function plural(n, one, many) {
    var num;
    try { num = n.toLocaleString("en-US"); } catch (_) { num = String(n); }
    return num + " " + (n === 1 ? one : many);
  }

  function gridTop() { return els.grid.getBoundingClientRect().top; }

  function atTop() { return gridTop() >= -TOP_SLACK; }

  function viewportH() { return window.innerHeight || root.clientHeight; }

  function setNotice(text, kind) {
    if (!text) { els.notice.hidden = true; els.notice.textContent = ""; return; }
    els.notice.hidden = false;
    els.notice.className = "notice" + (kind ? " notice--" + kind : "");
    els.notice.textContent = text;
  }

  function setState(s) { root.setAttribute("data-state", s); }

  // WebP: the manifest names one beside the web JPEG when the appliance made
  // it (publish.webp). Used for the web size (lightbox, large tiles) once
  // this browser has shown it can decode WebP; downloads stay JPEG.
  var webpOk = false;
  (function () {
    var probe = new Image();
    probe.onload = function () { webpOk = probe.width === 1; };
    probe.src = "data:image/webp;base64,UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA";
  })();

  /** URL of the web-size image to display (not to download). */
  function webUrl(e) { return urlFor(webpOk && e.webp ? e.webp : e.src); }

  // The manifest's `ph`: a 3x3 grid of the photo's colours (nine #rgb, row by
  // row). Painted as a 3x3 PNG that the browser stretches smoothly over the
  // tile: a blurred preview of the photo until the thumbnail arrives.
  var phCanvas = null;
  function placeholderUrl(ph) {
    if (!ph) return null;
    try {
      if (!phCanvas) {
        phCanvas = document.createElement("canvas");
        phCanvas.width = 3;
        phCanvas.height = 3;
      }
      var ctx = phCanvas.getContext("2d");
      var img = ctx.createImageData(3, 3);
      for (var i = 0; i < 9; i++) {
        for (var k = 0; k < 3; k++) img.data[i * 4 + k] = parseInt(ph.charAt(i * 3 + k), 16) * 17;
        img.data[i * 4 + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      return phCanvas.toDataURL("image/png");
    } catch (_) {
      return null; // canvas unavailable: the flat colour remains
    }
  }

  /* ------------------------------------------------------------ columns */

  function wantedColumns() {
    var w = window.innerWidth || root.clientWidth;
    if (w >= 1024) return 3;
    if (w >= 360) return 2;
    return 1;
  }

  // `sizes` for the tiles: the slot widths of the CSS (3 columns in a max
  // 1800px container, 2, or 1), scaled down on purpose so the browser takes
  // the thumbnail unless it would be blown up a lot. A grid tile is small:
  // device pixels are counted up to 2 per CSS pixel (a 3x phone gets no 3x
  // tiles), and a thumbnail covering 80% of that is good enough. Without
  // this, phones would fetch the 2048px web JPEG (10-20x the bytes) for
  // every tile, and portrait thumbnails (480px tall, 320px wide) would lose
  // almost everywhere. The lightbox always shows the web size.
  var TILE_MAX_DENSITY = 2;
  var TILE_COVER = 0.8;

  function sizesAttr() {
    var dpr = window.devicePixelRatio || 1;
    var f = (Math.min(dpr, TILE_MAX_DENSITY) / dpr) * TILE_COVER;
    var s = function (len) { return "calc(" + len + " * " + f.toFixed(3) + ")"; };
    return "(min-width: 1024px) " + s("min(33vw, 600px)") + ", (min-width: 360px) " + s("50vw") +
      ", " + s("100vw");
  }

  function tileUnits(entry) {
    return entry.h / entry.w + 0.02; // height in column widths, plus the gap
  }

  function shortestColumn() {
    var best = 0;
    for (var i = 1; i < state.columns.length; i++) {
      if (state.columns[i].height < state.columns[best].height - 1e-9) best = i;
    }
    return best;
  }

  function buildColumns(n) {
    els.grid.textContent = "";
    state.columns = [];
    for (var i = 0; i < n; i++) {
      var col = document.createElement("div");
      col.className = "col";
      els.grid.appendChild(col);
      state.columns.push({ el: col, height: 0, topAdded: 0 });
    }
    state.colCount = n;
    els.grid.setAttribute("data-columns", String(n));
  }

  /** First tile at least partly inside the viewport, and its offset. */
  function viewportAnchor() {
    if (atTop()) return null;
    var best = null;
    var bestTop = Infinity;
    state.tiles.forEach(function (t) {
      var r = t.el.getBoundingClientRect();
      if (r.bottom > 0 && r.top < viewportH() && r.top < bestTop) { best = t; bestTop = r.top; }
    });
    return best ? { tile: best, top: bestTop } : null;
  }

  function relayout(force) {
    var n = wantedColumns();
    if (!force && n === state.colCount) return;
    var anchor = viewportAnchor();
    state.ghosts.forEach(function (g) { g.el.remove(); });
    state.ghosts.clear();
    buildColumns(n);
    for (var i = 0; i < state.rendered; i++) {
      var t = state.tiles.get(state.list[i].name);
      if (t) placeBottom(t);
    }
    if (anchor && anchor.tile.el.isConnected) {
      window.scrollBy(0, anchor.tile.el.getBoundingClientRect().top - anchor.top);
    }
  }

  function placeBottom(t) {
    var c = shortestColumn();
    state.columns[c].el.appendChild(t.el);
    state.columns[c].height += t.h;
    t.col = c;
  }

  function placeTop(t) {
    // Spread new arrivals over the top row (least added at the top so far),
    // so the columns' bottoms keep the balance they had.
    var c = 0;
    for (var i = 1; i < state.columns.length; i++) {
      var a = state.columns[i], b = state.columns[c];
      if (a.topAdded < b.topAdded - 1e-9 || (Math.abs(a.topAdded - b.topAdded) < 1e-9 && a.height < b.height - 1e-9)) c = i;
    }
    state.columns[c].el.insertBefore(t.el, state.columns[c].el.firstChild);
    state.columns[c].height += t.h;
    state.columns[c].topAdded += t.h;
    t.col = c;
  }

  function detach(t) {
    if (t.el.isConnected) t.el.remove();
    if (state.columns[t.col]) {
      state.columns[t.col].height = Math.max(0, state.columns[t.col].height - t.h);
    }
  }

  /* -------------------------------------------------------------- tiles */

  function applyImage(t, e) {
    var img = t.img;
    img.width = e.w;
    img.height = e.h;
    img.sizes = sizesAttr();
    var set = webUrl(e) + " " + e.w + "w";
    if (e.thumb) set = urlFor(e.thumb) + " " + e.tw + "w, " + set;
    img.srcset = set;
    img.src = e.thumb ? urlFor(e.thumb) : urlFor(e.src);
    t.el.style.setProperty("--ar", e.w + " / " + e.h);
    t.el.style.setProperty("--ph", e.color);
    var phUrl = placeholderUrl(e.ph);
    if (phUrl) t.el.style.backgroundImage = "url(" + phUrl + ")";
    else t.el.style.removeProperty("background-image");
    t.el.href = urlFor(e.src);
  }

  function makeTile(entry, eager, isNew) {
    var a = document.createElement("a");
    a.className = "tile" + (isNew ? " tile--new" : "");
    a.setAttribute("data-name", entry.name);
    a.setAttribute("data-testid", "tile");
    a.setAttribute("aria-label", "Open photo " + entry.name);
    var img = document.createElement("img");
    img.alt = "";
    img.decoding = "async";
    img.loading = eager ? "eager" : "lazy";
    if (eager && "fetchPriority" in img) img.fetchPriority = "high";
    var t = { el: a, img: img, col: 0, h: tileUnits(entry), entry: entry };
    img.addEventListener("load", function () { a.classList.add("is-loaded"); });
    img.addEventListener("error", function () { onTileError(t); });
    applyImage(t, entry);
    a.appendChild(img);
    state.tiles.set(entry.name, t);
    if (isNew) {
      setTimeout(function () { a.classList.remove("tile--new"); }, 20000);
    }
    return t;
  }

  function renderMore(animate) {
    var end = Math.min(state.list.length, state.rendered + PAGE);
    for (var i = state.rendered; i < end; i++) {
      var e = state.list[i];
      var t = state.tiles.get(e.name) || makeTile(e, i < EAGER, !!animate);
      placeBottom(t);
    }
    state.rendered = end;
    updateChrome();
    if (state.rendered < state.list.length) {
      // Re-observe so the observer reports again if the sentinel is still near.
      observer.unobserve(els.sentinel);
      observer.observe(els.sentinel);
    }
  }

  var observer = "IntersectionObserver" in window
    ? new IntersectionObserver(function (entries) {
        for (var i = 0; i < entries.length; i++) {
          if (entries[i].isIntersecting && state.rendered < state.list.length) {
            renderMore();
            return;
          }
        }
      }, { rootMargin: "0px 0px 1500px 0px" })
    : { observe: function () {}, unobserve: function () {} };

  function listIndex(name) {
    for (var i = 0; i < state.list.length; i++) if (state.list[i].name === name) return i;
    return -1;
  }

  /** Take a photo out of the page (unpublished, or its image failed). */
  function removePhoto(name) {
    var i = listIndex(name);
    if (i !== -1) {
      state.list.splice(i, 1);
      if (i < state.rendered) state.rendered -= 1;
    }
    var t = state.tiles.get(name);
    if (t) {
      state.tiles.delete(name);
      var r = t.el.getBoundingClientRect();
      if (t.el.isConnected && r.bottom <= 0 && !atTop()) {
        // Above the viewport: keep its box so nothing the guest sees moves.
        t.el.classList.add("tile--ghost");
        t.el.setAttribute("aria-hidden", "true");
        t.el.tabIndex = -1;
        state.ghosts.add(t);
      } else if (t.el.isConnected && r.top < viewportH() && !reducedMotion()) {
        t.el.classList.add("tile--leaving");
        setTimeout(function () { detach(t); }, 320);
      } else {
        detach(t);
      }
    }
    if (state.lb.open && state.lb.name === name) lightboxAfterRemoval(i);
  }

  function onTileError(t) {
    if (state.tiles.get(t.entry.name) !== t) return;
    state.broken.set(t.entry.name, signature(t.entry));
    removePhoto(t.entry.name);
    updateChrome();
  }

  function reducedMotion() {
    return window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  }

  /** Insert new photos (newest first) at the top of the columns. */
  function insertTop(entries, animate) {
    for (var i = entries.length - 1; i >= 0; i--) {
      var t = makeTile(entries[i], true, animate);
      placeTop(t);
    }
    state.list = entries.concat(state.list);
    state.rendered += entries.length;
  }

  /** At the top again (or the pill was used): apply what was held back. */
  function flushDeferred() {
    if (!atTop()) return;
    if (state.ghosts.size) {
      state.ghosts.forEach(detach);
      state.ghosts.clear();
    }
    if (state.pending.length) {
      var p = state.pending;
      state.pending = [];
      insertTop(p, true);
    }
    updateChrome();
  }

  /* ------------------------------------------------------------ manifest */

  function applyEvent(ev) {
    ev = ev && typeof ev === "object" ? ev : {};
    var title = typeof ev.title === "string" && ev.title.trim() ? ev.title.trim() : state.event;
    if (els.title.textContent !== title) els.title.textContent = title;
    document.title = title + " · Live gallery";
    var sub = typeof ev.subtitle === "string" ? ev.subtitle.trim() : "";
    els.subtitle.textContent = sub;
    els.subtitle.hidden = !sub;
    var heroUrl = relOk(ev.hero) ? urlFor(ev.hero) : null;
    if (heroUrl) {
      if (els.hero.getAttribute("data-src") !== heroUrl) {
        els.hero.setAttribute("data-src", heroUrl);
        els.hero.classList.remove("is-loaded");
        els.hero.onload = function () { els.hero.classList.add("is-loaded"); };
        els.hero.onerror = function () {
          els.hero.hidden = true;
          els.masthead.classList.remove("masthead--hero");
        };
        els.hero.fetchPriority = "high";
        els.hero.src = heroUrl;
      }
      els.hero.hidden = false;
      els.masthead.classList.add("masthead--hero");
    } else {
      els.hero.hidden = true;
      els.hero.removeAttribute("data-src");
      els.masthead.classList.remove("masthead--hero");
    }
  }

  function applyManifest(m) {
    var entries = sanitize(m && m.photos);
    applyEvent(m && m.event);

    // Drop images known to be broken, unless their entry changed since.
    entries = entries.filter(function (e) {
      var b = state.broken.get(e.name);
      if (b === undefined) return true;
      if (b === signature(e)) return false;
      state.broken.delete(e.name);
      return true;
    });

    if (!state.loaded) {
      state.loaded = true;
      state.list = entries;
      state.rendered = 0;
      relayout(true);
      renderMore();
      return;
    }

    var byName = new Map();
    entries.forEach(function (e) { byName.set(e.name, e); });

    // 1. Unpublished photos disappear.
    state.pending = state.pending.filter(function (e) { return byName.has(e.name); });
    state.list.slice().forEach(function (e) {
      if (!byName.has(e.name)) removePhoto(e.name);
    });

    // 2. Changed entries (re-exported photo): update in place.
    var inList = new Map();
    state.list.forEach(function (e, i) {
      var fresh = byName.get(e.name);
      inList.set(e.name, i);
      if (fresh && signature(fresh) !== signature(e)) {
        state.list[i] = fresh;
        var t = state.tiles.get(e.name);
        if (t) {
          var h = tileUnits(fresh);
          if (state.columns[t.col]) state.columns[t.col].height += h - t.h;
          t.h = h;
          t.entry = fresh;
          applyImage(t, fresh);
        }
      }
    });
    state.pending = state.pending.map(function (e) { return byName.get(e.name) || e; });

    // 3. New photos. Those that sort below everything rendered go into the
    //    not-yet-rendered part of the list; the rest enter at the top.
    var pendingNames = new Set(state.pending.map(function (e) { return e.name; }));
    var top = [];
    var later = []; // [entry, nameOfNextExisting|null]
    var nextExisting = null;
    for (var i = entries.length - 1; i >= 0; i--) {
      var e = entries[i];
      if (inList.has(e.name)) { nextExisting = e.name; continue; }
      if (pendingNames.has(e.name)) continue;
      var nextIdx = nextExisting === null ? state.list.length : listIndex(nextExisting);
      if (nextIdx >= state.rendered) later.push([e, nextExisting]);
      else top.unshift(e);
    }
    var wasFullyRendered = state.rendered === state.list.length;
    // `later` is in reverse manifest order: insert oldest-first so that
    // several additions in front of the same photo keep their order.
    for (var k = later.length - 1; k >= 0; k--) {
      var idx = later[k][1] === null ? state.list.length : listIndex(later[k][1]);
      state.list.splice(idx, 0, later[k][0]);
    }
    if (later.length && wasFullyRendered) {
      renderMore(true); // everything was on the page: show these too, at the bottom
    }

    if (top.length) {
      if (atTop()) {
        insertTop(state.pending.length ? top.concat(state.pending) : top, true);
        state.pending = [];
      } else {
        state.pending = top.concat(state.pending);
      }
    }
    if (atTop()) flushDeferred();
    updateChrome();
  }

  function updateChrome() {
    var total = state.list.length + state.pending.length;
    els.count.textContent = state.loaded && total > 0 ? plural(total, "photo", "photos") : "";
    if (!state.loaded) return;
    if (total === 0) {
      setState("empty");
      setNotice(EMPTY_TEXT, "empty");
    } else {
      setState("ready");
      if (!els.notice.classList.contains("notice--error")) setNotice("");
    }
    els.footer.hidden = total === 0;
    var n = state.pending.length;
    if (n > 0) {
      els.pillText.textContent = plural(n, "new photo", "new photos");
      els.pill.hidden = false;
    } else {
      els.pill.hidden = true;
    }
    if (state.lb.open) updateLightboxChrome();
  }

  /* ------------------------------------------------------------- polling */

  function schedule(seconds) {
    clearTimeout(state.timer);
    state.timer = null;
    if (document.hidden) return; // resumes on visibilitychange
    // Jitter spreads guests' polls apart; it only ever lengthens the interval,
    // so a tab never makes more than one request per pollSeconds.
    var jitter = 1 + Math.random() * 0.2;
    var ms = Math.max(0.2, seconds) * jitter * 1000;
    state.nextPollAt = Date.now() + ms; // for tests and bench/gallery.py
    state.timer = setTimeout(poll, ms);
  }

  function nextDelay() {
    var base = Number(CFG.pollSeconds) > 0 ? Number(CFG.pollSeconds) : 10;
    if (state.failures === 0) return base;
    return Math.min(MAX_BACKOFF_S, base * Math.pow(2, Math.min(state.failures, 6)));
  }

  function poll() {
    if (state.inFlight) return;
    clearTimeout(state.timer);
    state.timer = null;
    state.nextPollAt = null;
    state.inFlight = true;
    stats.polls += 1;
    var headers = {};
    // Same origin: send the validator ourselves and get the 304. Cross-origin
    // (R2 custom domain) a custom header would cost a CORS preflight per poll,
    // so let the browser's cache revalidate (cache: "no-cache") instead.
    if (state.etag && state.sameOrigin) headers["If-None-Match"] = state.etag;
    fetch(state.manifestUrl, { cache: "no-cache", headers: headers })
      .then(function (res) {
        stats.lastStatus = res.status;
        if (res.status === 304) {
          stats.notModified += 1;
          return null;
        }
        if (res.status === 404) {
          var err = new Error("not found");
          err.notFound = true;
          throw err;
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        var etag = res.headers.get("ETag");
        return res.text().then(function (text) {
          if (etag) state.etag = etag;
          if (text === state.lastText) {
            stats.notModified += 1;
            return null;
          }
          var m = JSON.parse(text);
          state.lastText = text;
          stats.changed += 1;
          applyManifest(m);
          return null;
        });
      })
      .then(function () {
        state.failures = 0;
        if (els.notice.classList.contains("notice--error")) setNotice("");
        els.live.hidden = false;
        els.live.classList.remove("live--offline");
        els.live.querySelector(".live__text").textContent = "Live";
      }, function (err) {
        if (!state.loaded && err && err.notFound) {
          // No manifest yet: the event's first photo has not been published.
          // That is a normal state, not a failure: keep the normal rhythm so
          // the first photos show up as quickly as later ones.
          stats.notFound += 1;
          state.failures = 0;
          els.live.hidden = false;
          setState("missing");
          setNotice(EMPTY_TEXT, "empty");
          return;
        }
        state.failures += 1;
        stats.errors += 1;
        if (!state.loaded) {
          setState("error");
          setNotice("Could not load the gallery. Retrying…", "error");
        } else {
          els.live.classList.add("live--offline");
          els.live.querySelector(".live__text").textContent = "Reconnecting…";
        }
      })
      .then(function () {
        state.inFlight = false;
        stats.lastPollEnd = Date.now();
        schedule(nextDelay());
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(state.timer);
      state.timer = null;
    } else if (state.manifestUrl && !state.inFlight) {
      poll(); // catch up once, then the normal rhythm resumes
    }
  });

  window.addEventListener("online", function () {
    if (state.manifestUrl && !document.hidden && !state.inFlight) poll();
  });

  /* -------------------------------------------------------- scroll & pill */

  var scrollQueued = false;
  window.addEventListener("scroll", function () {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(function () {
      scrollQueued = false;
      if ((state.pending.length || state.ghosts.size) && atTop()) flushDeferred();
    });
  }, { passive: true });

  els.pill.addEventListener("click", function () {
    var y = window.scrollY + gridTop() - 12;
    var target = Math.max(0, Math.min(y, window.scrollY));
    if (reducedMotion()) {
      window.scrollTo(0, target);
      flushDeferred();
    } else {
      window.scrollTo({ top: target, behavior: "smooth" });
    }
    // Arrival at the top flushes (scroll handler); make sure it happens.
    setTimeout(function () {
      if (state.pending.length && !atTop()) window.scrollTo(0, target);
      flushDeferred();
    }, 1200);
  });

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (state.loaded) relayout(false);
    }, 120);
  });

  /* ------------------------------------------------------------ lightbox */

  function lbIndex() { return state.lb.name === null ? -1 : listIndex(state.lb.name); }

  function showInLightbox(i) {
    var e = state.list[i];
    if (!e) return;
    state.lb.name = e.name;
    var img = els.lbImg;
    els.lbError.hidden = true;
    img.classList.remove("is-loaded");
    img.setAttribute("data-name", e.name);
    img.alt = "Photo " + e.name;
    img.width = e.w;
    img.height = e.h;
    els.lbStage.style.setProperty("--ph", e.color);
    els.lbStage.style.setProperty("--ar", e.w + " / " + e.h);
    // Show the (already cached) thumbnail at once, then the web size.
    if (e.thumb) img.style.setProperty("--thumb", "url(\"" + urlFor(e.thumb).replace(/"/g, "%22") + "\")");
    else img.style.removeProperty("--thumb");
    img.removeAttribute("srcset");
    img.src = webUrl(e);
    els.lbDownload.href = urlFor(e.src);
    els.lbDownload.setAttribute("download", fileName(e));
    var cap = "";
    if (e.taken) {
      var d = new Date(e.taken);
      if (!isNaN(d.getTime())) {
        try {
          cap = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
        } catch (_) { cap = ""; }
      }
    }
    els.lbCaption.textContent = cap;
    updateLightboxChrome();
    preload(i + 1);
    preload(i - 1);
  }

  function preload(i) {
    var e = state.list[i];
    if (e) { var im = new Image(); im.decoding = "async"; im.src = webUrl(e); }
  }

  function updateLightboxChrome() {
    var i = lbIndex();
    var n = state.list.length;
    els.lbCounter.textContent = i >= 0 ? (i + 1) + " / " + n : "";
    els.lbPrev.disabled = i <= 0;
    els.lbNext.disabled = i < 0 || i >= n - 1;
  }

  function openLightbox(name, fromHistory) {
    var i = listIndex(name);
    if (i === -1) return;
    state.lb.returnFocus = document.activeElement;
    state.lb.open = true;
    els.lb.hidden = false;
    root.classList.add("has-lightbox");
    // Force a style flush so the opening transition runs.
    void els.lb.offsetWidth;
    els.lb.classList.add("is-open");
    showInLightbox(i);
    if (!fromHistory) {
      try {
        history.pushState({ lightbox: name }, "", "#photo=" + encodeURIComponent(name));
        state.lb.pushed = true;
      } catch (_) { state.lb.pushed = false; }
    }
    els.lbClose.focus({ preventScroll: true });
  }

  function closeLightbox(fromHistory) {
    if (!state.lb.open) return;
    var name = state.lb.name;
    state.lb.open = false;
    state.lb.touch = null;
    els.lbImg.style.transform = "";
    els.lb.classList.remove("is-open");
    els.lb.hidden = true;
    root.classList.remove("has-lightbox");
    els.lbImg.removeAttribute("src");
    if (!fromHistory && state.lb.pushed) {
      state.lb.pushed = false;
      history.back();
    } else {
      state.lb.pushed = false;
    }
    // Bring the photo the guest ended on into view, and focus its tile.
    var i = name === null ? -1 : listIndex(name);
    if (i >= 0) {
      while (i >= state.rendered && state.rendered < state.list.length) renderMore();
      var t = state.tiles.get(name);
      if (t) {
        var r = t.el.getBoundingClientRect();
        if (r.bottom < 0 || r.top > viewportH()) t.el.scrollIntoView({ block: "center" });
        t.el.focus({ preventScroll: true });
        return;
      }
    }
    if (state.lb.returnFocus && state.lb.returnFocus.focus) state.lb.returnFocus.focus({ preventScroll: true });
  }

  function step(delta) {
    var i = lbIndex();
    var j = i + delta;
    if (i < 0 || j < 0 || j >= state.list.length) {
      nudge(delta);
      return;
    }
    showInLightbox(j);
    if (state.lb.pushed) {
      try { history.replaceState({ lightbox: state.lb.name }, "", "#photo=" + encodeURIComponent(state.lb.name)); } catch (_) {}
    }
  }

  function nudge(delta) {
    els.lbStage.classList.remove("nudge-left", "nudge-right");
    void els.lbStage.offsetWidth;
    els.lbStage.classList.add(delta > 0 ? "nudge-left" : "nudge-right");
  }

  function lightboxAfterRemoval(oldIndex) {
    if (!state.list.length) { closeLightbox(false); return; }
    var j = Math.min(Math.max(oldIndex, 0), state.list.length - 1);
    showInLightbox(j);
  }

  els.grid.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var a = ev.target.closest && ev.target.closest(".tile");
    if (!a || a.classList.contains("tile--ghost")) return;
    ev.preventDefault();
    openLightbox(a.getAttribute("data-name"), false);
  });

  // Act on touchend for the close button: right after a swipe, Chrome may
  // swallow the synthesized click (tap-to-stop-fling). preventDefault stops
  // that click from also landing on the tile under the finger.
  function onTap(el, fn) {
    el.addEventListener("click", fn);
    el.addEventListener("touchend", function (ev) {
      if (ev.changedTouches.length !== 1) return;
      var p = ev.changedTouches[0];
      var r = el.getBoundingClientRect();
      if (p.clientX < r.left || p.clientX > r.right || p.clientY < r.top || p.clientY > r.bottom) return;
      ev.preventDefault();
      ev.stopPropagation();
      fn(ev);
    }, { passive: false });
  }

  onTap(els.lbClose, function () { closeLightbox(false); });
  els.lbPrev.addEventListener("click", function () { step(-1); });
  els.lbNext.addEventListener("click", function () { step(1); });
  els.lbStage.addEventListener("click", function (ev) {
    if (ev.target === els.lbStage) closeLightbox(false); // click on the backdrop
  });
  els.lbImg.addEventListener("load", function () { els.lbImg.classList.add("is-loaded"); });
  els.lbImg.addEventListener("error", function () {
    var cur = els.lbImg.getAttribute("src");
    var e = state.list[lbIndex()];
    if (e && e.webp && cur === urlFor(e.webp)) { // no WebP after all: the JPEG
      els.lbImg.src = urlFor(e.src);
      return;
    }
    if (cur) els.lbError.hidden = false;
  });

  els.lbDownload.addEventListener("click", function (ev) {
    // `download` only works for same-origin URLs; for an R2 custom domain,
    // fetch the file (the bucket's CORS rule allows it) and save the blob.
    var href = els.lbDownload.href;
    var u;
    try { u = new URL(href, location.href); } catch (_) { return; }
    if (u.origin === location.origin || !window.fetch || !window.URL || !URL.createObjectURL) return;
    ev.preventDefault();
    var name = els.lbDownload.getAttribute("download") || "photo.jpg";
    // The <img> already loaded this URL without CORS, and that cached copy has
    // no Access-Control-Allow-Origin: bypass the browser cache, and use a
    // separate URL so a CDN never answers this CORS request with the copy it
    // cached for an <img> either (R2 ignores the query string).
    var corsUrl = href + (href.indexOf("?") === -1 ? "?" : "&") + "download";
    fetch(corsUrl, { mode: "cors", cache: "no-store", credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.blob(); })
      .then(function (blob) {
        var obj = URL.createObjectURL(blob);
        var a = document.createElement("a");
        a.href = obj;
        a.download = name;
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(obj); }, 30000);
      })
      .catch(function () { window.open(href, "_blank", "noopener"); });
  });

  document.addEventListener("keydown", function (ev) {
    if (!state.lb.open) return;
    if (ev.key === "Escape") { ev.preventDefault(); closeLightbox(false); }
    else if (ev.key === "ArrowRight") { ev.preventDefault(); step(1); }
    else if (ev.key === "ArrowLeft") { ev.preventDefault(); step(-1); }
    else if (ev.key === "Tab") {
      // Keep focus inside the dialog.
      var f = Array.prototype.filter.call(
        els.lb.querySelectorAll("button, a[href]"),
        function (x) { return !x.disabled && x.offsetParent !== null; },
      );
      if (!f.length) return;
      var first = f[0], last = f[f.length - 1];
      if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
      else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
    }
  });

  window.addEventListener("popstate", function (ev) {
    var want = ev.state && ev.state.lightbox;
    if (state.lb.open && !want) closeLightbox(true);
    else if (!state.lb.open && want && listIndex(want) !== -1) openLightbox(want, true);
  });

  // Swipe: horizontal flick changes photo, downward flick closes.
  els.lb.addEventListener("touchstart", function (ev) {
    if (ev.touches.length !== 1) { state.lb.touch = null; return; }
    var p = ev.touches[0];
    state.lb.touch = { x: p.clientX, y: p.clientY, t: Date.now(), dx: 0, dy: 0 };
  }, { passive: true });

  els.lb.addEventListener("touchmove", function (ev) {
    var s = state.lb.touch;
    if (!s || ev.touches.length !== 1) return;
    var p = ev.touches[0];
    s.dx = p.clientX - s.x;
    s.dy = p.clientY - s.y;
    if (Math.abs(s.dx) > Math.abs(s.dy)) {
      els.lbImg.style.transform = "translateX(" + s.dx + "px)";
    } else if (s.dy > 0) {
      els.lbImg.style.transform = "translateY(" + s.dy + "px)";
    }
  }, { passive: true });

  function touchEnd(ev) {
    var s = state.lb.touch;
    state.lb.touch = null;
    els.lbImg.style.transform = "";
    if (!s) return;
    if (ev.changedTouches && ev.changedTouches[0]) {
      s.dx = ev.changedTouches[0].clientX - s.x;
      s.dy = ev.changedTouches[0].clientY - s.y;
    }
    var fast = Date.now() - s.t < 300;
    var minX = fast ? 30 : 60;
    if (Math.abs(s.dx) > minX && Math.abs(s.dx) > Math.abs(s.dy) * 1.2) {
      step(s.dx < 0 ? 1 : -1);
    } else if (s.dy > 90 && s.dy > Math.abs(s.dx) * 1.5) {
      closeLightbox(false);
    }
  }
  els.lb.addEventListener("touchend", touchEnd);
  els.lb.addEventListener("touchcancel", function () {
    state.lb.touch = null;
    els.lbImg.style.transform = "";
  });

  /* ---------------------------------------------------------------- init */

  function init() {
    var params = new URLSearchParams(location.search);
    var ev = params.get("event");
    if (ev === null || ev === "") ev = CFG.defaultEvent;
    if (typeof ev === "string") ev = ev.trim().toLowerCase();
    if (!ev || !EVENT_RE.test(ev)) {
      setState("no-event");
      els.title.textContent = "Live gallery";
      setNotice(ev
        ? "That gallery link does not look right. Please check the address or scan the QR code again."
        : "Welcome! Open the gallery link or scan the QR code you were given to see the photos.", "empty");
      return;
    }
    state.event = ev;
    els.title.textContent = ev;
    state.manifestUrl = urlFor("manifest.json");
    try {
      state.sameOrigin = new URL(state.manifestUrl, location.href).origin === location.origin;
    } catch (_) {
      state.sameOrigin = true;
    }
    setNotice("Loading photos…", "loading");
    buildColumns(wantedColumns());
    observer.observe(els.sentinel);
    poll();
    // A deep link (#photo=NAME) opens that photo once the manifest is in.
    var m = /^#photo=(.+)$/.exec(location.hash);
    if (m) {
      var want = decodeURIComponent(m[1]);
      var tries = 0;
      var wait = setInterval(function () {
        tries += 1;
        if (state.loaded || tries > 50) {
          clearInterval(wait);
          if (listIndex(want) !== -1) {
            history.replaceState(null, "", location.pathname + location.search);
            openLightbox(want, false);
          }
        }
      }, 100);
    }
  }

  window.gallery = {
    stats: stats,
    state: state,
    poll: function () { if (!state.inFlight) poll(); },
    config: CFG,
  };

  init();
})();
