"""Login, sessions, CSRF, lockout and the login rate limit of the console."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import unquote

import pytest
from werkzeug.test import Client

from tests.conftest import bearer
from tests.integration.console.conftest import ConsoleClient
from tests.support.system import DEMO_PASSWORD, csrf_token, in_process_system


def test_the_desk_logs_in_sees_its_queue_and_after_logout_the_old_cookie_opens_nothing(browser):
    desk = browser()

    answer = desk.login("desk")
    cookie = desk.get_cookie("console")
    queue = desk.get("/console/queue")
    desk.form("/console/logout", {}, page="/console/queue")
    desk.set_cookie("console", cookie.value)  # the cookie as it was before logout
    after = desk.get("/console/queue")

    assert answer.status_code == 302 and answer.headers["Location"].endswith("/console/queue")
    assert queue.status_code == 200 and "我的待办" in queue.get_data(as_text=True)
    assert after.status_code == 302 and "/console/login" in after.headers["Location"]


def test_logging_in_gives_a_new_session_id_so_a_planted_one_is_worthless(browser):
    client = browser()
    client.get("/console/login")  # an anonymous session exists (it holds the login form's CSRF token)
    before = client.get_cookie("console").value

    client.login("desk")

    assert client.get_cookie("console").value != before


def test_the_session_cookie_is_secure_httponly_samesite_and_host_only(settings, clock, tmp_path):
    with in_process_system(settings, clock, tmp_path) as (_, wsgi):
        client = Client(wsgi)
        page = client.get("/console/login", base_url="https://mall.example")
        header = page.headers["Set-Cookie"]

    assert header.startswith("__Host-console=")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Domain" not in header


def test_a_form_posted_without_its_csrf_token_is_refused(browser):
    client = browser()
    client.get("/console/login")

    answer = client.post("/console/login", data={"username": "desk", "password": "demo-password-for-tests"})

    assert answer.status_code == 400
    assert "页面已过期，请刷新后重试" in answer.get_data(
        as_text=True
    )  # said in Chinese, not Flask-WTF's English
    assert client.get("/console/queue").status_code == 302  # not logged in


def test_repeated_wrong_passwords_lock_the_account_until_the_lockout_passes(browser, clock):
    client = browser()

    refused = [client.login("floor3", "wrong-password-1").status_code for _ in range(5)]
    locked = client.login("floor3")
    clock.advance(timedelta(minutes=16))
    after = client.login("floor3")

    assert refused == [401] * 5
    assert locked.status_code == 401 and "锁定" in locked.get_data(as_text=True)
    assert after.status_code == 302


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(browser):
    unknown = browser().login("nobody", "whatever-password")
    wrong = browser().login("desk", "whatever-password")

    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或密码错误" in unknown.get_data(as_text=True) and "用户名或密码错误" in wrong.get_data(
        as_text=True
    )


def test_logins_beyond_the_rate_limit_are_refused(settings, clock, tmp_path):
    from tests.integration.console.conftest import ConsoleClient

    limited = replace(settings, login_rate_limit="3 per minute")
    with in_process_system(limited, clock, tmp_path, secure_cookies=False) as (_, wsgi):
        client = ConsoleClient(wsgi)
        answers = [client.login("desk", "wrong-password-1") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    page = answers[-1].get_data(as_text=True)
    assert "请求过于频繁，请稍后再试" in page and "per" not in page  # not Flask-Limiter's "3 per 1 minute"


def test_deactivating_a_user_ends_its_session_at_once(browser, tokens):
    floor3 = browser()
    floor3.login("floor3")
    admin = bearer(tokens, "admin", subject="admin")

    changed = browser().patch("/console/api/users/floor3", json={"active": False}, headers=admin)

    assert changed.status_code == 200 and changed.json["active"] is False
    assert floor3.get("/console/queue").status_code == 302
    assert browser().login("floor3").status_code == 401


def test_a_changed_role_applies_at_the_next_page(browser, tokens):
    desk = browser()
    desk.login("desk")
    admin = bearer(tokens, "admin", subject="admin")

    browser().patch("/console/api/users/desk", json={"roles": ["store_manager"]}, headers=admin)

    assert desk.get("/console/complaints/new").status_code == 403


def test_a_language_switch_shows_the_pages_in_english(browser):
    client = browser()
    client.login("desk")

    client.get("/console/lang/en")

    assert "My queue" in client.get("/console/queue").get_data(as_text=True)


def test_a_designer_and_an_admin_land_on_their_own_pages_not_on_a_queue_they_have_none_of(browser):
    designer, admin = browser(), browser()

    designer_lands = designer.login("designer").headers["Location"]
    admin_lands = admin.login("admin").headers["Location"]
    home = admin.get("/console/").headers["Location"]

    assert designer_lands.endswith("/console/processes")
    assert admin_lands.endswith("/console/admin/users") and home.endswith("/console/admin/users")


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: planted=1",
        " //evil.example",
        "/\x00/evil.example",
    ],
)
def test_after_login_it_goes_back_only_to_a_page_of_this_site(system, target):
    client = ConsoleClient(system[1])
    page = client.get("/console/login").get_data(as_text=True)
    answer = client.post(
        "/console/login",
        data={"username": "desk", "password": DEMO_PASSWORD, "next": target, "csrf_token": csrf_token(page)},
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/console/queue"


def test_after_login_it_goes_back_to_the_page_asked_for(browser):
    client = browser()
    asked = client.get("/console/cases/00000000-0000-0000-0000-000000000001?tab=timeline")
    target = asked.headers["Location"].split("next=", 1)[1]
    page = client.get("/console/login").get_data(as_text=True)
    answer = client.post(
        "/console/login",
        data={
            "username": "desk",
            "password": DEMO_PASSWORD,
            "next": unquote(target),
            "csrf_token": csrf_token(page),
        },
    )

    assert answer.headers["Location"] == "/console/cases/00000000-0000-0000-0000-000000000001?tab=timeline"
