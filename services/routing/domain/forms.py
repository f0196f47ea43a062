"""Checking a task's completion data against the form its diagram declares."""

from __future__ import annotations

from datetime import date
from typing import Any

FieldErrors = dict[str, list[str]]


def check_form(form: list[dict[str, Any]], data: dict[str, Any]) -> tuple[dict[str, Any], FieldErrors]:
    """The data converted to the form's types, and the errors naming each bad or unknown field."""
    fields = {item["id"]: item for item in form}
    errors: FieldErrors = {name: ["not a field of this task's form"] for name in data if name not in fields}
    clean: dict[str, Any] = {}
    for name, spec in fields.items():
        if data.get(name) is None:
            if spec.get("required"):
                errors[name] = ["required"]
            continue
        try:
            clean[name] = _convert(spec, data[name])
        except ValueError as exc:
            errors[name] = [str(exc)]
    return clean, errors


def _convert(spec: dict[str, Any], value: Any) -> Any:
    kind = spec.get("type", "string")
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "long":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        return value
    if kind == "enum":
        choices = [option[0] for option in spec.get("options", [])]
        if value not in choices:
            raise ValueError(f"must be one of: {', '.join(choices)}")
        return value
    if kind == "date":
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise ValueError("must be a date, YYYY-MM-DD") from exc
    if not isinstance(value, str):
        raise ValueError("must be text")
    if "\x00" in value or len(value) > 5000:
        raise ValueError("must be text of at most 5000 characters, without NUL")
    return value
