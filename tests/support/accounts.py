"""Admin accounts for tests: an app with an editor and a viewer besides the owner, and a client
logged in as each (through the real login form)."""

from __future__ import annotations

import re

from appliance.admin import create_app
from appliance.admin.passwords import hash_password
from appliance.config import Config
from appliance.store import Store
from support.sessions import login

USERS = {"edda": "editor", "vic": "viewer"}  # name -> role
USER_PASSWORD = "role password 1"


def app_with_users(config: Config):  # noqa: ANN201
    """The admin app of ``config`` (its owner made from admin.password) plus :data:`USERS`."""
    app = create_app(config)
    app.config["TESTING"] = True
    store = Store(config.db_path)
    for name, role in USERS.items():
        store.add_user(name, role, hash_password(USER_PASSWORD))
    store.close()
    return app


def client_as(app, role: str):  # noqa: ANN001, ANN201
    """A test client logged in as the owner, or as :data:`USERS`' editor or viewer; and its CSRF token."""
    client = app.test_client()
    if role == "owner":
        return client, login(client)
    name = next(n for n, r in USERS.items() if r == role)
    return client, login(client, USER_PASSWORD, name)


def concrete(rule: str) -> str:
    """A URL rule with each variable filled in with 1."""
    return re.sub(r"<(?:[a-z]+:)?[^>]+>", "1", rule)


def import_samples(config: Config, samples, names: tuple[str, ...] = ("DSCN0010.jpg", "DSCN0012.jpg"),  # noqa: ANN001
                   ) -> list[int]:
    """Import real camera frames into ``config``'s buffer like a card; their photo ids."""
    import shutil

    from appliance.ingest.importer import Importer

    card = config.folder("state").parent / "card-src"
    card.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(samples / "gps" / name, card / name)
    store = Store(config.db_path)
    Importer(config, store).import_tree(card)
    ids = [r["id"] for r in store.rows("SELECT id FROM photos ORDER BY id")]
    store.close()
    return ids
