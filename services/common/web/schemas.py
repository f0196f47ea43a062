"""What every service's HTTP input schemas share."""

from __future__ import annotations

from collections import Counter
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class StrictSchema(Schema):
    """Input schema that refuses unknown fields, and NUL characters anywhere in a field's value."""

    class Meta:
        unknown = RAISE

    @pre_load
    def refuse_nul(self, data, **_kwargs):
        """PostgreSQL text and jsonb cannot hold NUL, so a value with one is bad input, not a
        database error. Nested values count too: free-form data ends up in jsonb event payloads."""
        if not hasattr(data, "items"):
            return data  # not an object: the schema itself says so
        bad = [name for name, value in data.items() if not self._checks_itself(name) and _holds_nul(value)]
        if bad:
            raise ValidationError({name: ["must not contain NUL (U+0000)"] for name in bad})
        return data

    def _checks_itself(self, name: str) -> bool:
        """A nested strict schema names the inner field at fault itself."""
        field = self.fields.get(name)
        if isinstance(field, fields.List):
            field = field.inner
        return isinstance(field, fields.Nested) and isinstance(field.schema, StrictSchema)


class Pattern(validate.Regexp):
    """A regular expression read as the OpenAPI document's `pattern` (ECMA) is: over the whole value,
    so `$` does not also match before a final line break as Python's `match` lets it."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# One character that is neither blank nor NUL. `\s` is not the same set in Python and in ECMA (the
# document's dialect): the class names what only one of them counts, so both read one set.
_SEEN = "[^\\s\\x00\\x1c-\\x1f\\x85\\ufeff]"
NOT_BLANK = f"^[^\\x00]*{_SEEN}[^\\x00]*$"


def not_blank(error: str, max_length: int) -> list:
    """Validators of a text with something in it besides blanks (a reason), declared in the document."""
    return [validate.Length(max=max_length), Pattern(NOT_BLANK, error=error)]


# A name shown in lists and headings (a floor, a shop, a person, a reply template's title): one line,
# not blank, without control characters or the marks that reorder the text around it (U+202A-202E,
# U+2066-2069: a name ending in an override turns the rest of its line backwards).
_NOT_IN_A_NAME = "\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069"
ONE_LINE = f"^[^{_NOT_IN_A_NAME}]*[^\\s\\ufeff{_NOT_IN_A_NAME}][^{_NOT_IN_A_NAME}]*$"
NAME_RULE = "one line of text, not blank, without control characters"


def plain_name(max_length: int) -> list:
    """Validators of a name: at most `max_length` characters on one line (ONE_LINE)."""
    return [validate.Length(max=max_length), Pattern(ONE_LINE, error=NAME_RULE)]


def each_once(items: list) -> None:
    """A list whose items must differ (roles, scopes, what a customer asks for)."""
    # Counted in one pass: a body may hold a thousand items, and items.count() for each is quadratic.
    repeated = sorted(str(item) for item, times in Counter(items).items() if times > 1)
    if repeated:
        raise ValidationError(f"each at most once: {', '.join(repeated)} given more than once")


class StrictBoolean(fields.Boolean):
    """`true` or `false` only: 0, 1, "yes" or "on" in a JSON body is a mistake, not a boolean."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class PersonalDataAsked(StrictSchema):
    """A customer's copy (PIPL) asked of routing or notify: the complaints intake found for them."""

    complaint_ids = fields.List(
        fields.UUID(),
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "the customer's complaints, as intake's POST /privacy/exports found them"},
    )
    request_id = fields.UUID(
        load_default=None,
        allow_none=True,
        metadata={"description": "intake's audit row of the request, named in this service's log"},
    )
