"""The formatter owns the layout: no line of the code asks it to look away."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKERS = ("fmt" + ": skip", "fmt" + ": off")  # spelled apart so this file does not hold them


def test_no_code_is_kept_out_of_the_formatters_hands():
    held = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("services", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(marker in line for marker in MARKERS)
    ]
    assert not held, f"hand-kept layout (let ruff format lay these out): {held}"
