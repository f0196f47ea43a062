"""The demo staff `./dev run` loads are in the console's user list and log in; a complaint about the
B1 dairy counter and one about cleaning reach the B1 floor supervisor and the cleaning manager
(tests/unit/test_demo_data.py: someone for every lane, every scope in the demo mall)."""

from __future__ import annotations

import pytest

from services.runner.allinone import DEMO_STAFF, load_demo
from tests.conftest import bearer
from tests.support.system import DEMO_PASSWORD

NEW_PEOPLE = {
    "floorb1": (["floor_supervisor"], ["B1"], []),
    "cleaning": (["department_manager"], [], ["cleaning"]),
}


def test_the_b1_floor_supervisor_and_the_cleaning_manager_are_in_the_user_list(mall, tokens):
    listed = mall.api.get("/console/api/users", headers=bearer(tokens, "admin", subject="admin")).json
    found = {user["username"]: (user["roles"], user["floors"], user["departments"]) for user in listed}

    assert {name: found.get(name) for name in NEW_PEOPLE} == NEW_PEOPLE
    assert {name for name, *_ in DEMO_STAFF} == set(found)


@pytest.mark.parametrize("username", sorted(NEW_PEOPLE))
def test_the_new_demo_people_log_in_to_the_console_and_see_their_queue(browser, username):
    person = browser()

    answer = person.login(username)
    queue = person.get("/console/queue")

    assert answer.status_code == 302 and answer.headers["Location"].endswith("/console/queue")
    assert queue.status_code == 200


def test_a_complaint_about_the_b1_dairy_counter_waits_for_the_b1_floor_supervisor(mall):
    dairy = mall.record(floor="B1", merchant_code="M-B1-007", description="酸奶胀袋，店员拒绝退换")

    mine = _numbers(mall, "floorb1", "floor_supervisor")
    floor3 = _numbers(mall, "floor3", "floor_supervisor")

    assert dairy["number"] in mine and dairy["number"] not in floor3


def test_a_complaint_about_cleaning_waits_for_the_cleaning_manager(mall):
    wet_floor = mall.record(
        category="environment",
        floor="B1",
        merchant_code=None,
        department="cleaning",
        description="地面湿滑无提示",
        customer_request=None,
        amount=None,
    )

    mine = _numbers(mall, "cleaning", "department_manager")
    security = _numbers(mall, "security", "department_manager")

    assert wet_floor["number"] in mine and wet_floor["number"] not in security


def _numbers(mall, username: str, queue: str) -> set[str]:
    answer = mall.api.get(f"/routing/tasks?queue={queue}", headers=mall.staff(username))
    assert answer.status_code == 200, answer.json
    return {task["number"] for task in answer.json["items"]}


def test_the_admin_is_told_which_floors_and_departments_nobody_covers(browser, mall, tokens):
    """The demo mall has someone for every floor and department; once the 1F supervisor and the
    engineering manager leave, a complaint about 1F or engineering would wait in a queue nobody sees."""
    admin = browser()
    admin.login("admin")
    covered = admin.get("/console/admin/users").get_data(as_text=True)
    for username in ("floor1", "engineering"):
        left = mall.api.patch(
            f"/console/api/users/{username}",
            json={"active": False},
            headers=bearer(tokens, "admin", subject="admin"),
        )
        assert left.status_code == 200, left.json

    page = admin.get("/console/admin/users").get_data(as_text=True)

    assert 'id="unheld"' not in covered
    warning = page.split('id="unheld">', 1)[1].split("</p>", 1)[0]
    assert warning.startswith("没有在岗负责人：")
    assert "一层" in warning and "地下二层" in warning and "工程部" in warning
    assert "三层" not in warning and "保洁部" not in warning


def test_the_demo_password_is_given_once_and_a_changed_one_is_kept_when_the_demo_loads_again(browser, mall):
    """Every demo person gets the demo password (hashed once for all of them); one an admin changed
    keeps the new one when the system starts again on the same database."""
    runtimes = mall.runtimes
    settings = runtimes["console"].settings
    runtimes["console"].users.set_password(settings.mall_id, "floor1", "floor1的新密码很长很长")

    load_demo(settings, runtimes["intake"], DEMO_PASSWORD)

    assert browser().login("floor1", "floor1的新密码很长很长").status_code == 302
    assert browser().login("floor1").status_code != 302  # the demo password no longer opens it
    assert browser().login("floor4").status_code == 302


def test_a_new_user_is_named_when_saved_and_one_without_a_password_is_said_to_be_unable_to_log_in(browser):
    admin = browser()
    admin.login("admin")

    def create(username: str, **more):
        answer = admin.form(
            "/console/admin/users",
            {"username": username, "display_name": f"{username} 同事", "roles": "service_desk", **more},
            "/console/admin/users",
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        return admin.get(answer.headers["Location"]).get_data(as_text=True)

    with_password = create("zhao", password="赵的密码很长很长很长")
    without = create("qian")

    assert "已创建用户 zhao 同事（zhao）。" in with_password and "无法登录" not in with_password
    assert "已创建用户 qian 同事（qian），但尚未设置密码：设置密码前该用户无法登录。" in without
    assert "已保存。" not in with_password + without
