"""The publish tests' appliance: a small web size, a store with the event "party", its Publisher."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.config import local_config

from appliance.publish.worker import Publisher
from appliance.store import Store


@pytest.fixture
def env(tmp_path: Path):
    config = local_config(tmp_path, "[publish]\nlong_edge = 512\nthumb_edge = 160\n")
    config.ensure_folders()
    store = Store(config.db_path)
    store.ensure_event("party", "Party time")
    yield config, store, Publisher(config, store)
    store.close()
