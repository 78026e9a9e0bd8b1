// "Find my photos": the settings card of the current event (switch, consent text, indexing state).
import { $, api, confirmSheet, toast } from "./dom.js";
import { isOwner } from "./state.js";

let defaults = "";

function describe(f) {
  if (!f.enabled) return "Off: no face index is made or published for this event.";
  const parts = [`${f.scanned} photos scanned, ${f.faces} faces`];
  if (f.waiting) parts.push(`${f.waiting} waiting`);
  if (f.failed) parts.push(`${f.failed} could not be read`);
  parts.push(f.published_version ? "index published" : "index not published yet");
  return `On: ${parts.join(" · ")}.`;
}

function fill(f) {
  const form = $("#form-faces");
  defaults = f.default_consent;
  form.enabled.checked = f.enabled;
  form.consent.value = f.consent;
  form.consent.maxLength = f.max_consent;
  const state = $("#faces-state");
  state.textContent = describe(f);
  state.classList.toggle("on", f.enabled);
}

export async function loadFaces() {
  try { fill(await api("/api/settings/faces")); } catch (e) { toast(e.message, { error: true }); }
}

$("#faces-default").addEventListener("click", () => { $("#form-faces").consent.value = defaults; });

$("#form-faces").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const enabled = form.enabled.checked;
  const was = $("#faces-state").classList.contains("on");
  if (was && !enabled && !(await confirmSheet("Turn off Find my photos?",
    "Deletes this event's face index here and in the gallery's bucket. Turning it on again indexes every photo anew.",
    "Turn off"))) return;
  try {
    fill(await api("/api/settings/faces", { method: "PUT", body: { enabled, consent: form.consent.value } }));
    toast(enabled ? "Find my photos on — photos are indexed in the background" : "Find my photos off");
  } catch (e) { toast(e.message, { error: true }); }
});

// The owner's card: other roles never ask for it (the server would refuse them).
window.addEventListener("hashchange", () => { if (location.hash === "#settings" && isOwner()) loadFaces(); });
if (location.hash === "#settings" && isOwner()) loadFaces();
