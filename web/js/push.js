/* Push: the event's live channel (a WebSocket to <liveBase>/<event>, a Durable Object) tells
 * this tab when a new manifest is in the bucket, and the tab fetches it at once.
 *
 * While the socket is open the tab does not poll, except one safety poll every
 * pushSafetySeconds. When the socket cannot connect (no channel deployed, a proxy that blocks
 * WebSockets) or drops, the tab polls as it always did and tries the socket again with backoff;
 * after NEVER_OPENED failed tries in a row it only retries every BLOCKED_RETRY_S. A "ping" every
 * HEARTBEAT_S (answered "pong" by the runtime without waking the object) finds dead sockets. */

import { CFG } from "./settings.js";
import { state, stats } from "./state.js";

export var HEARTBEAT_S = 25;
export var PONG_TIMEOUT_S = 10;
export var NEVER_OPENED = 3;
export var BLOCKED_RETRY_S = 300;

// Whether the socket is open is state.pushing (live.js times its polls by it).
var push = { ws: null, tries: 0, opened: false, timer: null, beat: null, pongDue: null, version: null,
  fresh: false };
var hooks = { poll: null, reschedule: null };

/** The WebSocket URL of an event's channel: liveBase may be a path ("/live") or an origin. */
export function channelUrl(liveBase, event, href) {
  var u = new URL(String(liveBase).replace(/\/+$/, "") + "/" + event, href);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.href;
}

/** Seconds before the next connection try: 1, 2, 4 … 60, or BLOCKED_RETRY_S once it looks blocked. */
export function retryDelay(tries, everOpened, random) {
  if (!everOpened && tries >= NEVER_OPENED) return BLOCKED_RETRY_S;
  return Math.min(60, Math.pow(2, Math.max(0, tries - 1))) * (1 + random * 0.3);
}

/** Is an announcement nothing new? Only the first after connecting can be: the channel repeats
 * its last one then, and if this tab already acted on that version it skips it. Every later one
 * is a new manifest, even with a version seen before (several appliances may feed one event, and
 * their versions are their own job numbers). */
export function skipAnnouncement(firstAfterConnect, version, actedOn, loaded) {
  return firstAfterConnect && loaded && version === actedOn;
}

function stopTimers() {
  clearInterval(push.beat);
  clearTimeout(push.pongDue);
  push.beat = push.pongDue = null;
}

function onMessage(ev) {
  var text = String(ev.data);
  clearTimeout(push.pongDue);
  push.pongDue = null;
  if (text === "pong") return;
  var msg;
  try {
    msg = JSON.parse(text);
  } catch (_) {
    return;
  }
  if (!msg || msg.type !== "manifest") return;
  stats.pushMessages += 1;
  var first = push.fresh;
  push.fresh = false;
  if (skipAnnouncement(first, msg.version, push.version, state.loaded)) return;
  push.version = msg.version;
  hooks.poll(true);
}

function onDown() {
  var wasOpen = state.pushing;
  stopTimers();
  push.ws = null;
  state.pushing = false;
  if (wasOpen) {
    stats.pushDrops += 1;
    hooks.reschedule(); // back to the normal rhythm at once, with a catch-up poll
  }
  later();
}

function later() {
  clearTimeout(push.timer);
  if (document.hidden) return; // reconnects when the tab is visible again
  push.tries += 1;
  push.timer = setTimeout(connect, retryDelay(push.tries, push.opened, Math.random()) * 1000);
}

export function connect() {
  clearTimeout(push.timer);
  push.timer = null;
  if (!CFG.push || !state.event || push.ws || typeof WebSocket === "undefined") return;
  var ws;
  try {
    ws = new WebSocket(channelUrl(CFG.liveBase, state.event, location.href));
  } catch (_) {
    later();
    return;
  }
  push.ws = ws;
  stats.pushConnects += 1;
  ws.onopen = function () {
    push.fresh = true; // the first message is the channel's last announcement
    push.opened = true;
    push.tries = 0;
    state.pushing = true;
    hooks.reschedule(); // the next poll is now only the safety poll
    push.beat = setInterval(function () {
      if (push.pongDue) return;
      try {
        ws.send("ping");
      } catch (_) {
        return;
      }
      push.pongDue = setTimeout(function () { ws.close(); onDown(); }, PONG_TIMEOUT_S * 1000);
    }, HEARTBEAT_S * 1000);
  };
  ws.onmessage = onMessage;
  ws.onclose = function () { if (push.ws === ws) onDown(); };
  ws.onerror = function () { /* onclose follows */ };
}

/** Start push for the current event. poll(now) fetches the manifest; reschedule() re-times it. */
export function bindPush(poll, reschedule) {
  hooks.poll = poll;
  hooks.reschedule = reschedule;
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !push.ws) connect();
  });
  window.addEventListener("online", function () {
    if (!push.ws) connect();
  });
  connect();
}

// For tests and bench/gallery.py (window.gallery.push).
export var pushState = push;
