// DOM and network helpers every admin module uses: query, build elements, call the JSON API
// (with the CSRF header), a toast and a confirmation sheet.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const csrf = $('meta[name="csrf-token"]').content;

// The control the user pressed last: a state-changing api() call that follows within a moment
// shows it pressed (aria-busy: a spinner, no second press) until the server answered.
let pressed = null, pressedAt = 0;
const press = (node) => { pressed = node; pressedAt = performance.now(); };
document.addEventListener("click", (e) => {
  const node = e.target.closest?.("button, [role=button], .button");
  if (node) press(node);
}, true);

export async function api(path, { method, body, form, busy } = {}) {
  const init = { credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined || form !== undefined || (method && method !== "GET")) {
    init.method = method || "POST";
    init.headers["X-CSRFToken"] = csrf;
    if (form) init.body = form;
    else if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  }
  let trigger = busy;
  if (trigger === undefined && init.method && performance.now() - pressedAt < 1500) { trigger = pressed; pressed = null; }
  trigger?.setAttribute("aria-busy", "true");
  if (init.method) saving(1); // a thin bar at the top for every change, pressed or keyed (layout.css)
  try {
    let res;
    try { res = await fetch(path, init); } catch {
      throw new Error(init.method ? "No connection to the appliance — nothing was changed. Try again."
        : "No connection to the appliance.");
    }
    if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("login required"); }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || `The appliance answered with an error (${res.status}). Try again; its log has the details.`);
    return data;
  } finally { trigger?.removeAttribute("aria-busy"); if (init.method) saving(-1); }
}

let inFlight = 0;
function saving(delta) {
  inFlight += delta;
  document.documentElement.classList.toggle("saving", inFlight > 0);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== "") node.append(c);
  return node;
}

let toastTimer = 0;
export function toast(message, { error = false, action = null, ms = 3200 } = {}) {
  const node = $("#toast");
  node.className = "toast" + (error ? " error" : "");
  node.replaceChildren(el("span", {}, message));
  if (action) node.append(el("button", { type: "button", onclick: () => {
    node.hidden = true;
    Promise.resolve().then(action.run).catch((e) => toast(e.message, { error: true }));
  } }, action.label));
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, ms);
}

export function confirmSheet(title, text, okLabel = "OK") {
  return new Promise((resolve) => {
    const wrap = $("#sheet");
    $("#sheet-title").textContent = title;
    $("#sheet-text").textContent = text;
    const ok = $('[data-sheet="ok"]', wrap);
    ok.textContent = okLabel;
    const opener = pressed; // what asked for the confirmation shows the wait that follows an OK
    const done = (answer) => { if (answer) press(opener); wrap.hidden = true; wrap.onclick = null; document.removeEventListener("keydown", keys, true); resolve(answer); };
    const keys = (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); done(false); }
      if (e.key === "Enter") { e.preventDefault(); e.stopPropagation(); done(true); }
    };
    wrap.onclick = (e) => {
      if (e.target === wrap || e.target.dataset.sheet === "cancel") done(false);
      else if (e.target.dataset.sheet === "ok") done(true);
    };
    document.addEventListener("keydown", keys, true);
    wrap.hidden = false;
    ok.focus();
  });
}
