"""Checking a task's completion data against the form its diagram declares."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

FieldErrors = dict[str, list[str]]
FEN = Decimal("0.01")
# What reporting's numeric(14, 2) holds: an amount of less than a trillion yuan.
LARGEST_AMOUNT = Decimal(10) ** 12


def check_form(
    form: list[dict[str, Any]], data: dict[str, Any], today: date | None = None
) -> tuple[dict[str, Any], FieldErrors]:
    """The data converted to the form's types, and the errors naming each bad or unknown field;
    `today` (in the mall's time zone) for a date bounded by it."""
    fields = {item["id"]: item for item in form}
    errors: FieldErrors = {name: ["not a field of this task's form"] for name in data if name not in fields}
    clean: dict[str, Any] = {}
    for name, spec in fields.items():
        if spec.get("readonly"):  # shown, not filled in: only its own value may come back
            if not _blank(data.get(name)) and str(data[name]) != str(spec.get("default") or ""):
                errors[name] = ["read-only: it cannot be changed"]
            continue
        if _blank(data.get(name)):
            if spec.get("required"):
                errors[name] = ["required"]
            continue
        try:
            clean[name] = _within(spec, _convert(spec, data[name]), today)
        except ValueError as exc:
            errors[name] = [str(exc)]
    for name, spec in fields.items():
        if name in clean or name in errors:
            continue
        because = _required_because(spec, clean)
        if because:
            errors[name] = [f"required when {because[0]} is {because[1]}"]
    for name, spec in fields.items():
        unless = _taken_unless(spec, clean)
        if name in clean and unless:
            del clean[name]
            errors[name] = [f"only when {unless[0]} is {unless[1]}"]
    return clean, errors


def only_taken(form: list[dict[str, Any]], data: dict[str, Any]) -> dict[str, Any]:
    """The data less the fields its other answers leave out (`only_when`), as a form that sends only
    what it shows would send it (check_form refuses them)."""
    specs = {item["id"]: item for item in form}
    return {name: value for name, value in data.items() if not _taken_unless(specs.get(name, {}), data)}


def _blank(value: Any) -> bool:
    """Missing, null, or text of nothing but spaces: what a required field must not be."""
    return value is None or (isinstance(value, str) and not value.strip())


def _required_because(spec: dict[str, Any], clean: dict[str, Any]) -> tuple[str, str] | None:
    """The (field, value) that makes this empty field required, if one holds (`required_when`)."""
    for other, value in spec.get("required_when") or []:
        given = clean.get(other)
        if given is not None and condition_text(given) == value:
            return other, value
    return None


def _taken_unless(spec: dict[str, Any], clean: dict[str, Any]) -> tuple[str, str] | None:
    """The (field, value) this field is taken only with, when none of its `only_when` holds (a
    satisfaction given for a customer not reached); None when it may be given."""
    conditions = spec.get("only_when") or []
    for other, value in conditions:
        given = clean.get(other)
        if given is not None and condition_text(given) == value:
            return None
    return tuple(conditions[0]) if conditions else None


def condition_text(value: Any) -> str:
    """A value as a `required_when` condition writes it: `true`/`false` for yes/no, else its text."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _within(spec: dict[str, Any], value: Any, today: date | None) -> Any:
    """The value, once inside the bounds the diagram gave the field (a text's length, a number, a
    date not before or after today)."""
    limits = spec.get("limits") or {}
    if spec.get("type") == "date":
        if today is not None and "min" in limits and value < today.isoformat():
            raise ValueError("must be today or later")
        if today is not None and "max" in limits and value > today.isoformat():
            raise ValueError("must be today or earlier")
        return value
    if spec.get("type") == "decimal":
        size = Decimal(value)
    else:
        size = len(value) if isinstance(value, str) else value
    if "minlength" in limits and size < limits["minlength"]:
        raise ValueError(f"must be at least {limits['minlength']} characters")
    if "maxlength" in limits and size > limits["maxlength"]:
        raise ValueError(f"must be at most {limits['maxlength']} characters")
    if "min" in limits and size < limits["min"]:
        raise ValueError(f"must be at least {limits['min']}")
    if "max" in limits and size > limits["max"]:
        raise ValueError(f"must be at most {limits['max']}")
    return value


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
    if kind == "decimal":
        return _amount(value)
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


def _amount(value: Any) -> str:
    """An amount in yuan and fen (12.5, "12.50", 30) as text with two decimal places, "12.50": kept as
    text, not a float that would round the fen, and read exactly by reporting's numeric(14, 2)."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        number = Decimal(str(value).strip())
        if not number.is_finite() or abs(number) >= LARGEST_AMOUNT or number != number.quantize(FEN):
            raise InvalidOperation
    except InvalidOperation:
        raise ValueError("must be an amount with at most two decimal places, e.g. 12.50") from None
    return str(number.quantize(FEN))


def form_names(form: list[dict[str, Any]], yes_no: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """What the form's fields and options are called in each language (code -> language -> name; ""
    as drawn), and `yes_no` for a yes/no field's `true` and `false`: how a refusal names them."""
    names: dict[str, dict[str, str]] = dict(yes_no)
    for item in form:
        for option, drawn in item.get("options") or []:
            by_language = {lang: labels[option] for lang, labels in (item.get("option_labels") or {}).items()}
            names[option] = {**by_language, "": drawn}
        names[item["id"]] = {**(item.get("labels") or {}), "": item.get("label") or item["id"]}
    return names
