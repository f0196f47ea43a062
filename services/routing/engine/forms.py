"""The fields a user task asks for, from a Camunda form or a spiff-arena JSON-schema form file."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class FormField:
    """One field a user task asks for (camunda:formField, or a property of a JSON-schema form)."""

    id: str
    label: str
    type: str  # string, long, boolean, enum, date: what `domain.forms.check_form` checks
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    default: str | None = None


def camunda_fields(task_spec) -> tuple[FormField, ...]:
    form = getattr(task_spec, "form", None)
    return tuple(
        FormField(
            id=item.id,
            label=item.label or item.id,
            type=item.type or "string",
            required=any(rule.name == "required" for rule in item.validation),
            options=tuple((option.id, option.name) for option in getattr(item, "options", []) or []),
            default=item.default_value,
        )
        for item in getattr(form, "fields", []) or []
    )


def json_schema_fields(text: bytes) -> tuple[FormField, ...]:
    """The fields of a flat react-jsonschema-form schema, as spiff-arena writes them; ValueError
    names what cannot be a field here (nested objects, arrays, numbers with decimals)."""
    try:
        schema = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"is not JSON: {exc}") from exc
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise ValueError('must be a JSON schema of "type": "object"')
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    if not isinstance(properties, dict):
        raise ValueError('"properties" must be an object')
    return tuple(_field(name, spec, name in required) for name, spec in properties.items())


def _field(name: str, spec, required: bool) -> FormField:
    if not isinstance(spec, dict):
        raise ValueError(f"property {name!r} must be an object")
    label = str(spec.get("title") or name)
    default = None if spec.get("default") is None else str(spec.get("default"))
    kind = spec.get("type", "string")
    if "oneOf" in spec or "enum" in spec:
        options = [(str(o.get("const")), str(o.get("title") or o.get("const"))) for o in spec.get("oneOf") or []
                   if isinstance(o, dict)] or [(str(value), str(value)) for value in spec.get("enum") or []]  # fmt: skip
        return FormField(name, label, "enum", required, tuple(options), default)
    if kind == "string":
        return FormField(
            name, label, "date" if spec.get("format") == "date" else "string", required, (), default
        )
    if kind in ("integer", "boolean"):
        return FormField(name, label, "long" if kind == "integer" else "boolean", required, (), default)
    raise ValueError(f"property {name!r} has type {kind!r}; a form field is a string, integer, boolean, "
                     f"date (string, format date) or a choice (enum / oneOf)")  # fmt: skip
