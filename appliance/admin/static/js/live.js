// The live feed: what is published and how far its upload got; unpublish and retry from the list.
import { $, api, confirmSheet, el, toast } from "./dom.js";
import { shortTime } from "./format.js";
import { state } from "./state.js";
import { updateTile } from "./buffer.js";
import { plainError } from "./report.js";

const SYNC_TEXT = { publishing: "Rendering", queued: "Queued", uploading: "Uploading", retrying: "Retrying", live: "Live",
  failed: "Failed" };

function liveRow(p) {
  const sub = p.error ? plainError({ message: p.error, details: p.error_details }, "sub err")
    : el("div", { class: "sub" }, p.live_at ? `Live since ${shortTime(p.live_at)}` : p.published_at
      ? `Published ${shortTime(p.published_at)}` : `Requested ${shortTime(p.requested_at)}`);
  return el("div", { class: "row", role: "listitem", tabindex: 0, "data-id": p.id, "data-name": p.name, "data-sync": p.sync },
    el("img", { src: p.thumb, alt: "", loading: "lazy", width: 60, height: 60 }),
    el("div", { class: "grow" }, el("div", { class: "name" }, el("span", { class: `pill ${p.sync}` }, SYNC_TEXT[p.sync] || p.sync), p.name), sub),
    p.state === "published" ? el("button", { type: "button", class: "danger unpub", onclick: () => unpublishLive(p) }, "Unpublish")
      : p.state === "failed" ? el("button", { type: "button", class: "unpub", onclick: () => retryLive(p) }, "Retry") : null);
}

async function retryLive(p) {
  try { await api("/api/retry", { body: { id: p.id } }); toast(`Publishing ${p.name} again`); loadLive(); }
  catch (e) { toast(e.message, { error: true }); }
}

export async function loadLive() {
  try {
    const data = await api("/api/live");
    const sig = JSON.stringify(data.photos);
    const published = data.photos.filter((p) => p.state === "published");
    const live = published.filter((p) => p.sync === "live").length;
    $("#tab-count-live").textContent = published.length ? String(published.length) : "";
    $("#live-summary").textContent = `${live} live · ${published.length - live} on the way`;
    if (sig === state.liveSig) return;
    state.liveSig = sig;
    state.live = data.photos;
    const focused = document.activeElement?.closest?.(".row")?.dataset.id;
    $("#live-list").replaceChildren(...(data.photos.length ? data.photos.map(liveRow)
      : [el("p", { class: "empty" }, "Nothing published yet. Open a photo in the buffer and tap Publish.")]));
    if (focused) $(`.row[data-id="${focused}"]`)?.focus();
  } catch (e) { /* the status bar shows connection trouble */ }
}

export async function unpublishLive(p) {
  if (!(await confirmSheet(`Unpublish ${p.name}?`, "Guests stop seeing it within seconds. The original stays in the buffer.", "Unpublish"))) return;
  try {
    await api("/api/unpublish", { body: { id: p.id } });
    toast(`Unpublished ${p.name}`);
    const photo = state.photos.find((x) => x.publication_id === p.id);
    if (photo) { photo.state = "unpublished"; photo.live = false; updateTile(state.photos.indexOf(photo)); }
    loadLive();
  } catch (e) { toast(e.message, { error: true }); }
}
