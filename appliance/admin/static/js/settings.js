// The settings tab: loads every card at once; the event page (with its cover photo), credits,
// folders and cleanup forms. The watermark and events cards live in watermark.js and events.js.
import { $, $$, api, confirmSheet, el, toast } from "./dom.js";
import { bytes } from "./format.js";
import { isOwner, state } from "./state.js";
import { loadBuffer } from "./buffer.js";
import { fillEvents } from "./events.js";
import { loadLive } from "./live.js";
import { fillWatermark } from "./watermark.js";
import { loadCameras } from "./cameras.js";
import { loadTeam } from "./team.js";

export async function loadSettings() {
  if (!isOwner()) return; // the other roles' settings tab is their account card only
  try {
    const s = await api("/api/settings");
    state.settings = s;
    fillEvent(s.event);
    fillWatermark(s.watermark);
    fillCredits(s.credits);
    fillEvents(s.events);
    fillFolders(s.folders);
    fillCleanup(s.cleanup);
    fillAccess(await api("/api/settings/gallery-password"));
    await loadCameras();
    await loadTeam();
  } catch (e) { toast(e.message, { error: true }); }
}

function fillEvent(e) {
  if (!e) return;
  const f = $("#form-event");
  f.title.value = e.event.title; f.subtitle.value = e.event.subtitle; f.gallery_url.value = e.gallery_url || "";
  f.order.value = e.order || "newest"; f.download.value = e.download || "web";
  $("#event-title").textContent = e.event.title;
  $("#event-slug").textContent = e.event.slug;
  const img = $("#hero-img");
  img.hidden = !e.hero;
  if (e.hero) img.src = e.hero.thumb;
  $("#hero-name").textContent = e.hero ? e.hero.name : "None";
  f.dataset.hero = e.hero ? e.hero.publication_id : "";
}

$("#form-event").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  try {
    const body = { title: f.title.value, subtitle: f.subtitle.value, gallery_url: f.gallery_url.value.trim(),
      order: f.order.value || "newest", download: f.download.value || "web" };
    if (f.dataset.heroChanged) body.hero_publication_id = f.dataset.hero ? Number(f.dataset.hero) : null;
    fillEvent(await api("/api/settings/event", { method: "PUT", body }));
    delete f.dataset.heroChanged;
    toast("Event page saved — the gallery updates in a few seconds");
  } catch (e) { toast(e.message, { error: true }); }
});

// The gallery password: only whether one is set comes back, never the password.
function fillAccess(a) {
  $("#access-state").textContent = a.protected
    ? "Guests need the password to open the gallery (and its share links)."
    : "Anyone with the gallery's link can see it.";
  $("#access-remove").hidden = !a.protected;
  $("#form-access").password.value = "";
}

$("#form-access").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillAccess(await api("/api/settings/gallery-password", { method: "PUT", body: { password: ev.currentTarget.password.value } }));
    toast("Gallery password set — guests are asked for it within a minute");
  } catch (e) { toast(e.message, { error: true }); }
});

$("#access-remove").addEventListener("click", async () => {
  if (!(await confirmSheet("Remove the gallery password?", "Anyone with the gallery's link can then see the photos.", "Remove"))) return;
  try {
    fillAccess(await api("/api/settings/gallery-password", { method: "DELETE" }));
    toast("Password removed — the gallery is open again");
  } catch (e) { toast(e.message, { error: true }); }
});

$("#hero-pick").addEventListener("click", async () => {
  const picker = $("#hero-picker");
  if (!picker.hidden) { picker.hidden = true; return; }
  await loadLive();
  const published = state.live.filter((p) => p.state === "published");
  const f = $("#form-event");
  const choose = (p) => () => {
    f.dataset.hero = p ? p.id : ""; f.dataset.heroChanged = "1";
    $("#hero-img").hidden = !p; if (p) $("#hero-img").src = p.thumb;
    $("#hero-name").textContent = p ? `${p.name} (save to apply)` : "None (save to apply)";
    picker.hidden = true;
  };
  picker.replaceChildren(el("button", { type: "button", onclick: choose(null), "aria-label": "No cover" }, "None"),
    ...published.map((p) => el("button", { type: "button", onclick: choose(p), "aria-label": p.name },
      el("img", { src: p.thumb, alt: "", loading: "lazy" }))));
  if (!published.length) picker.append(el("p", { class: "muted small" }, "Publish a photo first."));
  picker.hidden = false;
});

function fillCredits(c) {
  const f = $("#form-credits");
  f.artist.value = c.artist; f.copyright.value = c.copyright;
}

$("#form-credits").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  try {
    const res = await api("/api/settings/publish", { method: "PUT",
      body: { credits: { artist: f.artist.value, copyright: f.copyright.value } } });
    fillCredits(res.credits);
    toast("Credits saved — written into the next publications");
  } catch (e) { toast(e.message, { error: true }); }
});

function fillFolders(data) {
  $("#folders-list").replaceChildren(...data.folders.map((f) => el("div", {},
    el("span", {}, f.name), el("span", {}, `${f.path} · ${bytes(f.free_bytes)} free`))));
  const select = $("#watch-select");
  const options = [el("option", { value: "" }, "As configured" + (data.watch && !data.watch_overridden ? ` (${data.watch})` : " (none)"))];
  for (const c of data.choices) options.push(el("option", { value: c.id, selected: data.watch_overridden && c.path === data.watch }, c.path));
  select.replaceChildren(...options);
}

$("#form-folders").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillFolders(await api("/api/settings/folders", { method: "PUT", body: { watch: $("#watch-select").value || null } }));
    toast("Folders saved");
  } catch (e) { toast(e.message, { error: true }); }
});

function fillCleanup(c) {
  for (const b of $$("[data-c]")) {
    b.textContent = b.dataset.c === "trash" ? `${c.trash_files} files · ${bytes(c.trash_bytes)}` : String(c[b.dataset.c]);
  }
}

for (const b of $$("[data-cleanup]")) {
  b.addEventListener("click", async () => {
    const action = b.dataset.cleanup;
    if (action === "empty_trash" && !(await confirmSheet("Empty the local trash?",
      "Deletes the web copies of unpublished photos on this box. Originals stay in the buffer.", "Empty trash"))) return;
    try {
      const res = await api("/api/cleanup", { body: { action } });
      fillCleanup(res);
      toast(`Done (${res.affected})`);
      if (action === "restore_rejected") loadBuffer(true);
    } catch (e) { toast(e.message, { error: true }); }
  });
}
