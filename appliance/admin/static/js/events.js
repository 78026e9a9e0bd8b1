// The events card: the list with "Switch", and the form that creates an event and switches to it.
import { $, api, confirmSheet, el, toast } from "./dom.js";
import { webName } from "./format.js";
import { state } from "./state.js";
import { loadLive } from "./live.js";
import { loadSettings } from "./settings.js";

export function fillEvents(data) {
  $("#events-list").replaceChildren(...data.events.map((e) => {
    const current = e.id === data.current_id;
    return el("div", { class: "event" + (current ? " current" : "") },
      el("div", { class: "grow" }, el("strong", {}, e.title), el("small", {}, `${e.slug} · ${e.published} published`)),
      current ? el("span", { class: "muted small" }, "Current")
        : el("button", { type: "button", onclick: () => switchEvent(e) }, "Switch"));
  }));
}

async function switchEvent(e) {
  if (!(await confirmSheet(`Switch to “${e.title}”?`, "New publications go to this event's gallery.", "Switch"))) return;
  try { fillEvents(await api("/api/events/current", { body: { id: e.id } })); await afterEventChange(); toast(`Now publishing to ${e.title}`); }
  catch (err) { toast(err.message, { error: true }); }
}

async function afterEventChange() {
  await loadSettings();
  state.liveSig = "";
  loadLive();
}

const newEvent = $("#form-new-event");
newEvent.title.addEventListener("input", () => {
  if (newEvent.slug.dataset.touched) return;
  newEvent.slug.value = webName(newEvent.title.value);
});
newEvent.slug.addEventListener("input", () => { newEvent.slug.dataset.touched = "1"; });
newEvent.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  try {
    fillEvents(await api("/api/events", { body: { title: newEvent.title.value, slug: newEvent.slug.value } }));
    newEvent.reset(); delete newEvent.slug.dataset.touched;
    await afterEventChange();
    toast("Event created — new publications go there");
  } catch (e) { toast(e.message, { error: true }); }
});
