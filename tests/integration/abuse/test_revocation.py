"""A bearer token stops working when its holder no longer stands behind it: the user deactivated,
its roles, floors or password changed, or an admin revoked its tokens. Every service refuses it
(401, saying why) within TOKEN_CHECK_SECONDS of the change, the time each process keeps what it
read of a holder: the tests move the clock that far instead of waiting. A token issued after the
change works at once, with what the user holds now; a service's token is untouched by all of it
until an admin revokes that service's tokens. (The same token on an AMQP command:
tests/integration/routing/test_amqp.py.)"""

from __future__ import annotations

import pytest

from tests.integration.conftest import complaint
from tests.support.system import DEMO_PASSWORD

# One read of every service a desk clerk may call, and the one POST that records a complaint.
READS = ["/intake/complaints", "/routing/tasks", "/notify/inbox", "/reporting/reviews/daily"]
STALE = "token revoked: the user's roles, floors, departments or password changed"


def _as(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _issue(mall, username: str) -> str:
    answer = mall.api.post(
        f"/console/api/users/{username}/tokens", json={"purpose": "duty system"}, headers=mall.staff("admin")
    )
    assert answer.status_code == 201, answer.json
    return answer.json["token"]


def _change(mall, username: str, **changes) -> None:
    answer = mall.api.patch(f"/console/api/users/{username}", json=changes, headers=mall.staff("admin"))
    assert answer.status_code == 200, answer.json


def _post(mall, token: str):
    return mall.api.post("/intake/complaints", json=complaint(), headers=_as(token))


def _statuses(mall, token: str) -> list[int]:
    return [mall.api.get(path, headers=_as(token)).status_code for path in READS]


def _after_the_check_time(mall, clock) -> None:
    clock.advance(mall.runtimes["console"].settings.token_check)


def test_a_deactivated_users_token_is_refused_by_every_service_within_the_check_time(mall, clock):
    token = _issue(mall, "desk")
    before, posted_before = _statuses(mall, token), _post(mall, token)  # every process has read the user

    _change(mall, "desk", active=False)
    _after_the_check_time(mall, clock)
    after, posted_after = _statuses(mall, token), _post(mall, token)
    answer = mall.api.get("/intake/complaints", headers=_as(token))

    assert before == [200] * len(READS) and posted_before.status_code == 201
    assert after == [401] * len(READS) and posted_after.status_code == 401
    assert answer.json["code"] == 401 and answer.json["correlation_id"]
    assert answer.json["message"] == "token refused: the user desk is deactivated"


def test_a_deactivated_admin_administers_no_more_users(mall, clock):
    created = mall.api.post(
        "/console/api/users", json={"username": "admin2", "roles": ["admin"]}, headers=mall.staff("admin")
    )
    token = _issue(mall, "admin2")
    before = mall.api.get("/console/api/users", headers=_as(token))

    _change(mall, "admin2", active=False)
    _after_the_check_time(mall, clock)
    after = mall.api.post(
        "/console/api/users", json={"username": "mole", "roles": ["admin"]}, headers=_as(token)
    )

    assert created.status_code == 201 and before.status_code == 200
    assert after.status_code == 401 and "deactivated" in after.json["message"]


def test_after_the_roles_changed_the_old_token_is_refused_and_a_new_one_works_with_the_new_roles(mall, clock):
    old = _issue(mall, "desk")
    assert _statuses(mall, old) == [200] * len(READS)

    _change(mall, "desk", roles=["process_designer"])
    new = _issue(mall, "desk")
    designer = mall.api.get("/routing/processes", headers=_as(new))  # at once: no wait for the new token
    desk_work = _post(mall, new)
    _after_the_check_time(mall, clock)
    old_read, old_post = mall.api.get("/intake/complaints", headers=_as(old)), _post(mall, old)

    assert designer.status_code == 200 and desk_work.status_code == 403
    assert old_read.status_code == old_post.status_code == 401
    assert old_read.json["message"].startswith(STALE)


def test_after_the_floors_changed_the_old_token_is_refused_and_a_new_one_sees_the_new_floor(mall, clock):
    on_3f = mall.record()
    on_2f = mall.record(floor="2F", merchant_code="M-2F-001")
    old = _issue(mall, "floor3")
    assert _numbers(mall, old) == {on_3f["number"]}

    _change(mall, "floor3", floors=["2F"])
    new_floor = _numbers(mall, _issue(mall, "floor3"))
    _after_the_check_time(mall, clock)
    old_answer = mall.api.get("/routing/tasks", headers=_as(old))

    assert new_floor == {on_2f["number"]}
    assert old_answer.status_code == 401 and old_answer.json["message"].startswith(STALE)


def _numbers(mall, token: str) -> set[str]:
    answer = mall.api.get("/routing/tasks?queue=floor_supervisor", headers=_as(token))
    assert answer.status_code == 200, answer.json
    return {task["number"] for task in answer.json["items"]}


def test_a_display_name_change_revokes_nothing(mall, clock):
    token = _issue(mall, "desk")

    _change(mall, "desk", display_name="服务台 李静（早班）")
    _after_the_check_time(mall, clock)

    assert _statuses(mall, token) == [200] * len(READS)


def test_a_new_password_revokes_the_tokens_got_with_the_old_one(mall, clock):
    logged_in = mall.api.post("/console/api/token", json={"username": "floor3", "password": DEMO_PASSWORD})
    token = logged_in.json["token"]
    assert mall.api.get("/routing/tasks", headers=_as(token)).status_code == 200

    reset = mall.api.put(
        "/console/api/users/floor3/password",
        json={"password": "a-new-password-9"},
        headers=mall.staff("admin"),
    )
    _after_the_check_time(mall, clock)
    after = mall.api.get("/routing/tasks", headers=_as(token))

    assert reset.status_code == 200
    assert after.status_code == 401 and after.json["message"].startswith(STALE)


def test_an_admin_revokes_a_users_tokens_and_the_user_gets_a_new_one(mall, clock):
    old = _issue(mall, "ops")
    assert mall.api.get("/reporting/reviews/daily", headers=_as(old)).status_code == 200

    revoked = mall.api.delete("/console/api/users/ops/tokens", headers=mall.staff("admin"))
    new = _issue(mall, "ops")
    _after_the_check_time(mall, clock)

    assert revoked.status_code == 204
    assert mall.api.get("/reporting/reviews/daily", headers=_as(old)).status_code == 401
    assert mall.api.get("/reporting/reviews/daily", headers=_as(new)).status_code == 200


def test_a_service_token_keeps_working_through_user_changes_until_its_service_is_revoked(mall, clock):
    admin = mall.staff("admin")
    issued = mall.api.post("/console/api/service-tokens", json={"name": "parking"}, headers=admin).json
    other = mall.api.post("/console/api/service-tokens", json={"name": "crm"}, headers=admin).json["token"]
    token = issued["token"]
    before = mall.api.get("/reporting/reviews/daily", headers=_as(token))
    _change(mall, "desk", active=False)
    _change(mall, "ops", roles=["store_manager"])
    _after_the_check_time(mall, clock)
    through_changes = mall.api.get("/reporting/reviews/daily", headers=_as(token))

    revoked = mall.api.delete("/console/api/service-tokens/parking", headers=admin)
    renewed = mall.api.post("/console/api/service-tokens", json={"name": "parking"}, headers=admin).json
    _after_the_check_time(mall, clock)
    old = mall.api.get("/reporting/reviews/daily", headers=_as(token))

    assert issued["subject"] == "service:parking"
    assert before.status_code == through_changes.status_code == 200 and revoked.status_code == 204
    assert old.status_code == 401 and "an admin revoked the tokens of service:parking" in old.json["message"]
    assert mall.api.get("/reporting/reviews/daily", headers=_as(renewed["token"])).status_code == 200
    assert mall.api.get("/reporting/reviews/daily", headers=_as(other)).status_code == 200


@pytest.mark.parametrize("caller", ["ops", "nobody"])
def test_only_an_admin_revokes_tokens(mall, caller):
    headers = mall.staff("ops") if caller == "ops" else {}

    answers = [
        mall.api.delete("/console/api/users/desk/tokens", headers=headers),
        mall.api.delete("/console/api/service-tokens/parking", headers=headers),
    ]

    assert {answer.status_code for answer in answers} == ({403} if caller == "ops" else {401})


def test_revoking_an_unknown_user_or_a_name_no_service_can_have_answers_404(mall):
    admin = mall.staff("admin")

    user = mall.api.delete("/console/api/users/nobody/tokens", headers=admin)
    service = mall.api.delete("/console/api/service-tokens/Not%20A%20Name", headers=admin)

    assert user.status_code == service.status_code == 404


def test_the_tokens_the_one_process_run_saves_still_work(mall, tmp_path, clock):
    saved = (tmp_path / "tokens" / "desk").read_text()
    _after_the_check_time(mall, clock)

    assert _statuses(mall, saved) == [200] * len(READS)
