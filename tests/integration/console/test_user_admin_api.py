"""The user administration API refuses what would make a user wrong: a role, floor or department
twice, a floor or department the mall does not have (intake's reference data), a change of nothing,
an `active` that is not true or false, a NUL in a name."""

from __future__ import annotations

import re

import pytest

from tests.conftest import bearer

SUPERVISOR = {"username": "li.supervisor", "roles": ["floor_supervisor"], "floors": ["3F"]}


@pytest.fixture
def admin(tokens) -> dict:
    return bearer(tokens, "admin", subject="admin")


def _users(mall, admin) -> set[str]:
    return {user["username"] for user in mall.api.get("/console/api/users", headers=admin).json}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"roles": ["floor_supervisor", "floor_supervisor"]}, "roles"),
        ({"floors": ["3F", "2F", "3F"]}, "floors"),
        (
            {"roles": ["department_manager"], "floors": [], "departments": ["security", "security"]},
            "departments",
        ),
    ],
)
def test_a_role_floor_or_department_given_twice_is_refused_naming_it(mall, admin, changes, field):
    answer = mall.api.post("/console/api/users", json={**SUPERVISOR, **changes}, headers=admin)

    assert answer.status_code == 400
    assert answer.json["errors"]["json"][field] == [
        f"each at most once: {({**SUPERVISOR, **changes})[field][0]} given more than once"
    ]
    assert "li.supervisor" not in _users(mall, admin)


def test_floors_and_departments_must_be_the_malls_own_as_intake_keeps_them(mall, admin):
    unknown_floor = mall.api.post(
        "/console/api/users", json={**SUPERVISOR, "floors": ["3F", "99F"]}, headers=admin
    )
    unknown_both = mall.api.post(
        "/console/api/users",
        headers=admin,
        json={
            **SUPERVISOR,
            "roles": ["floor_supervisor", "department_manager"],
            "floors": ["99F"],
            "departments": ["moon"],
        },
    )
    created = mall.api.post(
        "/console/api/users",
        headers=admin,
        json={**SUPERVISOR, "roles": ["floor_supervisor", "department_manager"], "departments": ["security"]},
    )
    moved = mall.api.patch("/console/api/users/li.supervisor", json={"floors": ["B9"]}, headers=admin)

    assert unknown_floor.status_code == 400
    assert list(unknown_floor.json["errors"]["json"]) == ["floors"]
    assert unknown_floor.json["errors"]["json"]["floors"][0].startswith("unknown '99F': one of ")
    assert "3F" in unknown_floor.json["errors"]["json"]["floors"][0]
    assert set(unknown_both.json["errors"]["json"]) == {"floors", "departments"}
    assert created.status_code == 201 and created.json["departments"] == ["security"]
    assert moved.status_code == 400 and "'B9'" in moved.json["errors"]["json"]["floors"][0]
    assert mall.api.get("/console/api/users/li.supervisor", headers=admin).json["floors"] == ["3F"]


def test_a_department_is_only_a_department_manager_s_and_a_floor_only_a_floor_supervisor_s(mall, admin):
    zh = {**admin, "Accept-Language": "zh-CN"}
    supervisor_with_a_department = mall.api.post(
        "/console/api/users", json={**SUPERVISOR, "departments": ["cleaning"]}, headers=zh
    )
    manager_with_a_floor = mall.api.post(
        "/console/api/users",
        json={**SUPERVISOR, "roles": ["department_manager"], "departments": ["cleaning"]},
        headers=admin,
    )
    mall.api.post("/console/api/users", json=SUPERVISOR, headers=admin)
    widened = mall.api.patch(
        "/console/api/users/li.supervisor", json={"departments": ["cleaning"]}, headers=admin
    )

    assert supervisor_with_a_department.status_code == 400
    assert supervisor_with_a_department.json["errors"]["json"] == {
        "departments": ["只有部门经理可以指定部门，请去掉部门或加上部门经理岗位"]
    }
    assert manager_with_a_floor.status_code == 400
    assert list(manager_with_a_floor.json["errors"]["json"]) == ["floors"]
    assert widened.status_code == 400 and list(widened.json["errors"]["json"]) == ["departments"]
    assert mall.api.get("/console/api/users/li.supervisor", headers=admin).json["departments"] == []


def test_a_patch_must_change_something_and_active_is_true_or_false(mall, admin):
    assert mall.api.post("/console/api/users", json=SUPERVISOR, headers=admin).status_code == 201
    path = "/console/api/users/li.supervisor"

    no_body = mall.api.patch(path, headers=admin)
    empty = mall.api.patch(path, json={}, headers=admin)
    zero = mall.api.patch(path, json={"active": 0}, headers=admin)
    word = mall.api.patch(path, json={"active": "no"}, headers=admin)
    deactivated = mall.api.patch(path, json={"active": False}, headers=admin)

    for refused in (no_body, empty):
        assert refused.status_code == 400
        assert refused.json["errors"]["json"] == {"_schema": ["name at least one field to change"]}
    for refused in (zero, word):
        assert refused.status_code == 400 and list(refused.json["errors"]["json"]) == ["active"]
    assert deactivated.status_code == 200 and deactivated.json["active"] is False


@pytest.mark.parametrize("name", ["   ", "😀\u202e\u0007", "李\n主管"])
def test_a_display_name_is_one_line_that_is_not_blank(mall, admin, name):
    answer = mall.api.post("/console/api/users", json={**SUPERVISOR, "display_name": name}, headers=admin)

    assert answer.status_code == 400 and list(answer.json["errors"]["json"]) == ["display_name"]
    assert "li.supervisor" not in _users(mall, admin)


def test_a_nul_in_a_display_name_is_refused_naming_it(mall, admin):
    answer = mall.api.post("/console/api/users", json={**SUPERVISOR, "display_name": "李\x00"}, headers=admin)

    assert answer.status_code == 400 and list(answer.json["errors"]["json"]) == ["display_name"]


def test_the_admin_page_creates_a_supervisor_of_a_floor_and_names_a_floor_the_mall_lacks(
    browser, mall, admin
):
    page = browser()
    page.login("admin")
    form = {"username": "wang.floor", "roles": ["floor_supervisor"], "password": ""}

    refused = page.form(
        "/console/admin/users", {**form, "floors": ["3F", "99F"]}, page="/console/admin/users"
    )
    created = page.form("/console/admin/users", {**form, "floors": ["3F"]}, page="/console/admin/users")

    taken = page.form(
        "/console/admin/users",
        {**form, "floors": ["3F"], "display_name": "王楼管"},
        page="/console/admin/users",
    )

    assert refused.status_code == 400 and "没有 99F，可选：" in refused.get_data(as_text=True)
    assert created.status_code == 302
    assert mall.api.get("/console/api/users/wang.floor", headers=admin).json["floors"] == ["3F"]
    again = taken.get_data(as_text=True)  # the same name again: the form as typed, the reason beside it
    assert taken.status_code == 409 and "已存在" in again and 'value="王楼管"' in again


def test_a_user_without_a_role_is_told_to_choose_one_in_chinese(mall, admin):
    answer = mall.api.post(
        "/console/api/users", json={**SUPERVISOR, "roles": []}, headers={**admin, "Accept-Language": "zh-CN"}
    )

    assert answer.status_code == 400 and answer.json["errors"]["json"]["roles"] == ["至少选择 1 项"]


def test_the_admin_page_issues_a_token_for_a_departments_system_shown_once_and_revokes_it(
    browser, mall, clock
):
    page = browser()
    page.login("admin")
    user_page = "/console/admin/users/floor3"

    missing = page.form(user_page, {"action": "issue_token", "purpose": "", "hours": "720"}, page=user_page)
    issued = page.form(
        user_page, {"action": "issue_token", "purpose": "三楼巡检系统", "hours": "24"}, page=user_page
    )
    text = issued.get_data(as_text=True)
    token = re.search(r'<textarea readonly rows="3" id="token-text">([^<]+)</textarea>', text).group(1)
    works = mall.api.get("/routing/tasks", headers={"Authorization": f"Bearer {token}"})
    revoked = page.form(user_page, {"action": "revoke_tokens"}, page=user_page)
    after = page.get(user_page).get_data(as_text=True)
    clock.advance(mall.runtimes["console"].settings.token_check)
    refused = mall.api.get("/routing/tasks", headers={"Authorization": f"Bearer {token}"})

    assert missing.status_code == 400 and "用途" in missing.get_data(as_text=True)
    assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
    assert "它只显示这一次" in text and not re.search(r"\d{4}-\d{2}-\d{2}T", text.split("token-text")[0])
    assert works.status_code == 200
    assert token not in after  # not shown again
    assert revoked.status_code == 302 and "全部令牌已撤销" in after
    assert refused.status_code == 401
