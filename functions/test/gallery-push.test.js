// The gallery's push helpers (web/js/push.js): channel URLs and reconnect timing. Plain Node.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BLOCKED_RETRY_S, NEVER_OPENED, channelUrl, retryDelay, skipAnnouncement } from "../../web/js/push.js";

test("channelUrl: same-origin path or another origin, ws/wss from the page's scheme", () => {
  assert.equal(channelUrl("/live", "gala", "https://g.example/?event=gala"), "wss://g.example/live/gala");
  assert.equal(channelUrl("/live/", "gala", "http://127.0.0.1:8000/"), "ws://127.0.0.1:8000/live/gala");
  assert.equal(channelUrl("https://live.example/live", "a-b", "https://g.example/"), "wss://live.example/live/a-b");
});

test("retryDelay: doubles to a minute; a channel never reached is tried every few minutes", () => {
  assert.equal(retryDelay(1, false, 0), 1);
  assert.equal(retryDelay(2, false, 0), 2);
  assert.equal(retryDelay(NEVER_OPENED, false, 0), BLOCKED_RETRY_S);
  assert.equal(retryDelay(NEVER_OPENED, true, 0), 4);
  assert.equal(retryDelay(20, true, 0), 60);
  assert.ok(retryDelay(2, true, 0.99) <= 2 * 1.3 && retryDelay(2, true, 0.99) > 2);
});

test("skipAnnouncement: only the channel's repeat on connect; several appliances' equal versions all count", () => {
  assert.equal(skipAnnouncement(true, 7, 7, true), true, "the repeat of what this tab fetched");
  assert.equal(skipAnnouncement(true, 7, 7, false), false, "not loaded yet: fetch");
  assert.equal(skipAnnouncement(true, 8, 7, true), false, "a newer one while away");
  // Appliance B's manifest 7 after appliance A's manifest 7: a new manifest all the same.
  assert.equal(skipAnnouncement(false, 7, 7, true), false);
});

test("readingOrder: by top, then column, then manifest position", async () => {
  const { readingOrder } = await import("../../web/js/order.js");
  // [name, top, column, list index]: a new photo at the top of column 1 comes right after the
  // first photo of column 0, even though it was added to the list later.
  assert.deepEqual(readingOrder([["a", 0, 0, 1], ["new", 0, 1, 0], ["b", 300, 1, 2], ["c", 240, 0, 3]]),
    ["a", "new", "c", "b"]);
  assert.deepEqual(readingOrder([]), []);
});

test("index.html preloads every module main.js imports, directly or not", async () => {
  const fs = await import("node:fs");
  const path = await import("node:path");
  const web = path.resolve(import.meta.dirname, "../../web");
  const html = fs.readFileSync(path.join(web, "index.html"), "utf8");
  const seen = new Set();
  const visit = (file) => {
    for (const m of fs.readFileSync(path.join(web, "js", file), "utf8").matchAll(/from "\.\/([a-z-]+\.js)"/g)) {
      if (!seen.has(m[1])) { seen.add(m[1]); visit(m[1]); }
    }
  };
  visit("main.js");
  for (const file of seen) assert.ok(html.includes(`href="js/${file}"`), `js/${file} is not preloaded`);
});
