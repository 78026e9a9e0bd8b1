"""An edit recipe: what the photographer asked of a photo (exposure, rotation, straighten, scale)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


class RecipeError(ValueError):
    """An edit recipe is malformed or out of range."""



@dataclass(frozen=True)
class Recipe:
    """Edits applied on publish.

    ``exposure`` in EV (−2…+2), ``rotate`` clockwise (0/90/180/270), ``straighten`` in degrees
    (−10…+10, positive turns the picture clockwise; cropped so no empty corner shows), ``scale``
    0.5…2: above 1 zooms into the centre, below 1 publishes a smaller image.
    """

    exposure: float = 0.0
    rotate: int = 0
    straighten: float = 0.0
    scale: float = 1.0

    LIMITS = {"exposure": (-2.0, 2.0), "straighten": (-10.0, 10.0), "scale": (0.5, 2.0)}

    @classmethod
    def parse(cls, raw: dict[str, Any] | Recipe | None) -> Recipe:
        """Validate a recipe from JSON or CLI flags; unknown keys and bad values raise."""
        if isinstance(raw, Recipe):
            return raw
        if raw is not None and not isinstance(raw, dict):
            raise RecipeError(f"recipe must be an object, got {type(raw).__name__}")
        raw = dict(raw or {})
        unknown = set(raw) - {"exposure", "rotate", "straighten", "scale"}
        if unknown:
            raise RecipeError(f"unknown edit {sorted(unknown, key=str)[0]!r}")
        values: dict[str, Any] = {}
        for key, (low, high) in cls.LIMITS.items():
            if key in raw and raw[key] is not None:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise RecipeError(f"{key} must be a number, got {value!r}")
                if not math.isfinite(value) or not low <= value <= high:
                    raise RecipeError(f"{key} must be between {low:g} and {high:g}, got {value!r}")
                values[key] = float(value)
        if raw.get("rotate") is not None:
            rotate = raw["rotate"]
            if isinstance(rotate, bool) or not isinstance(rotate, int | float) or rotate not in (
                0, 90, 180, 270, -90
            ):
                raise RecipeError(f"rotate must be 0, 90, 180 or 270, got {rotate!r}")
            values["rotate"] = int(rotate) % 360
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
