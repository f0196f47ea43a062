"""Notify's copy of the mall's floors and departments: read once at start from the reference file
intake is seeded from (NOTIFY_REFERENCE_FILE; by default the demo mall's, as `mall seed` loads it)."""

from __future__ import annotations

import json
from pathlib import Path

from services.common.errors import ConfigurationError
from services.notify.domain.places import Places

DEMO_MALL = Path(__file__).resolve().parents[2] / "intake" / "seed" / "demo_mall.json"


def load_places(path: str | Path | None) -> Places:
    """The names in the file; a file that is missing or not such JSON stops the process, naming it."""
    path = Path(path) if path else DEMO_MALL
    try:
        return Places.of(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigurationError(f"NOTIFY_REFERENCE_FILE={str(path)!r} is not valid: {exc}") from exc
