"""One JSON POST to an HTTP service (an SMS gateway, a department's system, a group robot) and what its
answer's status means.

2xx delivered; 400, 404, 410, 422 permanent (the service says the number or the request can never
work); anything else, a timeout or no connection, transient.
"""

from __future__ import annotations

import httpx

from services.notify.adapters.channels import PermanentFailure, TransientFailure

PERMANENT_STATUSES = frozenset({400, 404, 410, 422})
USER_AGENT = "mall-complaints-notify/1"


def post(session: httpx.Client, url: str, raw: bytes, headers: dict[str, str], timeout: float) -> str:
    """POST a JSON body; return `<status> <answer>` or raise the failure the status means."""
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT, **headers}
    try:
        response = session.post(url, content=raw, headers=headers, timeout=timeout)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise TransientFailure(f"{exc.__class__.__name__}: {exc}") from exc
    answer = f"{response.status_code} {response.text[:500]}".strip()
    if 200 <= response.status_code < 300:
        return answer
    if response.status_code in PERMANENT_STATUSES:
        raise PermanentFailure(answer)
    raise TransientFailure(answer)
