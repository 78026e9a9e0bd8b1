"""Accounts in the store: users, revocable sessions, one-time invites, the audit log, FTP roles."""

from __future__ import annotations

import sqlite3
import time

import pytest

from appliance.store import ROLES, Store, role_rank


def test_roles_are_ordered():
    assert ROLES == ("viewer", "editor", "owner")
    assert role_rank("viewer") < role_rank("editor") < role_rank("owner")
    assert role_rank(None) == role_rank("admin") == -1


def test_the_first_owner_is_made_once(store: Store):
    first = store.seed_owner("owner", "h1")
    assert store.seed_owner("someone", "h2") == first  # a second start adds nobody
    assert [(u["name"], u["role"]) for u in store.users()] == [("owner", "owner")]
    assert store.first_owner()["password_hash"] == "h1"


def test_names_are_unique_ignoring_case(store: Store):
    store.add_user("Anna", "editor", "h")
    with pytest.raises(sqlite3.IntegrityError):
        store.add_user("anna", "viewer", "h")
    with pytest.raises(sqlite3.IntegrityError):  # the schema refuses an unknown role
        store.add_user("ben", "admin", "h")
    assert store.user_named("ANNA")["role"] == "editor"


def test_sessions_are_revoked_by_id_by_user_by_password_change_and_by_removal(store: Store):
    anna = store.add_user("anna", "editor", "h")
    now = time.time()
    for sid in ("a1", "a2", "a3"):
        store.open_session(sid, anna, now, "10.0.0.2")
    assert store.live_session("a1")["role"] == "editor"
    assert store.revoke_session("a1") and not store.revoke_session("a1")
    assert store.live_session("a1") is None
    store.set_user_password(anna, "h2", keep_session="a2")  # a password change keeps only this one
    assert store.live_session("a2") is not None and store.live_session("a3") is None
    store.open_session("a4", anna, now, "")
    assert store.live_session("a4", seen_after=now + 1) is None  # idle too long
    assert {s["id"] for s in store.sessions(seen_after=now - 1)} == {"a4", "a2"}
    assert store.sessions(seen_after=now + 1) == []
    assert store.disable_user(anna)
    assert store.live_session("a2") is None and store.live_session("a4") is None
    assert store.user_named("anna") is None and store.user(anna)["disabled_at"]


def test_an_invite_works_once_and_not_after_it_expires(store: Store):
    owner = store.seed_owner("owner", "h")
    now = time.time()
    store.add_invite("inv1", "editor", owner, now + 60)
    store.add_invite("old", "viewer", owner, now - 1)
    assert store.open_invite("old", now) is None
    assert store.accept_invite("old", now, "late", "h") is None
    assert [i["id"] for i in store.invites(now)] == ["inv1"]
    with pytest.raises(sqlite3.IntegrityError):  # a taken name uses nothing up
        store.accept_invite("inv1", now, "OWNER", "h")
    assert store.open_invite("inv1", now) is not None
    user = store.accept_invite("inv1", now, "anna", "h")
    assert store.user(user)["role"] == "editor"
    assert store.accept_invite("inv1", now, "ben", "h") is None  # once
    assert store.user_named("ben") is None and store.invites(now) == []
    store.add_invite("inv2", "viewer", owner, now + 60)
    assert store.cancel_invite("inv2") and store.open_invite("inv2", now) is None


def test_the_audit_log_reads_back_newest_first_per_event(store: Store):
    event = store.current_event()["id"]
    store.audit(user_id=None, user_name="owner", role="owner", action="api.publish", photo_ids=[3, 4],
                detail={"id": 3}, event_id=event)
    store.audit(user_id=None, user_name="anna", role="editor", action="login")
    store.audit(user_id=None, user_name="anna", role="editor", action="api.reject", event_id=event + 1)
    rows = store.audit_log(event_id=event)
    assert [r["action"] for r in rows] == ["login", "api.publish"]
    assert rows[1]["photo_ids"] == [3, 4] and rows[1]["detail"] == {"id": 3}
    assert [r["action"] for r in store.audit_log(before_id=rows[0]["id"])] == ["api.publish"]


def test_an_ftp_account_inherits_its_users_role(store: Store):
    viewer = store.add_user("v", "viewer", "h")
    store.add_ftp_account("cam-v", "h", owner_id=viewer)
    store.add_ftp_account("cam-o", "h")  # of no user: the first owner's, as before accounts existed
    assert store.ftp_account_roles() == {"cam-v": "viewer", "cam-o": "owner"}
    assert {a["user"]: a["owner_name"] for a in store.ftp_accounts_listing()} == {"cam-o": None, "cam-v": "v"}
    store.update_ftp_account("cam-o", owner_id=viewer)
    assert store.ftp_account_roles()["cam-o"] == "viewer"
