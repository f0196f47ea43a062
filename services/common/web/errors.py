"""One error table and one JSON error shape for every HTTP service.

Every error body is ``{"code", "status", "message", "errors", "correlation_id"}``; ``errors``
names the fields at fault, keyed by where they came from (``json``, ``query``, ``headers``).
"""

from __future__ import annotations

import logging
from http import HTTPStatus

import psycopg
from flask import Flask, has_request_context, jsonify, request
from marshmallow import Schema, fields
from psycopg_pool import PoolTimeout
from werkzeug.exceptions import HTTPException

from services.common import errors, i18n
from services.common.logging import correlation_id

log = logging.getLogger(__name__)

ERROR_TABLE: dict[type[errors.ServiceError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.ConfigurationError: 500,
    errors.Unavailable: 503,
}


class ErrorSchema(Schema):
    """The body of every error response."""

    code = fields.Integer(metadata={"description": "HTTP status code"})
    status = fields.String(metadata={"description": "HTTP status name"})
    message = fields.String(metadata={"description": "What went wrong, for a person"})
    errors = fields.Dict(metadata={"description": "Field errors by location, then field name"})
    correlation_id = fields.String(allow_none=True)


def error_body(
    code: int, message: str | None = None, field_errors: dict | None = None, names: dict | None = None
) -> dict:
    """The error in the caller's language (Accept-Language; messages as written, English, without one),
    the codes it quotes named as `names` names them in that language (see InvalidInput)."""
    language = _callers_language()
    message = message or HTTPStatus(code).description or HTTPStatus(code).phrase
    rename = _renamer(names, language) if names and language else None
    body = {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": i18n.message(message, language, rename) if language else message,
        "correlation_id": correlation_id.get(),
    }
    if field_errors:
        body["errors"] = i18n.messages(field_errors, language, rename) if language else field_errors
    return body


def _renamer(names: dict[str, dict[str, str]], language: str):
    """`name` for i18n.message: a field or option code (or a list of fields) by the name it has in
    `language`, else as drawn (""), else as it is."""

    def one(code: str) -> str | None:
        found = names.get(code) or {}
        return found.get(i18n.normalise(language)) or found.get("")

    def rename(key: str, value: str) -> str | None:
        if key == "fields":
            return "、".join(one(code.strip()) or code.strip() for code in value.split(","))
        if key == "choices":  # a choice field's options, each as the form names it
            named = [one(code.strip(" '\"")) for code in value.split(",")]
            return "、".join(named) if all(named) else None
        return one(value) if key in ("field", "option") else None

    return rename


def _callers_language() -> str | None:
    """The language the caller asked for, or None: a department's system that names none reads the
    messages as the code writes them, so what it already matches on keeps working."""
    if not has_request_context() or not request.headers.get("Accept-Language"):
        return None
    return i18n.negotiate(request.headers["Accept-Language"])


def http_exception_response(error: HTTPException):
    data = getattr(error, "data", None) or {}
    field_errors = data.get("errors") or data.get("messages")
    message = data.get("message") or error.description
    if error.code == 429 and not data.get("message"):  # Flask-Limiter describes only its limit
        message = f"too many requests ({error.description}); try again later"
    if field_errors and not data.get("message"):
        message = "the request has invalid fields: " + ", ".join(_field_names(field_errors))
    response = jsonify(error_body(error.code or 500, message, field_errors))
    response.status_code = error.code or 500
    # Keep what the exception says in headers (`Allow` on a 405, `Retry-After` on a 429), not its HTML type.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _field_names(field_errors: dict) -> list[str]:
    """Dotted names of the fields at fault, without the location level (json, query …)."""
    names: list[str] = []

    def walk(node: dict, path: str) -> None:
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, dict):
                walk(value, child)
            else:
                names.append(child)

    for location, node in field_errors.items():
        if isinstance(node, dict):
            walk(node, "")
        else:
            names.append(str(location))
    return names


def nest_field_errors(flat: dict[str, list[str]]) -> dict:
    """{"customer.phone": [...]} -> {"customer": {"phone": [...]}}, the shape marshmallow gives.

    A name is split at its dots only when no other name is one of its prefixes: a task form's field
    ids are names, not paths, and a caller may send `x` and `x.y` together; each then keeps its
    messages under its whole name (splitting `x.y` would need `x` to be both messages and fields).
    """
    nested: dict = {}
    for dotted, messages in flat.items():
        parts = dotted.split(".")
        if any(".".join(parts[:end]) in flat for end in range(1, len(parts))):
            parts = [dotted]
        *parents, leaf = parts
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node.setdefault(leaf, []).extend(messages)
    return nested


def _status(error: errors.ServiceError) -> int:
    """The status of the error's class or of the nearest base in the table (LoginRefused is a 401)."""
    return next((ERROR_TABLE[kind] for kind in type(error).__mro__ if kind in ERROR_TABLE), 500)


def service_error_response(error: errors.ServiceError):
    code = _status(error)
    field_errors = None
    if isinstance(error, errors.InvalidInput) and error.fields:
        field_errors = {error.location: nest_field_errors(error.fields)}
    if code >= 500:
        log.error("service error: %s", error)
    names = error.names if isinstance(error, errors.InvalidInput) else None
    response = jsonify(error_body(code, str(error), field_errors, names))
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mall"'
    return response


def database_error_response(error: Exception):
    """A connection lost or refused at any statement, not only where a repository translates it:
    503, so the client tries again (with its Idempotency-Key), never a 500 for a server away."""
    return service_error_response(errors.Unavailable(f"the database does not answer: {error}"))


def unexpected_error_response(error: Exception):
    log.exception("unexpected error")
    response = jsonify(error_body(500, "internal error; quote the correlation id when reporting it"))
    response.status_code = 500
    return response


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, http_exception_response)
    for error_type in ERROR_TABLE:
        app.register_error_handler(error_type, service_error_response)
    for error_type in (psycopg.OperationalError, PoolTimeout):
        app.register_error_handler(error_type, database_error_response)
    app.register_error_handler(Exception, unexpected_error_response)
