"""marshmallow schemas of what reporting is asked: strict, unknown fields refused (answers.py: what it answers)."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from services.common.web.schemas import Pattern
from services.reporting.domain.periods import FIRST_DAY, LAST_DAY, OUTSIDE

FORMATS = ("json", "csv", "xlsx", "html", "pdf")
LANGUAGES = ("zh", "en")
# What the parsers of domain/periods.py read, as the document states it (week 53 exists in some years only).
# The years a report may name (periods.FIRST_DAY to LAST_DAY), stated in the document's patterns.
_YEAR = "(19[7-9][0-9]|2[0-9]{3})"
WEEK = Pattern(
    rf"^{_YEAR}-W(0[1-9]|[1-4][0-9]|5[0-3])$",
    error="expected an ISO week such as 2026-W48, in the years 1970 to 2999",
)
MONTH = Pattern(
    rf"^{_YEAR}-(0[1-9]|1[0-2])$", error="expected a month such as 2026-11, in the years 1970 to 2999"
)


class _Strict(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def refuse_nul(self, data, **_kwargs):
        """PostgreSQL text cannot hold NUL, so a string with one is bad input, not a database error."""
        if not hasattr(data, "items"):
            return data  # not an object: the schema itself says so
        bad = [name for name, value in data.items() if isinstance(value, str) and "\x00" in value]
        if bad:
            raise ValidationError({name: ["must not contain NUL (U+0000)"] for name in bad})
        return data


class DailyArgs(_Strict):
    date = fields.Date(
        validate=validate.Range(min=FIRST_DAY, max=LAST_DAY, error=OUTSIDE),
        metadata={"description": "the mall's day, YYYY-MM-DD (default: today)"},
    )
    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "items per list (the counts are always whole)"},
    )


class _ReportArgs(_Strict):
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    lang = fields.String(
        load_default="zh",
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "labels of csv, xlsx, html and pdf"},
    )


class WeeklyArgs(_ReportArgs):
    week = fields.String(
        validate=WEEK, metadata={"description": "ISO week, e.g. 2026-W48 (default: last week)"}
    )


class MonthlyArgs(_ReportArgs):
    month = fields.String(validate=MONTH, metadata={"description": "YYYY-MM (default: last month)"})


class CallbackArgs(_Strict):
    month = fields.String(
        validate=MONTH, metadata={"description": "YYYY-MM of receipt (default: last month)"}
    )
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))


class CapaListArgs(_Strict):
    status = fields.String(validate=validate.OneOf(("open", "in_progress", "verified")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String()


class CapaPatch(_Strict):
    # Something to record: a status or one of the fields (a version alone changes nothing).
    OPENAPI: ClassVar = {
        "anyOf": [
            {"required": [name]}
            for name in ("cause", "action", "owner", "due_date", "verification", "status")
        ]
    }

    cause = fields.String(allow_none=True, validate=validate.Length(max=4000))
    action = fields.String(allow_none=True, validate=validate.Length(max=4000))
    owner = fields.String(allow_none=True, validate=validate.Length(max=200))
    due_date = fields.Date(allow_none=True)
    verification = fields.String(allow_none=True, validate=validate.Length(max=4000))
    status = fields.String(validate=validate.OneOf(("open", "in_progress", "verified")))
    version = fields.Integer(
        strict=True, metadata={"description": "the version read; a 409 if the record changed since"}
    )
