"""A staff member's bearer token over HTTP: one an admin issues for a user (a department's own system
uses it), one a staff member logs in for. Either carries the user's roles, floors and departments,
so routing's task list gives it that user's queue within that user's scope."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.conftest import bearer
from tests.integration.console.conftest import ConsoleClient
from tests.support.system import DEMO_PASSWORD, in_process_system

REFUSED = "wrong username or password"  # the console login's message (login.refused on the page)


@pytest.fixture
def admin(tokens) -> dict:
    return bearer(tokens, "admin", subject="admin")


def _issue(mall, admin: dict, username: str, **body):
    return mall.api.post(
        f"/console/api/users/{username}/tokens", json={"purpose": "duty system", **body}, headers=admin
    )


def _log_in(api, username: str, password: str = DEMO_PASSWORD):
    return api.post("/console/api/token", json={"username": username, "password": password})


def _as(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _task_numbers(mall, token: str) -> set[str]:
    answer = mall.api.get("/routing/tasks?queue=floor_supervisor", headers=_as(token))
    assert answer.status_code == 200, answer.json
    return {task["number"] for task in answer.json["items"]}


def test_an_admin_issued_token_lists_the_users_own_queue_within_its_floor(mall, admin):
    on_3f = mall.record()
    on_2f = mall.record(floor="2F", merchant_code="M-2F-001")

    issued = _issue(mall, admin, "floor3", hours=48, purpose="三楼楼管的巡场终端")
    numbers = _task_numbers(mall, issued.json["token"])

    assert issued.status_code == 201
    assert issued.headers["Cache-Control"] == "no-store"
    assert on_3f["number"] in numbers and on_2f["number"] not in numbers


def test_an_admin_issued_token_carries_exactly_the_users_roles_floors_and_departments(mall, admin):
    user = mall.runtimes["console"].users.get("demo", "security")

    answer = _issue(mall, admin, "security", hours=24).json
    identity = mall.runtimes["console"].tokens.verify(answer["token"])

    assert identity == user.identity()  # what `python -m services token user security` puts in it
    assert (answer["username"], answer["roles"], answer["departments"]) == (
        "security",
        ["department_manager"],
        ["security"],
    )
    assert answer["token_type"] == "Bearer" and answer["expires_in_hours"] == 24


def test_an_admin_issued_token_lasts_the_hours_asked_a_month_by_default(mall, admin, clock):
    short = _issue(mall, admin, "floor3", hours=2).json["token"]
    default = _issue(mall, admin, "floor3").json

    clock.advance(timedelta(hours=2, seconds=1))
    expired = mall.api.get("/routing/tasks", headers=_as(short))
    clock.advance(timedelta(days=29))
    still = mall.api.get("/routing/tasks", headers=_as(default["token"]))

    assert expired.status_code == 401 and expired.json["message"] == "token expired"
    assert default["expires_in_hours"] == 24 * 30 and still.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "  "}, "purpose"),
        ({"purpose": "a\nb"}, "purpose"),
        ({"purpose": None}, "purpose"),
        ({"hours": 0}, "hours"),
        ({"hours": 24 * 90 + 1}, "hours"),
        ({"hours": 1.5}, "hours"),
    ],
)
def test_a_user_token_needs_a_purpose_and_a_bounded_lifetime(mall, admin, body, field):
    sent = {"purpose": "duty system", **body}
    answer = mall.api.post(
        "/console/api/users/floor3/tokens",
        json={k: v for k, v in sent.items() if v is not None},
        headers=admin,
    )

    assert answer.status_code == 400 and list(answer.json["errors"]["json"]) == [field]


def test_only_an_admin_issues_a_token_for_a_user(mall, tokens):
    floor3 = _issue(mall, mall.staff("floor3"), "floor3")
    ops = _issue(mall, mall.staff("ops"), "floor3")
    service = _issue(mall, bearer(tokens, "service", subject="service:parking"), "floor3")
    nobody = mall.api.post("/console/api/users/floor3/tokens", json={"purpose": "x"})

    assert floor3.status_code == ops.status_code == service.status_code == 403
    assert nobody.status_code == 401


def test_an_inactive_or_unknown_user_gets_no_token_and_the_answer_names_the_user(mall, admin):
    mall.api.patch("/console/api/users/floor2", json={"active": False}, headers=admin)

    inactive = _issue(mall, admin, "floor2")
    unknown = _issue(mall, admin, "nobody")

    assert inactive.status_code == 400 and list(inactive.json["errors"]["path"]) == ["username"]
    assert "inactive" in inactive.json["message"] and "token" not in inactive.json
    assert unknown.status_code == 404 and "nobody" in unknown.json["message"]


def test_issuing_a_user_token_is_logged_with_who_issued_it_and_why(mall, admin, caplog):
    with caplog.at_level(logging.INFO, logger="services.console.api.users"):
        token = _issue(mall, admin, "security", purpose="保安部值班系统").json["token"]

    [record] = [record for record in caplog.records if record.getMessage() == "user token issued"]
    assert (record.username, record.issued_by, record.purpose) == ("security", "admin", "保安部值班系统")
    assert token not in caplog.text


def test_a_staff_member_logs_in_for_a_token_that_lists_its_queue_without_a_cookie(mall):
    on_3f = mall.record()
    on_2f = mall.record(floor="2F", merchant_code="M-2F-001")

    answer = _log_in(mall.api, "floor3")
    numbers = _task_numbers(mall, answer.json["token"])

    assert answer.status_code == 200
    assert answer.json["token_type"] == "Bearer" and answer.json["expires_in"] == 3600
    assert "Set-Cookie" not in answer.headers and answer.headers["Cache-Control"] == "no-store"
    assert on_3f["number"] in numbers and on_2f["number"] not in numbers


def test_a_login_token_expires_after_its_lifetime(mall, clock):
    token = _log_in(mall.api, "floor3").json["token"]

    clock.advance(timedelta(minutes=59))
    within = mall.api.get("/routing/tasks", headers=_as(token))
    clock.advance(timedelta(minutes=1, seconds=1))
    after = mall.api.get("/routing/tasks", headers=_as(token))

    assert within.status_code == 200
    assert after.status_code == 401 and after.json["message"] == "token expired"


def test_a_wrong_password_an_unknown_name_and_an_inactive_user_get_the_same_401(mall, admin):
    mall.api.patch("/console/api/users/floor2", json={"active": False}, headers=admin)

    answers = [
        _log_in(mall.api, "desk", "wrong-password-1"),
        _log_in(mall.api, "nobody"),
        _log_in(mall.api, "floor2"),
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401]
    assert {answer.json["message"] for answer in answers} == {REFUSED}
    assert all("token" not in answer.json for answer in answers)
    assert answers[0].headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_passwords_lock_the_account_for_the_api_as_for_the_login_page(mall, browser, clock):
    wrong = [_log_in(mall.api, "floor3", "wrong-password-1").status_code for _ in range(5)]
    locked = _log_in(mall.api, "floor3")
    page = browser().login("floor3")
    clock.advance(timedelta(minutes=16))
    after = _log_in(mall.api, "floor3")

    assert wrong == [401] * 5
    assert locked.status_code == 401 and "locked" in locked.json["message"]
    assert page.status_code == 401 and "锁定" in page.get_data(as_text=True)
    assert after.status_code == 200


def test_the_login_rate_limit_counts_the_api_and_the_login_page_together(settings, clock, tmp_path):
    limited = replace(settings, login_rate_limit="3 per minute")
    with in_process_system(limited, clock, tmp_path, secure_cookies=False) as (_, wsgi):
        client = ConsoleClient(wsgi)
        first = [_log_in(client, "desk", "wrong-password-1").status_code for _ in range(2)]
        page = client.login("desk", "wrong-password-1").status_code
        beyond = _log_in(client, "desk")

    assert first == [401, 401] and page == 401
    assert beyond.status_code == 429 and beyond.json["code"] == 429 and "token" not in beyond.json


def test_the_login_token_lasts_as_long_as_login_token_minutes_says(settings, clock, tmp_path):
    five_minutes = replace(settings, login_token_ttl=timedelta(minutes=5))
    with in_process_system(five_minutes, clock, tmp_path) as (_, wsgi):
        client = ConsoleClient(wsgi)
        answer = _log_in(client, "desk")
        clock.advance(timedelta(minutes=5, seconds=1))
        expired = client.get("/intake/complaints", headers=_as(answer.json["token"]))

    assert answer.json["expires_in"] == 300 and expired.status_code == 401
