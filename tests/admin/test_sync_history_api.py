"""The status panel's sync chart API (Flask test client, real store): login required, one entry per
minute of the last hour, the queue depth rebuilt from the outbox, the uplink state."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from support.rows import published_photo, upload_job
from support.sessions import login

from appliance.admin import create_app
from appliance.admin.sync_history import history
from appliance.config import Config
from appliance.store import Store


@pytest.fixture
def client(config: Config):
    app = create_app(config)
    app.config["TESTING"] = True
    return app.test_client()


def test_login_required(client):
    assert client.get("/api/sync/history").status_code == 401


def test_an_hour_of_minutes(client, config):
    store = Store(config.db_path)
    now = time.time()
    pub = published_photo(store)
    jobs = [upload_job(store, pub, f"k/{i}.jpg") for i in range(4)]
    ten_min_ago = datetime.fromtimestamp(now - 600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    store.conn.execute("UPDATE jobs SET created_at = ?", (ten_min_ago,))  # queued ten minutes ago
    for job_id in jobs[:3]:
        assert store.finish_job(job_id, "etag", now)  # uploaded now
    store.retry_job(jobs[3], "timeout", now, now + 30)
    store.set_sync_state(online=1, last_success_at="2026-01-01T00:00:00Z")
    store.close()

    login(client)
    data = client.get("/api/sync/history").get_json()
    series = data["series"]
    assert len(series) == data["minutes"] == 60
    assert [s["t"] for s in series] == sorted(s["t"] for s in series)
    assert series[-1]["t"] == int(data["now"] // 60) * 60
    assert data["totals"] == {"added": 4, "uploaded": 3, "failed": 1}
    assert series[-1]["uploaded"] == 3 and series[-1]["failed"] == 1
    assert series[-1]["queued"] == data["queue"]["jobs"] == 1  # the one left
    by_t = {s["t"]: s for s in series}
    queued_at = int((now - 600) // 60) * 60
    assert by_t[queued_at]["added"] == 4
    assert by_t[queued_at]["queued"] == 4  # all four waited from then until this minute
    assert by_t[queued_at - 60]["queued"] == 0
    assert data["uplink"]["online"] is True
    assert data["uplink"]["last_success_at"] == "2026-01-01T00:00:00Z"
    assert data["uplink"]["last_contact_at"]

    assert client.get("/api/sync/history?minutes=2").status_code == 400
    assert len(client.get("/api/sync/history?minutes=15").get_json()["series"]) == 15


def test_an_empty_outbox(config):
    store = Store(config.db_path)
    data = history(store, time.time(), 30)
    store.close()
    assert [s["queued"] + s["uploaded"] + s["failed"] for s in data["series"]] == [0] * 30
    assert data["uplink"]["online"] is None
