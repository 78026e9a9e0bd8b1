// The cameras card: FTP accounts (connected now, frames, partial uploads discarded, last frame),
// what to type into the camera, and the forms that add, change and remove an account.
import { $, api, confirmSheet, el, toast } from "./dom.js";
import { ago } from "./format.js";
import { state } from "./state.js";

const now = () => (state.status?.server_time ? state.status.server_time * 1000 : Date.now());

export async function loadCameras() {
  try { fillCameras(await api("/api/cameras")); } catch (e) { toast(e.message, { error: true }); }
}

function fillServer(s) {
  const host = location.hostname;
  const rows = [["Server", host], ["Port", String(s.port)], ["Passive ports", s.passive_ports],
    ["Security", s.tls ? "FTPS (explicit TLS) — plain FTP only on this appliance's Wi-Fi" : "Plain FTP only"]];
  if (s.fingerprint) rows.push(["Certificate SHA-256", s.fingerprint]);
  $("#cameras-server").replaceChildren(...rows.map(([k, v]) =>
    el("div", {}, el("span", {}, k), el("span", { class: k.startsWith("Cert") ? "mono small" : null }, v))));
  if (s.fingerprint) $("#cameras-server").append(el("div", {}, el("span", {}, "For Nikon and Sony"),
    el("a", { href: "/api/cameras/certificate.pem", download: "appliance-ftps.pem" }, "Download the certificate")));
}

function account(a) {
  const seen = a.connected_since ? `Connected from ${a.client_address}` : "Not connected";
  const frames = `${a.frames_received} frame${a.frames_received === 1 ? "" : "s"}` +
    (a.last_frame_at ? ` · last ${ago(a.last_frame_at, now())}` : "");
  const partial = a.partials_discarded ? el("small", { class: "warn" },
    `${a.partials_discarded} partial upload${a.partials_discarded === 1 ? "" : "s"} discarded`) : null;
  return el("div", { class: "event camera" + (a.connected_since ? " current" : ""), "data-user": a.user },
    el("span", { class: "dot " + (a.connected_since ? "on" : "off"), "aria-hidden": "true" }),
    el("div", { class: "grow" }, el("strong", {}, a.label || a.user),
      el("small", {}, `${a.user} · ${a.event || "current event"} · ${seen}`), el("small", {}, frames),
      el("small", {}, `Belongs to ${a.owner_name || "the owner"}` +
        (a.owner_role === "viewer" ? " (viewer: never auto-publishes)" : "")), partial),
    el("div", { class: "actions" }, ownerSelect(a),
      el("button", { type: "button", onclick: () => newPassword(a) }, "New password"),
      el("button", { type: "button", class: "danger", onclick: () => remove(a) }, "Remove")));
}

let users = []; // the admin's people a camera can belong to (from GET /api/cameras)

function ownerSelect(a) {
  const select = el("select", { "aria-label": `${a.label || a.user} belongs to`, onchange: () => setOwner(a, select.value) },
    el("option", { value: "" }, "The owner"), ...users.map((u) => el("option", { value: u.id }, `${u.name} (${u.role})`)));
  select.value = a.owner_id ?? "";
  return select;
}

async function setOwner(a, value) {
  try { fillCameras(await api(`/api/cameras/${encodeURIComponent(a.user)}`, { method: "PUT", body: { owner_id: value ? Number(value) : null } }));
    toast(`${a.label || a.user} now belongs to ${value ? users.find((u) => String(u.id) === value)?.name : "the owner"}`); }
  catch (e) { toast(e.message, { error: true }); }
}

export function fillCameras(data) {
  users = data.users || [];
  fillServer(data.server);
  const list = $("#cameras-list");
  list.replaceChildren(...data.accounts.map(account));
  if (!data.accounts.length) list.append(el("p", { class: "muted small" }, "No camera yet: add one below."));
  const events = state.settings?.events?.events || [];
  const select = $("#camera-event");
  const keep = select.value;
  select.replaceChildren(el("option", { value: "" }, "Current event"),
    ...events.map((e) => el("option", { value: e.id }, e.title)));
  select.value = keep;
  const owner = $("#camera-owner");
  const kept = owner.value;
  owner.replaceChildren(el("option", { value: "" }, "The owner"),
    ...users.map((u) => el("option", { value: u.id }, `${u.name} (${u.role})`)));
  owner.value = kept;
}

async function newPassword(a) {
  const password = prompt(`New password for ${a.user} (at least 8 characters)`);
  if (!password) return;
  try { fillCameras(await api(`/api/cameras/${encodeURIComponent(a.user)}`, { method: "PUT", body: { password } }));
    toast("Password changed — enter it in the camera too"); }
  catch (e) { toast(e.message, { error: true }); }
}

async function remove(a) {
  if (!(await confirmSheet(`Remove ${a.label || a.user}?`,
    "The camera can no longer send frames. Frames already received stay in the buffer.", "Remove"))) return;
  try { fillCameras(await api(`/api/cameras/${encodeURIComponent(a.user)}`, { method: "DELETE" })); toast("Camera removed"); }
  catch (e) { toast(e.message, { error: true }); }
}

$("#form-camera").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const body = { user: f.user.value.trim(), password: f.password.value, label: f.label.value };
  if (f.event_id.value) body.event_id = Number(f.event_id.value);
  if (f.owner_id.value) body.owner_id = Number(f.owner_id.value);
  try { fillCameras(await api("/api/cameras", { body })); f.reset(); toast("Camera added — enter the same user and password in the camera"); }
  catch (e) { toast(e.message, { error: true }); }
});

// One line for the status panel: FTP cameras, then USB-tethered ones.
export function camerasLine(c) {
  const usb = (c?.usb || []).map((u) => `USB: ${u.camera} ${u.connected ? "connected" : "unplugged"} · ` +
    `${u.frames} frame${u.frames === 1 ? "" : "s"}` + (u.last_frame_at ? ` · last ${ago(u.last_frame_at, now())}` : ""));
  return [ftpLine(c), ...usb].filter(Boolean).join(" — ");
}

function ftpLine(c) {
  if (!c || !c.accounts) return c?.usb?.length ? "" : "No FTP camera set up";
  const parts = [c.connected.length ? `${c.connected.join(", ")} connected` : "None connected",
    `${c.frames} frame${c.frames === 1 ? "" : "s"}`];
  if (c.last_frame_at) parts.push(`last ${ago(c.last_frame_at, now())}`);
  for (const p of c.partials) parts.push(`${p.count} partial upload${p.count === 1 ? "" : "s"} discarded from ${p.camera}`);
  return parts.join(" · ");
}
