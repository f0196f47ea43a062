"""Schemas of the user administration API."""

from __future__ import annotations

import re
from typing import ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.identity.model import ROLES, Role
from services.common.identity.users import MIN_PASSWORD_LENGTH
from services.common.web import schemas as common

STAFF_ROLES = [role for role in ROLES if role != Role.SERVICE]
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")  # a username or a service's name
NAME = common.Pattern(NAME_PATTERN, error="2-40 of a-z, 0-9, '.', '_', '-'")
CODE = fields.String(validate=common.Pattern(r"^[A-Za-z0-9_\-]{1,40}$"))


def _codes(inner: fields.Field, at_least: int = 0, description: str | None = None, **kwargs) -> fields.List:
    """Roles, floors or departments: each at most once."""
    metadata = {"uniqueItems": True, **({"description": description} if description else {})}
    return fields.List(
        inner,
        validate=[validate.Length(min=at_least, error="choose at least {min}"), common.each_once],
        metadata=metadata,
        **kwargs,
    )


ROLE = fields.String(validate=validate.OneOf(STAFF_ROLES))
PASSWORD_LENGTH = validate.Length(
    min=MIN_PASSWORD_LENGTH, max=200, error=f"between {MIN_PASSWORD_LENGTH} and 200 characters"
)
SCOPE = "must be one of the mall's own (intake's reference data)"


class UserOut(Schema):
    username = fields.String()
    display_name = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    floors = fields.List(fields.String())
    departments = fields.List(fields.String())
    active = fields.Boolean()
    locked_until = fields.AwareDateTime(allow_none=True)
    last_login_at = fields.AwareDateTime(allow_none=True)


class UserIn(common.StrictSchema):
    username = fields.String(required=True, validate=NAME)
    display_name = fields.String(allow_none=True, validate=common.plain_name(100))
    roles = _codes(ROLE, at_least=1, required=True)
    floors = _codes(CODE, description=f"floor codes; {SCOPE}", load_default=list)
    departments = _codes(CODE, description=f"department codes; {SCOPE}", load_default=list)
    password = fields.String(
        load_only=True,
        validate=PASSWORD_LENGTH,
        metadata={"description": "at least 10 characters; without one the user cannot log in yet"},
    )


class UserChange(common.StrictSchema):
    OPENAPI: ClassVar = {"minProperties": 1}  # something to change
    display_name = fields.String(allow_none=True, validate=common.plain_name(100))
    roles = _codes(ROLE, at_least=1)
    floors = _codes(CODE, description=f"floor codes; {SCOPE}")
    departments = _codes(CODE, description=f"department codes; {SCOPE}")
    active = common.StrictBoolean(metadata={"description": "false ends the user's sessions at once"})

    @validates_schema
    def needs_a_change(self, data, **_kwargs):
        if not data:
            raise ValidationError("name at least one field to change", field_name="_schema")


class PasswordIn(common.StrictSchema):
    password = fields.String(required=True, load_only=True, validate=PASSWORD_LENGTH)


class RevokedOut(Schema):
    sessions_ended = fields.Integer()


class ServiceTokenIn(common.StrictSchema):
    name = fields.String(
        required=True, validate=NAME, metadata={"description": "the calling system, e.g. parking"}
    )
    hours = fields.Integer(strict=True, load_default=24 * 30, validate=validate.Range(min=1, max=24 * 365))


class ServiceTokenOut(Schema):
    subject = fields.String()
    token = fields.String()
    expires_in_hours = fields.Integer()


USER_TOKEN_HOURS = 24 * 30  # a month, as a service token: a department's system is not re-keyed daily
USER_TOKEN_MAX_HOURS = 24 * 90  # a forgotten token must run out, even if nobody revokes it


# Not blank, and no control character (the purpose goes into the log line as one line). `\s` is not
# the same set in Python and in ECMA (the document's dialect): \x85 and \ufeff are named for both.
ONE_LINE = common.Pattern(
    r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f\x85\ufeff][^\x00-\x1f\x7f]*$", error="one line of text, not blank"
)


class UserTokenIn(common.StrictSchema):
    hours = fields.Integer(
        strict=True,  # a whole number of hours: 1.5 is refused, not cut to 1
        load_default=USER_TOKEN_HOURS,
        validate=validate.Range(min=1, max=USER_TOKEN_MAX_HOURS),
        metadata={
            "description": f"lifetime; default {USER_TOKEN_HOURS} (30 days), at most {USER_TOKEN_MAX_HOURS}"
        },
    )
    purpose = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=200), ONE_LINE],
        metadata={
            "description": "what the token is for and who holds it, e.g. the cleaning department's duty "
            "system; logged with the issue"
        },
    )


class UserTokenOut(Schema):
    username = fields.String()
    roles = fields.List(fields.String())
    floors = fields.List(fields.String())
    departments = fields.List(fields.String())
    token = fields.String()
    token_type = fields.String(metadata={"description": "always `Bearer`"})
    expires_in_hours = fields.Integer()
    expires_at = fields.AwareDateTime()


class TokenLoginIn(common.StrictSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=100))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class TokenOut(Schema):
    token = fields.String()
    token_type = fields.String(metadata={"description": "always `Bearer`"})
    expires_in = fields.Integer(
        metadata={"description": "seconds until the token expires (LOGIN_TOKEN_MINUTES)"}
    )
