"""The console in-process with every service, on this test's database; a browser-like client."""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from tests.support.system import DEMO_PASSWORD, csrf_token, in_process_system


@pytest.fixture
def system(settings, clock, tmp_path):
    with in_process_system(
        settings, clock, tmp_path, secure_cookies=False, login_rate_limit="1000 per minute"
    ) as (
        runtimes,
        wsgi,
    ):
        yield runtimes, wsgi


@pytest.fixture
def browser(system):
    """A new cookie-keeping client per call: browser() then .login("desk")."""

    def new() -> ConsoleClient:
        return ConsoleClient(system[1])

    return new


class ConsoleClient(Client):
    def form(self, path: str, data: dict, page: str | None = None):
        """POST a form with the CSRF token of `page` (default: the login page)."""
        html = self.get(page or "/console/login").get_data(as_text=True)
        return self.post(path, data={**data, "csrf_token": csrf_token(html)})

    def login(self, username: str, password: str = DEMO_PASSWORD):
        return self.form("/console/login", {"username": username, "password": password})
