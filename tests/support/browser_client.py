"""A staff member's browser, as far as the console behind the gateway sees it: cookies, CSRF, address.

The deployment puts TLS in front of the gateway (a load balancer or the Ingress), so a browser
sends the console's `Secure` session cookie back. The test talks plain HTTP to the gateway on
loopback, where requests would keep a secure cookie to itself; this client sends its cookies as
that browser on https does. It can also come from an address of its own on the loopback network
(127.0.0.2, …), as different people do from different machines.
"""

from __future__ import annotations

import re

import requests
from requests.adapters import HTTPAdapter

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class _FromAddress(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


class Browser:
    """GET and POST like a browser on the console's pages at `base` (the gateway's /console)."""

    def __init__(self, base: str, address: str = "127.0.0.1"):
        self.base = base
        self.session = requests.Session()
        self.session.mount("http://", _FromAddress(address))

    def _cookies(self) -> dict[str, str]:
        """Every cookie the gateway's host set (all with Path=/), secure ones included: over TLS."""
        return {"Cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.session.cookies)}

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(f"{self.base}{path}", headers=self._cookies(), timeout=30, **kwargs)

    def post_form(self, path: str, form_page: str, fields: dict) -> requests.Response:
        """POST `fields` with the CSRF token of the page at `form_page`, without following a redirect."""
        page = self.get(form_page)
        found = CSRF.search(page.text)
        assert found, f"{form_page} has no CSRF token: {page.status_code} {page.text[:300]}"
        return self.session.post(
            f"{self.base}{path}",
            data={"csrf_token": found.group(1), **fields},
            headers=self._cookies(),
            timeout=30,
            allow_redirects=False,
        )

    def log_in(self, username: str, password: str) -> requests.Response:
        return self.post_form("/login", "/login", {"username": username, "password": password})
