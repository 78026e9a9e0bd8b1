"""The admin tests' Flask test clients: ``client`` (anonymous) and ``authed`` (logged in as the owner,
its JSON calls carrying the CSRF header). A module may define its own ``client`` (e.g. with
accounts seeded) and still use ``authed`` on top of it."""

from __future__ import annotations

import pytest
from support.sessions import login

from appliance.admin import create_app
from appliance.config import Config


@pytest.fixture
def client(config: Config):  # noqa: ANN201
    app = create_app(config)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def authed(client):  # noqa: ANN001, ANN201
    client.environ_base["HTTP_X_CSRFTOKEN"] = login(client)
    return client
