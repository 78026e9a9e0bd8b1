/* A gallery with a password (functions/_lib/access.js): the manifest answers 401 until the guest
 * has given it. A small form asks for it, POSTs it to /access/<event> (same origin; the Function
 * sets a signed, HttpOnly cookie) and hands over to `opened` once the gallery lets us in. The
 * gallery page and the slideshow share it. */

var form = null;

function build(event, opened) {
  var f = document.createElement("form");
  f.className = "lock";
  f.setAttribute("data-testid", "lock");
  f.noValidate = true;
  f.innerHTML =
    '<h2 class="lock__title">This gallery is private</h2>' +
    '<p class="lock__text">Enter the password you were given.</p>' +
    '<label class="lock__label" for="lock-password">Password</label>' +
    '<input class="lock__input" id="lock-password" name="password" type="password" ' +
    'autocomplete="current-password" autocapitalize="off" spellcheck="false" required data-testid="lock-password">' +
    '<button class="lock__go" type="submit" data-testid="lock-go">Open the gallery</button>' +
    '<p class="lock__error" role="alert" data-testid="lock-error"></p>';
  var input = f.querySelector("input");
  var go = f.querySelector("button");
  var error = f.querySelector(".lock__error");
  f.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!input.value) { error.textContent = "Please enter the password."; input.focus(); return; }
    go.disabled = true;
    error.textContent = "";
    fetch("/access/" + encodeURIComponent(event), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ password: input.value }),
    }).then(function (res) {
      go.disabled = false;
      if (res.status === 204) {
        hidePasswordForm();
        opened();
      } else if (res.status === 401) {
        error.textContent = "That password is not right. Please check it and try again.";
        input.select();
      } else {
        error.textContent = "The gallery could not check the password (" + res.status + "). Please try again.";
      }
    }, function () {
      go.disabled = false;
      error.textContent = "No connection. Please try again when you are online.";
    });
  });
  return f;
}

/** Ask for the event's password inside `host` (once); `opened()` runs when it was right. */
export function showPasswordForm(host, event, opened) {
  if (form) return;
  form = build(event, opened);
  host.appendChild(form);
  document.documentElement.setAttribute("data-locked", "");
  form.querySelector("input").focus();
}

export function hidePasswordForm() {
  if (!form) return;
  form.remove();
  form = null;
  document.documentElement.removeAttribute("data-locked");
}
