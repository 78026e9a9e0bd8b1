// The team card: this appliance's id in a shared event, the join code (QR + text) another
// appliance opens with a passphrase, camera clock offsets, "delete all my photos", and (owner)
// taking over or removing another appliance's shard, and the photos taken over (unpublish them).
// API: /api/team (appliance/admin/team_api.py).
import { $, api, confirmSheet, el, toast } from "./dom.js";

export async function loadTeam() {
  try { fillTeam(await api("/api/team")); } catch (e) { toast(e.message, { error: true }); }
}

function fillTeam(t) {
  const rows = [["This appliance", t.appliance_id],
    ["Event", t.event ? `${t.event.title} (${t.event.slug})` : "none"],
    ["Shared", t.shared ? (t.owner ? "yes — you made it" : "yes — joined") : "no (one appliance)"],
    ["Clock vs bucket", `${t.bucket_offset_s >= 0 ? "+" : ""}${t.bucket_offset_s.toFixed(1)} s`]];
  $("#team-info").replaceChildren(...rows.map(([k, v]) =>
    el("div", {}, el("span", {}, k), el("span", { class: k === "This appliance" ? "mono" : null }, v))));
  $("#form-team-remove").hidden = !(t.shared && t.owner);
  const cams = $("#team-cameras");
  cams.replaceChildren(...t.cameras.map((c) => cameraRow(c, t.camera_offsets[c] || 0)));
  if (!t.cameras.length) cams.append(el("p", { class: "muted small" }, "No camera in the buffer yet."));
  fillAdopted(t);
}

function fillAdopted(t) {
  $("#team-adopted").hidden = !t.takeovers.length;
  $("#team-takeovers").replaceChildren(...t.takeovers.map((k) => el("div", { class: "event" },
    el("div", { class: "grow" }, el("strong", { class: "mono" }, k.source_id),
      el("div", { class: "muted small" }, `${k.live} photo${k.live === 1 ? "" : "s"} in the gallery, ` +
        `taken over ${k.taken_at.slice(0, 16).replace("T", " ")}`)),
    k.live ? el("button", { type: "button", class: "danger", onclick: () => unpublishAdopted(
      { source: k.source_id }, `Take ${k.live} photo(s) of ${k.source_id} off the gallery?`) },
    "Unpublish all…") : null)));
  $("#team-adopted-summary").textContent = `${t.adopted.length} photo(s) taken over`;
  $("#team-adopted-list").replaceChildren(...t.adopted.map((a) => el("div", { class: "event" },
    el("div", { class: "grow mono small" }, a.name),
    el("button", { type: "button", onclick: () => unpublishAdopted({ adopted: [a.id] },
      `Take ${a.name} off the gallery?`) }, "Unpublish…"))));
}

async function unpublishAdopted(what, title) {
  if (!await confirmSheet(title, "Guests no longer see it and its files are deleted from the bucket. " +
      "This is logged.", "Unpublish")) return;
  try { const r = await api("/api/team/unpublish-adopted", { body: what });
    toast(`${r.unpublished} photo(s) taken off the gallery`); fillTeam(r); }
  catch (e) { toast(e.message, { error: true }); }
}

function cameraRow(camera, offset) {
  const input = el("input", { type: "number", step: "1", value: String(offset), inputmode: "numeric",
    "aria-label": `Seconds ${camera}'s clock is fast` });
  const save = el("button", { type: "button", onclick: async () => {
    try { fillTeam(await api("/api/team/camera-offset", { method: "PUT",
      body: { camera, fast_by_s: Number(input.value) || 0 } })); toast("Saved"); }
    catch (e) { toast(e.message, { error: true }); } } }, "Save");
  return el("div", { class: "event" }, el("div", { class: "grow" }, el("strong", {}, camera)), input, save);
}

$("#form-team-share").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  try {
    const r = await api("/api/team/share", { body: { passphrase: f.passphrase.value } });
    f.passphrase.value = "";
    const svg = new DOMParser().parseFromString(r.qr_svg, "image/svg+xml").documentElement;
    $("#team-qr").replaceChildren(document.importNode(svg, true));
    $("#team-code-text").value = r.code;
    $("#team-code").hidden = false;
    fillTeam(r);
  } catch (e) { toast(e.message, { error: true }); }
});

$("#form-team-join").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  try {
    const r = await api("/api/team/join", { body: { code: f.code.value, passphrase: f.passphrase.value } });
    f.passphrase.value = "";
    $("#team-bucket").hidden = r.bucket_matches;
    $("#team-bucket").textContent = r.bucket_matches ? "" :
      "This appliance uploads to another bucket. Put this into appliance.toml (boot partition):\n" + r.bucket_toml;
    toast(`Joined ${r.slug}`);
    fillTeam(r);
  } catch (e) { toast(e.message, { error: true }); }
});

$("#team-delete-all").addEventListener("click", async () => {
  const slug = $("#event-slug").textContent.trim();
  if (!await confirmSheet("Delete all my photos?", `Takes every photo THIS appliance published in ${slug} off the ` +
      "gallery. Other photographers' photos stay.", "Delete all mine")) return;
  try { const r = await api("/api/team/delete-all", { body: { confirm: slug } });
    toast(`${r.unpublished} photos taken off the gallery`); }
  catch (e) { toast(e.message, { error: true }); }
});

$("#form-team-remove").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const id = f.id.value.trim();
  if (!await confirmSheet(`Remove appliance ${id}?`, "Its photos leave the gallery" +
      (f.objects.checked ? " and its files are deleted" : "") + ". This is logged.", "Remove")) return;
  try { const r = await api("/api/team/remove-shard", { body: { id, confirm: id, objects: f.objects.checked } });
    toast(`${r.deleted} object(s) deleted`); }
  catch (e) { toast(e.message, { error: true }); }
});

$("#team-take-over").addEventListener("click", async () => {
  const f = $("#form-team-remove");
  const id = f.id.value.trim();
  if (!f.id.checkValidity() || !id) { f.reportValidity(); return; }
  if (!await confirmSheet(`Take over appliance ${id}?`, "Its published photos stay in the gallery and " +
      "are managed here from now on: you can unpublish them, and Delete all includes them. Its part of " +
      "the event is deleted from the bucket once this appliance lists them. This is logged.", "Take over")) return;
  try { const r = await api("/api/team/take-over", { body: { id, confirm: id } });
    toast(`${r.taken_over} photo(s) taken over from ${id}`); f.id.value = ""; fillTeam(r); }
  catch (e) { toast(e.message, { error: true }); }
});
