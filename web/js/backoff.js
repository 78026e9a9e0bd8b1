/* When the next manifest poll is due. Pure. */

import { MAX_BACKOFF_S } from "./settings.js";

/**
 * Seconds until the next poll: pollSeconds (10 when unset or not positive),
 * doubled for each failure in a row (up to 2^6), never more than MAX_BACKOFF_S
 * once failing.
 */
export function pollDelay(pollSeconds, failures) {
  var base = Number(pollSeconds) > 0 ? Number(pollSeconds) : 10;
  if (failures === 0) return base;
  return Math.min(MAX_BACKOFF_S, base * Math.pow(2, Math.min(failures, 6)));
}

/**
 * Milliseconds to wait for a delay of `seconds` (at least 0.2 s). Jitter
 * spreads guests' polls apart; it only ever lengthens the interval, so a tab
 * never makes more than one request per pollSeconds. `random` in [0, 1).
 */
export function jitteredMs(seconds, random) {
  var jitter = 1 + random * 0.2;
  return Math.max(0.2, seconds) * jitter * 1000;
}
