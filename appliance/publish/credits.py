"""Artist and copyright written into every published photo's EXIF; kept in the store's settings.

They change at run time (admin, CLI) without restarting the publisher: it reads them per publish.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store


SETTING = "credits"
MAX_LENGTH = 200


class CreditsError(ValueError):
    """Artist or copyright is not a short single line of text."""


@dataclass(frozen=True)
class Credits:
    artist: str = ""
    copyright: str = ""

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Credits:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise CreditsError("credits must be an object")
        unknown = set(raw) - {"artist", "copyright"}
        if unknown:
            raise CreditsError(f"unknown credit {sorted(unknown, key=str)[0]!r}")
        values = {}
        for key in ("artist", "copyright"):
            value = raw.get(key) or ""
            if not isinstance(value, str) or len(value) > MAX_LENGTH or any(ord(c) < 32 for c in value):
                raise CreditsError(f"{key} must be one line of at most {MAX_LENGTH} characters")
            values[key] = value.strip()
        return cls(**values)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def load(store: Store) -> Credits:
    return Credits.parse(store.get_setting(SETTING))


def save(store: Store, changes: dict[str, Any]) -> Credits:
    """Merge ``changes`` into the saved credits (validated before saving)."""
    merged = {**load(store).to_dict(), **changes}
    credits = Credits.parse(merged)
    store.set_setting(SETTING, credits.to_dict())
    return credits
