"""Accounts: the owner's page (users, invites, sessions, audit log), one's own password, invites.

The owner invites with a one-time link (and its QR code, segno) on the appliance's own address:
the invitee opens it on the same Wi-Fi, chooses a name and a password and is logged in. An invite
works once and for :data:`INVITE_HOURS` hours at most. Pages are plain HTML forms (CSRF token in
each); what each route needs is in :mod:`appliance.admin.roles`, never checked here.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

import segno
from flask import Blueprint, abort, jsonify, redirect, render_template, request, session, url_for

from ..store import ROLES
from . import get_store
from .audit_export import audit_response
from .audit_log import record
from .auth import start_session
from .passwords import hash_password, password_problem, verify_password
from .roles import IDLE_S, current_user, token_id

bp = Blueprint("accounts", __name__)

INVITE_HOURS = (1, 24, 168)  # the choices offered; 24 by default
NAME_MAX = 40


def _name_problem(name: str) -> str | None:
    if not name or len(name) > NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"the name must be 1 to {NAME_MAX} characters on one line"
    return None


def _invite_json(token: str) -> dict[str, str]:
    url = url_for("accounts.invite", token=token, _external=True)
    return {"url": url, "qr": segno.make(url, error="m").svg_data_uri(scale=6, border=2)}


@bp.get("/accounts")
def accounts_page() -> Any:
    store, now = get_store(), time.time()
    token = session.pop("new_invite", None)
    return render_template(
        "accounts.html", users=store.users(), sessions=store.sessions(seen_after=now - IDLE_S),
        invites=store.invites(now),
        audit=store.audit_log(limit=100), new_invite=_invite_json(token) if token else None,
        roles=ROLES, hours=INVITE_HOURS, me=current_user(), now=now)


@bp.post("/accounts/invites")
def create_invite() -> Any:
    role = request.form.get("role", "")
    hours = request.form.get("hours", "24")
    if role not in ROLES or not hours.isdigit() or int(hours) not in INVITE_HOURS:
        abort(400, f"role must be one of {', '.join(ROLES)}; hours one of {INVITE_HOURS}")
    token, user = secrets.token_urlsafe(24), current_user()
    assert user is not None
    store = get_store()
    store.add_invite(token_id(token), role, user["user_id"], time.time() + int(hours) * 3600)
    session["new_invite"] = token  # shown once on the page it redirects to
    return redirect(url_for("accounts.accounts_page") + "#invites")


@bp.post("/accounts/invites/<invite_id>/cancel")
def cancel_invite(invite_id: str) -> Any:
    if not get_store().cancel_invite(invite_id):
        abort(404, "no such open invite")
    return redirect(url_for("accounts.accounts_page") + "#invites")


def _other_user(user_id: int) -> dict[str, Any]:
    """A user the owner may change: exists, and the change leaves an owner behind."""
    store = get_store()
    target = store.user(user_id)
    if target is None or target["disabled_at"]:
        abort(404, f"no user {user_id}")
    if target["role"] == "owner" and store.owners_left(without=user_id) == 0:
        abort(409, "the last owner cannot be demoted or removed")
    return target


@bp.post("/accounts/users/<int:user_id>/role")
def set_role(user_id: int) -> Any:
    role = request.form.get("role", "")
    if role not in ROLES:
        abort(400, f"role must be one of {', '.join(ROLES)}")
    _other_user(user_id)
    store = get_store()
    store.set_user_role(user_id, role)
    store.revoke_user_sessions(user_id)  # the new role applies from their next login
    return redirect(url_for("accounts.accounts_page") + "#users")


@bp.post("/accounts/users/<int:user_id>/remove")
def remove_user(user_id: int) -> Any:
    _other_user(user_id)
    get_store().disable_user(user_id)
    return redirect(url_for("accounts.accounts_page") + "#users")


@bp.post("/accounts/sessions/<session_id>/revoke")
def revoke_session(session_id: str) -> Any:
    if not get_store().revoke_session(session_id):
        abort(404, "no such open session")
    return redirect(url_for("accounts.accounts_page") + "#sessions")


@bp.get("/accounts/audit.<fmt>")
def audit_export(fmt: str) -> Any:
    """The whole audit log as CSV or JSON, for the event's records."""
    if fmt not in ("csv", "json"):
        abort(404)
    return audit_response(get_store(), fmt)


@bp.get("/api/me")
def me() -> Any:
    user = current_user()
    assert user is not None
    return jsonify(name=user["name"], role=user["role"])


@bp.get("/account")
def account() -> Any:
    return render_template("account.html", me=current_user(), error=None, done=request.args.get("done"))


@bp.post("/account/password")
def change_password() -> Any:
    """One's own new password (the current one first); every other session of the user ends."""
    user, store = current_user(), get_store()
    assert user is not None
    row = store.user(user["user_id"])
    new = request.form.get("new_password", "")
    error = password_problem(new)
    if row is None or not verify_password(row["password_hash"], request.form.get("current_password", "")):
        error = "the current password is wrong"
    if error:
        return render_template("account.html", me=user, error=error, done=None), 400
    store.set_user_password(user["user_id"], hash_password(new), keep_session=user["session_id"])
    return redirect(url_for("accounts.account", done=1))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str) -> Any:
    """The invitee's page: choose a name and a password, once, before the invite expires."""
    store, now = get_store(), time.time()
    found = store.open_invite(token_id(token), now)
    if found is None:
        return render_template("invite.html", invite=None, error="This invite was used or has expired. "
                               "Ask the owner for a new one."), 410
    if request.method == "GET":
        return render_template("invite.html", invite=found, error=None)
    name, password = request.form.get("name", "").strip(), request.form.get("password", "")
    error = _name_problem(name) or password_problem(password)
    user_id = None
    if error is None:
        try:
            user_id = store.accept_invite(token_id(token), now, name, hash_password(password))
        except sqlite3.IntegrityError:
            error = f"the name {name!r} is taken: choose another"
        if user_id is None and error is None:
            error = "This invite was used a moment ago. Ask the owner for a new one."
    if error or user_id is None:
        return render_template("invite.html", invite=found, error=error), 400
    user = store.user(user_id)
    assert user is not None
    start_session(store, user)
    record("invite accepted", {"user_id": user_id, "name": user["name"], "role": user["role"]},
           {"role": user["role"]})
    return redirect("/")
