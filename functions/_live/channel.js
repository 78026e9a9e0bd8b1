// The live channel of one event: a SQLite-backed Durable Object holding its guests' WebSockets
// with the Hibernation API (idle guests cost nothing: the object leaves memory while they stay
// connected, and "ping" is answered with "pong" by the runtime without waking it).
//
//   GET  /live/<event>          WebSocket upgrade: the guest gets the current announcement at once
//                               (if any), then one per publish. Plain GET: the announcement as JSON.
//   POST /live/<event>/notify   from the appliance, signed (see ../_lib/live.js); broadcast to all
//
// The Worker's own fetch routes by event name, so the channel can also be used without Pages.
import { DurableObject } from "cloudflare:workers";

import { MAX_BODY, WINDOW_S, announcement, forwardToChannel, parseLivePath, verifyNotify } from "../_lib/live.js";

function json(status, value, extra = {}) {
  return new Response(JSON.stringify(value), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...extra },
  });
}

export class EventChannel extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.started = Date.now(); // when this instance came into memory (X-Channel-Started)
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS announced (one INTEGER PRIMARY KEY CHECK (one = 1), "
      + "version INTEGER NOT NULL, text TEXT NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS notifies (id TEXT PRIMARY KEY, t INTEGER NOT NULL)");
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** The last announcement, kept in storage so it survives eviction and hibernation. */
  current() {
    const rows = this.sql.exec("SELECT version, text FROM announced").toArray();
    return rows.length ? rows[0] : null;
  }

  async fetch(request) {
    const route = parseLivePath(new URL(request.url).pathname);
    if (!route) return json(404, { error: "not found" });
    if (route.action === "notify") return this.notify(request, route.event);
    if (request.method !== "GET") return json(405, { error: "GET only" });
    const current = this.current();
    if ((request.headers.get("Upgrade") || "").toLowerCase() !== "websocket") {
      const body = current ? JSON.parse(current.text) : { type: "manifest", event: route.event, version: null };
      // How long this object has been in memory: a later start means it hibernated (or was evicted) since.
      return json(200, body, { "X-Channel-Started": String(this.started) });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    if (current) server.send(current.text);
    return new Response(null, { status: 101, webSocket: client });
  }

  async notify(request, event) {
    if (request.method !== "POST") return json(405, { error: "POST only" });
    const length = Number(request.headers.get("Content-Length") || 0);
    if (length > MAX_BODY) return json(413, { error: "body too large" });
    const body = await request.text();
    if (body.length > MAX_BODY) return json(413, { error: "body too large" });
    const now = Math.floor(Date.now() / 1000);
    const seen = (id) => this.sql.exec("SELECT 1 FROM notifies WHERE id = ?", id).toArray().length > 0;
    const result = await verifyNotify({
      secret: this.env.LIVE_SECRET, event, header: request.headers.get("X-Live-Signature"), body, now, seen,
    });
    if (!result.ok) return json(result.status, { error: result.error });
    // Checked again with no await in between: two copies of one notify cannot both pass.
    this.sql.exec("DELETE FROM notifies WHERE t < ?", now - 2 * WINDOW_S);
    if (seen(result.message.id)) return json(409, { error: "replayed notify" });
    this.sql.exec("INSERT INTO notifies (id, t) VALUES (?, ?)", result.message.id, now);
    // Announced as it comes, even when its version is lower than the last one: several appliances
    // may feed one event, and a late notify costs guests one conditional manifest fetch (304).
    const text = announcement(event, result.message);
    this.sql.exec("INSERT OR REPLACE INTO announced (one, version, text) VALUES (1, ?, ?)",
      result.message.version, text);
    let delivered = 0;
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
        delivered += 1;
      } catch {
        // a guest that went away between getWebSockets() and send(): its close handler runs
      }
    }
    return json(200, { ok: true, delivered, version: result.message.version });
  }

  webSocketMessage(ws, message) {
    // Guests only ever ask for the current announcement (after waking from a sleep, say).
    if (message === "current") {
      const current = this.current();
      if (current) ws.send(current.text);
    }
  }

  webSocketClose(ws, code, reason) {
    try {
      ws.close(code, reason);
    } catch {
      // already closed
    }
  }

  webSocketError() {
    // the runtime closes the socket; nothing is kept per guest
  }
}

export default {
  fetch(request, env) {
    return forwardToChannel(request, env);
  },
};
