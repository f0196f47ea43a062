"""Reading a request's JSON body, held to the limits of services/common/jsonlimits.py.

Every way a view gets at a JSON body goes through the app's JSON provider: the schemas'
parser (`api._Parser`) and `request.get_json` alike, so no route of any service reads a body
around the limits. A body over one answers 400 with the usual error, naming where.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import g, has_app_context, request
from flask.json.provider import DefaultJSONProvider

from services.common import jsonlimits


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, whose `loads` keeps to the limits of the request being served."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return jsonlimits.loads(s, current_limits())


def current_limits() -> jsonlimits.Limits:
    return getattr(g, "json_limits", jsonlimits.DEFAULT) if has_app_context() else jsonlimits.DEFAULT


def allow_larger_body(max_bytes: int) -> None:
    """Let this request's body be up to `max_bytes`, and one string in it as long (a diagram's XML):
    called before the body is read, by `api.body_limit` and the console's modeler page."""
    request.max_content_length = max_bytes
    g.json_limits = replace(jsonlimits.DEFAULT, chars=max_bytes)
