"""Calling the services' HTTP APIs with the logged-in user's bearer token.

Behind a gateway the base URL is `SERVICES_URL`; in the one-process run the console is handed the
process's own WSGI app and calls it directly (httpx's WSGI transport), so the same code runs both
ways and a console page never waits for a free server thread to call a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from flask import has_request_context

from services.common.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
    Unauthorized,
    Unavailable,
)
from services.common.logging import correlation_id
from services.console.i18n import language

IN_PROCESS_BASE = "http://services.in-process"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)

_STATUS_ERRORS: dict[int, type[ServiceError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    405: NotFound,
    409: Conflict,
}


@dataclass(frozen=True)
class Download:
    """A file a service answered with: passed on to the browser as it came."""

    content: bytes
    media_type: str
    disposition: str | None


class Services:
    """Where the services answer; hands out a client per logged-in user."""

    def __init__(self, base_url: str | None):
        self._client = httpx.Client(base_url=base_url, timeout=TIMEOUT) if base_url else None

    def use_wsgi(self, app) -> None:
        """Call this WSGI app (every service mounted at /<name>) instead of a URL."""
        self._client = httpx.Client(
            base_url=IN_PROCESS_BASE, transport=httpx.WSGITransport(app=app), timeout=TIMEOUT
        )

    def as_user(self, token: str) -> ServiceClient:
        if self._client is None:
            raise ConfigurationError("SERVICES_URL is required: where the console reaches the services")
        return ServiceClient(self._client, token)


class ServiceClient:
    """GET and POST to `/<service>/<path>`; errors come back as our ServiceError types."""

    def __init__(self, client: httpx.Client, token: str):
        self._client = client
        self._token = token

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in params.items() if v not in (None, "")})

    def text(self, path: str) -> str:
        return self._send("GET", path).text

    def download(self, path: str, **params: Any) -> Download:
        """A file (CSV, XLSX, PDF, a printable page) with its media type and Content-Disposition."""
        response = self._send("GET", path, params={k: v for k, v in params.items() if v not in (None, "")})
        media_type = response.headers.get("Content-Type", "application/octet-stream")
        return Download(response.content, media_type, response.headers.get("Content-Disposition"))

    def post(self, path: str, body: dict | None = None, headers: dict | None = None) -> Any:
        return self._call("POST", path, json=body if body is not None else {}, extra_headers=headers)

    def upload(
        self,
        path: str,
        files: list[tuple[str, bytes, str]],
        form: dict | None = None,
        language: str | None = None,
    ) -> Any:
        """A multipart POST: each (name, content, media type) as a `file` part, with the form's fields;
        the service's refusals come back in `language`."""
        parts = [("file", (name, content, media_type)) for name, content, media_type in files]
        headers = {"Accept-Language": language} if language else None
        return self._call("POST", path, files=parts, data=form or {}, extra_headers=headers)

    def patch(self, path: str, body: dict) -> Any:
        return self._call("PATCH", path, json=body)

    def put(self, path: str, body: dict) -> Any:
        return self._call("PUT", path, json=body)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path)

    def _call(self, method: str, path: str, **kwargs) -> Any:
        response = self._send(method, path, **kwargs)
        return response.json() if response.content else None

    def _send(self, method: str, path: str, extra_headers: dict | None = None, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}", **(extra_headers or {})}
        if has_request_context():  # the services answer errors in the reader's language
            headers.setdefault("Accept-Language", language())
        if correlation_id.get():
            headers["X-Correlation-ID"] = correlation_id.get()
        try:
            response = self._client.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the service at {path} does not answer: {exc}") from exc
        if response.status_code >= 400:
            raise _error(response)
        return response


def _error(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    message = body.get("message") or f"{response.status_code} from the service"
    if response.status_code in (400, 413):  # 413: a file over the limit, named like a field
        fields = body.get("errors") or {}
        location = next(iter(fields), "json")
        return InvalidInput(message, flatten(fields.get(location, {})), location)
    if response.status_code in _STATUS_ERRORS:
        return _STATUS_ERRORS[response.status_code](message)
    return Unavailable(message)


def flatten(nested: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"customer": {"phone": ["…"]}} -> {"customer.phone": ["…"]}"""
    if not isinstance(nested, dict):
        return {
            prefix or "_schema": [str(item) for item in (nested if isinstance(nested, list) else [nested])]
        }
    flat: dict[str, list[str]] = {}
    for key, value in nested.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat
