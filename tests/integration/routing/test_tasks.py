"""The task queues: listing, claiming, completing with form validation, scopes."""

from __future__ import annotations

import pytest

from tests.integration.routing.conftest import deploy, open_tasks, task_id


@pytest.fixture
def case(routing, start):
    deploy(routing)
    return start()


def test_a_new_case_puts_its_first_task_in_the_floor_supervisors_queue(routing, api, staff, case):
    third = api.get("/tasks", headers=staff("floor_supervisor", floors=["3F"])).json
    second = api.get("/tasks", headers=staff("floor_supervisor", floors=["2F"])).json
    desk = api.get("/tasks", headers=staff("service_desk")).json

    [task] = third["items"]
    assert (task["element_id"], task["queue"], task["number"], task["state"]) == (
        "handle_floor",
        "floor_supervisor",
        "TS-20261122-0001",
        "open",
    )
    assert task["due_at"] == "2026-11-23T02:00:00+00:00"  # the boundary timer: 24 h of policy
    assert [field["id"] for field in task["form"]] == ["outcome", "resolution"]
    assert second["items"] == [] and desk["items"] == []


def test_completing_with_bad_form_data_is_refused_naming_the_field(routing, api, staff, case):
    supervisor = staff("floor_supervisor", floors=["3F"])
    url = f"/tasks/{task_id(routing, case, 'handle_floor')}/complete"

    missing = api.post(url, json={"data": {}}, headers=supervisor)
    wrong = api.post(url, json={"data": {"outcome": "shrug", "extra": 1}}, headers=supervisor)

    assert missing.status_code == 400 and "outcome" in missing.json["errors"]["json"]
    assert set(wrong.json["errors"]["json"]) == {"outcome", "extra"}
    assert open_tasks(routing, case) == ["handle_floor"]


def test_data_naming_a_field_and_a_dotted_field_under_it_is_refused_naming_both(routing, api, staff, case):
    url = f"/tasks/{task_id(routing, case, 'handle_floor')}/complete"

    answer = api.post(
        url, json={"data": {"x": 1, "x.y": 2}}, headers=staff("floor_supervisor", floors=["3F"])
    )

    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert {"x", "x.y", "outcome"} <= set(answer.json["errors"]["json"])
    assert open_tasks(routing, case) == ["handle_floor"]


def test_a_completed_task_cannot_be_completed_again(routing, api, staff, case):
    supervisor = staff("floor_supervisor", floors=["3F"])
    url = f"/tasks/{task_id(routing, case, 'handle_floor')}/complete"

    first = api.post(
        url, json={"data": {"outcome": "resolved", "resolution": "道歉并换货"}}, headers=supervisor
    )
    second = api.post(url, json={"data": {"outcome": "resolved"}}, headers=supervisor)

    assert first.status_code == 200 and first.json["state"] == "completed"
    assert second.status_code == 409
    assert open_tasks(routing, case) == ["reply"]


def test_claimed_tasks_belong_to_their_claimant_until_unclaimed(routing, api, tokens, case, colleagues):
    from tests.conftest import bearer

    zhang = bearer(tokens, "floor_supervisor", floors=["3F"], subject="zhang")
    wang = bearer(tokens, "floor_supervisor", floors=["3F"], subject="wang")
    task = task_id(routing, case, "handle_floor")

    claimed = api.post(f"/tasks/{task}/claim", headers=zhang)
    stolen = api.post(f"/tasks/{task}/claim", headers=wang)
    completed_by_other = api.post(
        f"/tasks/{task}/complete", json={"data": {"outcome": "resolved"}}, headers=wang
    )
    mine = api.get("/tasks?mine=true", headers=zhang).json["items"]
    released = api.post(f"/tasks/{task}/unclaim", headers=zhang)

    assert claimed.json["assignee"] == "zhang" and claimed.json["state"] == "claimed"
    assert stolen.status_code == 409 and completed_by_other.status_code == 409
    assert [item["id"] for item in mine] == [task]
    assert released.json["assignee"] is None and released.json["state"] == "open"


def test_a_task_outside_my_queues_or_floors_is_not_found(routing, api, staff, case):
    task = task_id(routing, case, "handle_floor")

    assert api.get(f"/tasks/{task}", headers=staff("service_desk")).status_code == 404
    assert api.get(f"/tasks/{task}", headers=staff("floor_supervisor", floors=["2F"])).status_code == 404
    assert api.get("/tasks?queue=store_manager", headers=staff("service_desk")).status_code == 403


def test_the_timeline_records_every_step_with_who_and_where(routing, api, staff, case):
    supervisor = staff("floor_supervisor", floors=["3F"])
    api.post(
        f"/tasks/{task_id(routing, case, 'handle_floor')}/complete",
        json={"data": {"outcome": "escalate"}},
        headers=supervisor,
    )

    timeline = api.get(f"/cases/{case}/timeline", headers=staff("operations_manager")).json

    steps = [(entry["kind"], entry["element_id"], entry["actor"]) for entry in timeline]
    assert steps == [
        ("case_started", None, "desk"),
        ("task_created", "handle_floor", "routing"),
        ("task_completed", "handle_floor", "floor_supervisor-1"),  # before the task its step opened
        ("task_created", "handle_ops", "floor_supervisor-1"),
    ]
    assert timeline[2]["detail"]["data"] == {"outcome": "escalate"}


@pytest.fixture
def colleagues(routing):
    """Staff in identity.users: who a floor task on 3F may and may not be given to."""
    from services.common.identity.users import UserStore

    users = UserStore(routing.pool)
    users.create("demo", "zhang", ["floor_supervisor"], ["3F"])
    users.create("demo", "wang", ["floor_supervisor"], ["3F"])
    users.create("demo", "li", ["floor_supervisor"], ["2F"])
    users.create("demo", "chen", ["operations_manager"])
    users.create("demo", "gone", ["floor_supervisor"], ["3F"])
    users.update("demo", "gone", {"active": False})


def test_a_task_is_reassigned_to_a_colleague_of_its_queue_and_floor(routing, api, tokens, case, colleagues):
    from tests.conftest import bearer

    zhang = bearer(tokens, "floor_supervisor", floors=["3F"], subject="zhang")
    task = task_id(routing, case, "handle_floor")

    given = api.post(f"/tasks/{task}/reassign", json={"assignee": "wang"}, headers=zhang)
    wangs = api.get(
        "/tasks?mine=true", headers=bearer(tokens, "floor_supervisor", floors=["3F"], subject="wang")
    )

    assert given.status_code == 200 and given.json["assignee"] == "wang" and given.json["state"] == "claimed"
    assert [item["id"] for item in wangs.json["items"]] == [task]


def test_only_the_claimant_releases_or_passes_on_a_claimed_task_until_they_leave(
    routing, api, tokens, case, colleagues
):
    from services.common.identity.users import UserStore
    from tests.conftest import bearer

    zhang = bearer(tokens, "floor_supervisor", floors=["3F"], subject="zhang")
    wang = bearer(tokens, "floor_supervisor", floors=["3F"], subject="wang")
    task = task_id(routing, case, "handle_floor")
    api.post(f"/tasks/{task}/claim", headers=zhang)

    released_by_other = api.post(f"/tasks/{task}/unclaim", headers=wang)
    passed_on_by_other = api.post(f"/tasks/{task}/reassign", json={"assignee": "wang"}, headers=wang)
    still = api.get(f"/tasks/{task}", headers=wang).json
    UserStore(routing.pool).update("demo", "zhang", {"active": False})
    released_after_leaving = api.post(f"/tasks/{task}/unclaim", headers=wang)

    assert released_by_other.status_code == 409 and "zhang" in released_by_other.json["message"]
    assert passed_on_by_other.status_code == 409
    assert still["assignee"] == "zhang" and still["state"] == "claimed"
    assert released_after_leaving.status_code == 200
    assert released_after_leaving.json["assignee"] is None and released_after_leaving.json["state"] == "open"


@pytest.mark.parametrize(
    ("assignee", "why"),
    [
        ("li", "for 3F"),
        ("chen", "floor_supervisor queue"),
        ("gone", "not an active"),
        ("nobody", "not an active"),
    ],
)
def test_a_task_is_not_given_to_someone_outside_its_queue_or_floor_or_no_longer_active(
    routing, api, tokens, case, colleagues, assignee, why
):
    from tests.conftest import bearer

    zhang = bearer(tokens, "floor_supervisor", floors=["3F"], subject="zhang")
    task = task_id(routing, case, "handle_floor")

    refused = api.post(f"/tasks/{task}/reassign", json={"assignee": assignee}, headers=zhang)
    after = api.get(f"/tasks/{task}", headers=zhang).json

    assert refused.status_code == 400
    assert (
        list(refused.json["errors"]["json"]) == ["assignee"]
        and why in refused.json["errors"]["json"]["assignee"][0]
    )
    assert after["assignee"] is None and after["state"] == "open"


RESOLUTION = "已致电王女士 13912345678 同意退款"
MASKED_RESOLUTION = "已致电王** 139****5678 同意退款"


def _resolution_read_by(api, staff, case, **readers) -> dict:
    found = {}
    for name, (role, scope) in readers.items():
        timeline = api.get(f"/cases/{case}/timeline", headers=staff(role, **scope)).json
        [completed] = [entry for entry in timeline if entry["kind"] == "task_completed"]
        found[name] = completed["detail"]["data"]["resolution"]
    return found


def test_a_resolution_naming_the_customer_is_masked_on_the_timeline_for_staff_not_holding_the_case(
    routing, api, staff, case
):
    api.post(
        f"/tasks/{task_id(routing, case, 'handle_floor')}/complete",
        json={"data": {"outcome": "resolved", "resolution": RESOLUTION}},
        headers=staff("floor_supervisor", floors=["3F"]),
    )

    read = _resolution_read_by(
        api,
        staff,
        case,
        desk=("service_desk", {}),  # holds the reply, and talks to the customer anyway
        ops=("operations_manager", {}),
        deputy=("deputy_store_manager", {}),
        store=("store_manager", {}),
        designer=("process_designer", {}),
        floor3=("floor_supervisor", {"floors": ["3F"]}),  # wrote it, but holds the case no longer
    )

    assert read == {
        "desk": RESOLUTION,
        "ops": MASKED_RESOLUTION,
        "deputy": MASKED_RESOLUTION,
        "store": MASKED_RESOLUTION,
        "designer": MASKED_RESOLUTION,
        "floor3": MASKED_RESOLUTION,
    }
    with routing.uow() as uow:  # kept as typed: masking is on the way out
        stored = uow.conn.execute(
            "SELECT detail FROM routing.timeline WHERE case_id = %s AND kind = 'task_completed'", (case,)
        ).fetchone()
    assert stored["detail"]["data"]["resolution"] == RESOLUTION


def test_whoever_holds_the_case_now_reads_the_timeline_as_written(routing, api, staff, case):
    api.post(
        f"/tasks/{task_id(routing, case, 'handle_floor')}/complete",
        json={"data": {"outcome": "escalate", "resolution": RESOLUTION}},
        headers=staff("floor_supervisor", floors=["3F"]),
    )

    read = _resolution_read_by(
        api, staff, case, ops=("operations_manager", {}), deputy=("deputy_store_manager", {})
    )

    assert read == {"ops": RESOLUTION, "deputy": MASKED_RESOLUTION}  # ops holds handle_ops now
