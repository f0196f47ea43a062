"""Schemas of the user administration API."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from services.common.identity.model import ROLES, Role

STAFF_ROLES = [role for role in ROLES if role != Role.SERVICE]
NAME = validate.Regexp(r"^[a-z0-9][a-z0-9._-]{1,39}$", error="2-40 of a-z, 0-9, '.', '_', '-'")
CODE = fields.String(validate=validate.Regexp(r"^[A-Za-z0-9_\-]{1,40}$"))


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class UserOut(Schema):
    username = fields.String()
    display_name = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    floors = fields.List(fields.String())
    departments = fields.List(fields.String())
    active = fields.Boolean()
    locked_until = fields.AwareDateTime(allow_none=True)
    last_login_at = fields.AwareDateTime(allow_none=True)


class UserIn(StrictSchema):
    username = fields.String(required=True, validate=NAME)
    display_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLES)), required=True,
                        validate=validate.Length(min=1))  # fmt: skip
    floors = fields.List(CODE, load_default=list)
    departments = fields.List(CODE, load_default=list)
    password = fields.String(load_only=True, validate=validate.Length(max=200),
                             metadata={"description": "at least 10 characters; without one the user cannot log in yet"})  # fmt: skip


class UserChange(StrictSchema):
    display_name = fields.String(allow_none=True, validate=validate.Length(max=100))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLES)), validate=validate.Length(min=1))
    floors = fields.List(CODE)
    departments = fields.List(CODE)
    active = fields.Boolean(metadata={"description": "false ends the user's sessions at once"})


class PasswordIn(StrictSchema):
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=200))


class RevokedOut(Schema):
    sessions_ended = fields.Integer()


class ServiceTokenIn(StrictSchema):
    name = fields.String(
        required=True, validate=NAME, metadata={"description": "the calling system, e.g. parking"}
    )
    hours = fields.Integer(load_default=24 * 30, validate=validate.Range(min=1, max=24 * 365))


class ServiceTokenOut(Schema):
    subject = fields.String()
    token = fields.String()
    expires_in_hours = fields.Integer()
