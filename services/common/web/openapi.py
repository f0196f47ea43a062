"""What the OpenAPI documents say beyond what apispec reads from a marshmallow schema, so each
document states what its operation truly accepts (the contract tests fuzz it both ways).

* Text: every string property without a pattern, format or enum of its own declares NO_NUL, the
  rule StrictSchema enforces (PostgreSQL text cannot hold NUL).
* A schema class may declare `OPENAPI = {...}`: JSON Schema keywords of the object itself
  (`minProperties` where a body must name something besides a reason).
* A field may declare `openapi_property(ret)`, to correct its own property in place (a list that
  also takes one item alone says so with `oneOf`).
"""

from __future__ import annotations

from apispec import BasePlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import fields

NO_NUL = "^[^\\u0000]*$"


class SchemaExtras(BasePlugin):
    """Adds a schema class's `OPENAPI` keywords to its component."""

    def schema_helper(self, name, definition, schema=None, **kwargs):
        if schema is None:
            return None
        extras = getattr(resolve_schema_cls(schema), "OPENAPI", None)
        return dict(extras) if extras else None


def declare_field_rules(converter, field, ret, **_kwargs) -> dict:
    """The attribute function of the marshmallow converter: NO_NUL on free text, then the field's own say."""
    extra = {}
    if isinstance(field, fields.String) and not {"pattern", "format", "enum"} & set(ret):
        extra["pattern"] = NO_NUL
    correct = getattr(field, "openapi_property", None)
    if correct is not None:
        ret.update(extra)
        correct(ret)
        return {}
    return extra


def install(api) -> None:
    """Teach an Api's marshmallow converter the rules above (SchemaExtras goes in its spec_kwargs)."""
    api.ma_plugin.converter.add_attribute_function(declare_field_rules)
