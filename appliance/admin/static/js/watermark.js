// The watermark card: none/text/image, position, opacity and size, with a live preview on a buffer photo.
import { $, api, toast } from "./dom.js";
import { state } from "./state.js";

function wmForm() { return $("#form-watermark"); }

export function fillWatermark(w) {
  const f = wmForm(), s = w.watermark;
  state.status.watermark_version = w.version;
  for (const r of f.querySelectorAll('[name="kind"]')) r.checked = r.value === s.kind;
  for (const r of f.querySelectorAll('[name="position"]')) r.checked = r.value === s.position;
  f.text.value = s.text; f.opacity.value = s.opacity; f.size.value = s.size;
  f.dataset.png = s.png || "";
  syncWatermarkForm();
}

function wmDraft() {
  const f = wmForm();
  const draft = { kind: f.querySelector('[name="kind"]:checked')?.value || "none",
    position: f.querySelector('[name="position"]:checked')?.value || "bottom-right",
    text: f.text.value, opacity: Number(f.opacity.value), size: Number(f.size.value) };
  if (draft.kind === "image" && f.dataset.png) draft.png = f.dataset.png;
  return draft;
}

let wmTimer = 0;
function syncWatermarkForm() {
  const f = wmForm(), d = wmDraft();
  for (const n of f.querySelectorAll("[data-kind]")) {
    n.hidden = n.dataset.kind === "mark" ? d.kind === "none" : n.dataset.kind !== d.kind;
  }
  f["opacity-out"].value = `${Math.round(d.opacity * 100)}%`;
  f["size-out"].value = `${Math.round(d.size * 100)}% of the short edge`;
  clearTimeout(wmTimer);
  wmTimer = setTimeout(async () => {
    const ready = d.kind === "none" || (d.kind === "text" && d.text.trim()) || (d.kind === "image" && d.png);
    const img = $("#wm-preview"), note = $("#wm-note");
    if (!ready) { note.textContent = d.kind === "text" ? "Type the text to preview it." : "Choose a PNG to preview it."; return; }
    const res = await fetch("/api/settings/watermark/preview?" + new URLSearchParams(d), { credentials: "same-origin" });
    if (res.ok) {
      const blob = await res.blob();
      if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
      img.src = URL.createObjectURL(blob); img.hidden = false; note.textContent = "Preview on a photo from the buffer.";
    } else {
      const data = await res.json().catch(() => ({}));
      img.hidden = true; note.textContent = data.error || "No preview.";
    }
  }, 300);
}

wmForm().addEventListener("input", (e) => { if (e.target.name !== "image") syncWatermarkForm(); });
wmForm().image.addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append("png", file);
  try {
    await api("/api/settings/watermark.png", { method: "PUT", form });
    fillWatermark(await api("/api/settings/watermark"));
    toast("Watermark image uploaded — it is on");
  } catch (err) { toast(err.message, { error: true }); }
  e.target.value = "";
});
wmForm().addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillWatermark(await api("/api/settings/watermark", { method: "PUT", body: wmDraft() }));
    toast("Watermark saved — used for the next publications");
  } catch (e) { toast(e.message, { error: true }); }
});
