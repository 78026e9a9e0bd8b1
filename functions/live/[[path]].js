// Cloudflare Pages Function: /live/<event> (a guest's WebSocket) and /live/<event>/notify (the
// appliance), both handed to the event's Durable Object in the event-gallery-live Worker
// (functions/_live/), bound to this Pages project as LIVE. Without the binding: 503, and the
// gallery keeps polling. A guest of an event with a password needs its cookie (../_lib/access.js);
// the notify carries its own signature.
import { guarded } from "../_lib/access.js";
import { forwardToChannel, parseLivePath } from "../_lib/live.js";

const serve = guarded((context) => forwardToChannel(context.request, context.env), (pathname) => {
  const route = parseLivePath(pathname);
  return route && route.action === "connect" ? route.event : null;
});

export function onRequest(context) {
  return serve(context);
}
