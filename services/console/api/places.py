"""The floors and departments a user may be scoped to: the mall's own, as intake keeps them.

The console keeps no reference data: it reads intake's reference API, as its pages do (at
SERVICES_URL, or through the process's own apps in the one-process run), with the caller's own
bearer token (an admin may read the reference data). A user with floors or departments is
therefore not created or changed while intake does not answer (503, naming intake); one without
any needs no call.
"""

from __future__ import annotations

from flask import current_app, request

from services.common.errors import InvalidInput

PLACES = ("floors", "departments")


def check_places(data: dict) -> None:
    """InvalidInput naming `floors` or `departments` when one of the codes given is not the mall's."""
    wanted = {name: data[name] for name in PLACES if data.get(name)}
    if not wanted:
        return
    client = current_app.extensions["console"].services.as_user(_callers_token())
    unknown: dict[str, list[str]] = {}
    for name, codes in wanted.items():
        known = [item["code"] for item in client.get(f"/intake/reference/{name}")]
        missing = [code for code in codes if code not in known]
        if missing:
            unknown[name] = [f"unknown {', '.join(map(repr, missing))}: one of {', '.join(known)}"]
    if unknown:
        raise InvalidInput(f"not the mall's own {' or '.join(unknown)}", unknown)


def _callers_token() -> str:
    """The request's bearer token (require_roles has verified it)."""
    return request.headers.get("Authorization", "").partition(" ")[2].strip()
