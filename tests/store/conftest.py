"""The store tests' fixture: a real SQLite store in a tmp folder with one event."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state" / "appliance.db")
    s.ensure_event("party", "Party")
    yield s
    s.close()
