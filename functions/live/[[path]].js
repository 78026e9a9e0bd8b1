// Cloudflare Pages Function: /live/<event> (a guest's WebSocket) and /live/<event>/notify (the
// appliance), both handed to the event's Durable Object in the event-gallery-live Worker
// (functions/_live/), bound to this Pages project as LIVE. Without the binding: 503, and the
// gallery keeps polling.
import { forwardToChannel } from "../_lib/live.js";

export function onRequest(context) {
  return forwardToChannel(context.request, context.env);
}
