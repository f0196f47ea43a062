"""Login attempts are limited twice: per client address (LOGIN_RATE_LIMIT, 429 beyond it) and per
account (LOGIN_MAX_FAILURES wrong passwords lock it for LOGIN_LOCKOUT_MINUTES, from wherever they
come). tests/integration/console/test_login.py has each limit from one client; here the client
tries to get round them.

Behind the gateway (TRUSTED_PROXIES=1) the client's address is the one the gateway appended to
X-Forwarded-For, the last entry: whatever the client put in the header itself is not believed, so
it cannot pass itself off as a new client each time. With no proxy trusted the header is ignored.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from werkzeug.test import Client

from tests.support.system import csrf_token, in_process_system

GATEWAY = "10.0.0.2"  # the gateway's own address, as the console sees the connection
LIMIT = "3 per minute"


@pytest.fixture
def console(settings, clock, tmp_path):
    """The system behind one trusted proxy, the login limit at three a minute per client."""
    limited = replace(settings, login_rate_limit=LIMIT, trusted_proxies=1)
    with in_process_system(limited, clock, tmp_path, secure_cookies=False) as (_, wsgi):
        yield wsgi


def _login(
    wsgi, username: str, password: str, client_sent: str | None, remote: str, behind_gateway=True
) -> int:
    """One login as a browser at `remote` makes it: through the gateway, which appends `remote` to
    whatever X-Forwarded-For the browser sent (nginx's $proxy_add_x_forwarded_for), or straight."""
    browser = Client(wsgi)
    chain = ", ".join(part for part in (client_sent, remote) if part)
    headers = (
        {"X-Forwarded-For": chain}
        if behind_gateway
        else ({"X-Forwarded-For": client_sent} if client_sent else {})
    )
    environ = {"REMOTE_ADDR": GATEWAY if behind_gateway else remote}
    page = browser.get("/console/login", headers=headers, environ_base=environ).get_data(as_text=True)
    form = {"username": username, "password": password, "csrf_token": csrf_token(page)}
    return browser.post("/console/login", data=form, headers=headers, environ_base=environ).status_code


def test_a_client_cannot_dodge_the_limit_behind_the_gateway_by_sending_its_own_forwarded_for(console):
    forged = [f"203.0.113.{n}" for n in range(6)]

    answers = [_login(console, "desk", "wrong-password-1", each, "198.51.100.7") for each in forged]

    assert answers == [401, 401, 401, 429, 429, 429]


def test_behind_the_gateway_each_client_has_its_own_count(console):
    first = [_login(console, "desk", "wrong-password-1", None, "198.51.100.7") for _ in range(4)]
    second = _login(console, "desk", "wrong-password-1", None, "198.51.100.8")

    assert first == [401, 401, 401, 429]
    assert second == 401  # another client, not yet limited


def test_without_a_trusted_proxy_a_forwarded_for_header_is_not_believed(settings, clock, tmp_path):
    limited = replace(settings, login_rate_limit=LIMIT, trusted_proxies=0)
    with in_process_system(limited, clock, tmp_path, secure_cookies=False) as (_, wsgi):
        answers = [
            _login(wsgi, "desk", "wrong-password-1", f"203.0.113.{n}", "198.51.100.7", behind_gateway=False)
            for n in range(4)
        ]

    assert answers == [401, 401, 401, 429]


def test_wrong_passwords_from_many_addresses_still_lock_the_account(console):
    spread = [_login(console, "floor3", "wrong-password-1", None, f"198.51.100.{n}") for n in range(5)]
    right_password = _login(console, "floor3", "demo-password-for-tests", None, "198.51.100.99")
    other_account = _login(console, "desk", "demo-password-for-tests", None, "198.51.100.98")

    assert spread == [401] * 5
    assert right_password == 401  # locked: the right password is refused too until the lockout passes
    assert other_account == 302
