"""Scopes across every service: a floor supervisor works and reads its floors only, a department
manager its department only, and a customer's name, phone and e-mail (in the customer's fields and
typed into the narrative) reach only the desk and the staff holding the case, through every API and
every console page that shows a complaint.

The authorisation matrix (tests/integration/test_authorisation_matrix.py) asserts roles; this
asserts what a role scoped to one place may do with a case of another: nothing, answered as if the
case did not exist (404, so a guessed id tells nothing), and the case left as it was.
"""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

import pytest

NAME, PHONE, EMAIL = "顾客王女士", "13912345678", "wang.customer@example.com"
DASHED = "139-1234-5678"  # the phone as the desk typed it into the narrative
PERSONAL = (NAME, PHONE, EMAIL, DASHED)
CUSTOMER = {"name": NAME, "phone": PHONE, "email": EMAIL}  # of the 3F complaint; the others' differ
# The customer's details typed into the narrative too: masked there as in the `customer` field.
DESCRIPTION = f"{NAME}来电，请回电 {DASHED} 或发邮件到 {EMAIL}（联系人 {NAME}）"
OTHER_CUSTOMER = {"name": "李先生", "phone": "13800000000", "email": "li@example.com"}
PARAMETER = re.compile(r"\{([a-z_]+)\}")


@pytest.fixture
def places(mall):
    """Four complaints, each with an open task: 3F and 2F shops (floor supervisors' queues; the desk
    also has a task to call the merchant), the security and the cleaning departments (department
    managers' queues)."""
    recorded = {
        "3F": mall.record(customer=CUSTOMER, description=DESCRIPTION),
        "2F": mall.record(customer=OTHER_CUSTOMER, floor="2F", merchant_code="M-2F-001"),
        "security": mall.record(
            customer=OTHER_CUSTOMER,
            category="facility",
            floor=None,
            merchant_code=None,
            department="security",
            customer_request=None,
            amount=None,
        ),
        "cleaning": mall.record(
            customer=OTHER_CUSTOMER,
            category="facility",
            floor=None,
            merchant_code=None,
            department="cleaning",
            customer_request=None,
            amount=None,
        ),
    }
    routing = mall.runtimes["routing"]
    found = {}
    for place, complaint in recorded.items():
        with routing.uow() as uow:
            [task] = [
                task for task in uow.tasks.open_for_case(complaint["id"]) if task.queue != "service_desk"
            ]
        found[place] = SimpleNamespace(
            complaint=complaint, id=complaint["id"], number=complaint["number"], task=task
        )
    assert found["security"].task.queue == found["cleaning"].task.queue == "department_manager"
    assert found["3F"].task.queue == found["2F"].task.queue == "floor_supervisor"
    return found


def _callers(mall) -> dict:
    return {
        "floor3": mall.staff("floor3"),  # floor supervisor of 3F
        "security": mall.staff("security"),  # department manager of security
        "cleaning": mall.staff("cleaning"),  # department manager of cleaning
    }


# caller -> (the place it works, a place it must not touch)
SCOPED = [("floor3", "3F", "2F"), ("security", "security", "cleaning"), ("cleaning", "cleaning", "security")]


@pytest.mark.parametrize(("caller", "own", "other"), SCOPED)
def test_a_scoped_role_lists_and_reads_only_its_own_place(mall, places, caller, own, other):
    headers = _callers(mall)[caller]
    mine, theirs = places[own], places[other]

    tasks = mall.api.get("/routing/tasks", headers=headers).json["items"]
    complaints = mall.api.get("/intake/complaints", headers=headers).json["items"]
    by_number = mall.api.get(f"/routing/tasks?number={theirs.number}", headers=headers).json["items"]

    assert [task["id"] for task in tasks] == [str(mine.task.id)]
    assert [complaint["id"] for complaint in complaints] == [mine.id]
    assert by_number == []
    for path in (
        f"/routing/tasks/{theirs.task.id}",
        f"/routing/cases/{theirs.id}",
        f"/routing/cases/{theirs.id}/timeline",
        f"/routing/cases/{theirs.id}/diagram",
        f"/intake/complaints/{theirs.id}",
        f"/intake/complaints/by-number/{theirs.number}",
    ):
        assert mall.api.get(path, headers=headers).status_code == 404, path
    for path in (
        f"/routing/tasks/{mine.task.id}",
        f"/routing/cases/{mine.id}",
        f"/intake/complaints/{mine.id}",
    ):
        assert mall.api.get(path, headers=headers).status_code == 200, path


@pytest.mark.parametrize(("caller", "own", "other"), SCOPED)
def test_a_scoped_role_cannot_claim_complete_reassign_or_message_a_case_of_another_place(
    mall, places, caller, own, other
):
    headers = _callers(mall)[caller]
    theirs = places[other]
    task = f"/routing/tasks/{theirs.task.id}"
    writes = [
        (f"{task}/claim", None),
        (f"{task}/unclaim", None),
        (f"{task}/reassign", {"assignee": caller}),
        (f"{task}/complete", {"data": {"outcome": "resolved", "resolution": "closed by someone else"}}),
        (f"/routing/cases/{theirs.id}/messages", {"name": "merchant_answered", "idempotency_key": "k-1"}),
    ]

    answers = {path: mall.api.post(path, json=body, headers=headers).status_code for path, body in writes}
    mall.settle()

    assert answers == {path: 404 for path, _ in writes}
    with mall.runtimes["routing"].uow() as uow:
        still = uow.tasks.get("demo", str(theirs.task.id))
    assert (still.id, still.state, still.assignee) == (theirs.task.id, "open", None)


def test_a_floor_supervisor_cannot_hand_its_task_to_a_supervisor_of_another_floor(mall, places):
    task = f"/routing/tasks/{places['3F'].task.id}"

    answer = mall.api.post(f"{task}/reassign", json={"assignee": "floor2"}, headers=mall.staff("floor3"))

    assert answer.status_code == 400 and "assignee" in answer.json["errors"]["json"]


def test_a_scoped_role_sees_only_its_place_in_the_daily_review(mall, places):
    review = mall.api.get("/reporting/reviews/daily?date=2026-11-22", headers=mall.staff("floor3")).json
    whole = mall.api.get("/reporting/reviews/daily?date=2026-11-22", headers=mall.staff("ops")).json

    assert {item["complaint_id"] for item in review["new"]["items"]} == {places["3F"].id}
    assert {item["complaint_id"] for item in whole["new"]["items"]} == {place.id for place in places.values()}


def test_a_scoped_role_opens_no_console_page_of_another_places_case(mall, places, browser):
    floor3 = browser()
    floor3.login("floor3")
    theirs = places["2F"]

    pages = [
        f"/console/cases/{theirs.id}",
        f"/console/cases/{theirs.id}/print",
        f"/console/tasks/{theirs.task.id}",
        f"/console/find?number={theirs.number}",
    ]
    answers = {page: floor3.get(page) for page in pages}

    assert {page: answer.status_code for page, answer in answers.items()} == {page: 404 for page in pages}
    assert not any("素衣女装" in answer.get_data(as_text=True) for answer in answers.values())  # its shop
    listed = floor3.get("/console/complaints").get_data(as_text=True)
    assert places["3F"].number in listed and theirs.number not in listed


# ---- personal data: in full to the desk and the case's holders, masked (or left out) for the rest


def _reads(mall, place) -> list[str]:
    """Every GET of every service's OpenAPI document, its parameters naming the complaint of `place`."""
    with mall.runtimes["notify"].pool.connection() as conn:
        delivery = conn.execute(
            "SELECT id FROM notify.deliveries WHERE complaint_id = %s LIMIT 1", (place.id,)
        ).fetchone()
    values = {
        "complaint_id": place.id,
        "case_id": place.id,
        "task_id": str(place.task.id),
        "number": place.number,
        "delivery_id": str(delivery["id"]),
        "process_key": "complaint",
        "version": "1",
        "name": "triage.dmn",
        "username": "desk",
        "item_id": str(uuid.uuid4()),
        "capa_id": str(uuid.uuid4()),
        "code": "3F",
        "draft_id": str(uuid.uuid4()),
        "attachment_id": str(uuid.uuid4()),
    }
    found = []
    for mount in mall.runtimes:
        document = mall.api.get(f"/{mount}/openapi.json").json
        for path, operations in document["paths"].items():
            if "get" in operations:
                found.append(f"/{mount}" + PARAMETER.sub(lambda match: values[match.group(1)], path))
    return found


CONSOLE_PAGES = [
    "/console/cases/{id}",
    "/console/cases/{id}/print",
    "/console/complaints",
    "/console/tasks/{task}",
    "/console/inbox",
    "/console/queue",
    "/console/reports/daily?date=2026-11-22",
    "/console/reports/callbacks?month=2026-11",
    "/console/reports/callbacks.csv?month=2026-11",
    "/console/deliveries/failed",
]
NOT_HOLDING = ["ops", "deputy", "store", "designer", "admin", "floorb1", "floor2", "security", "cleaning"]


def _leaks(text: str) -> list[str]:
    return [value for value in PERSONAL if value in text]


@pytest.mark.parametrize("person", NOT_HOLDING)
def test_no_api_and_no_console_page_shows_the_customers_contact_details_to_staff_not_holding_the_case(
    mall, places, browser, person
):
    place = places["3F"]
    staff = browser()
    staff.login(person)

    reads = _reads(mall, place)
    pages = [page.format(id=place.id, task=place.task.id) for page in CONSOLE_PAGES]
    leaked = {
        path: _leaks(mall.api.get(path, headers=mall.staff(person)).get_data(as_text=True)) for path in reads
    }
    leaked |= {page: _leaks(staff.get(page).get_data(as_text=True)) for page in pages}

    assert {path: found for path, found in leaked.items() if found} == {}
    assert len(reads) >= 25


@pytest.mark.parametrize("person", ["desk", "floor3"])
def test_the_desk_and_the_holder_of_the_case_see_the_customer_in_full(mall, places, browser, person):
    place = places["3F"]
    staff = browser()
    staff.login(person)

    page = staff.get(f"/console/cases/{place.id}").get_data(as_text=True)
    complaint = mall.api.get(f"/intake/complaints/{place.id}", headers=mall.staff(person)).json

    assert _leaks(page) == list(PERSONAL)
    assert (complaint["customer"]["masked"], complaint["customer"]["phone"]) == (False, PHONE)


def test_a_scoped_role_reads_only_the_capa_records_and_report_figures_of_its_place(mall):
    for _ in range(3):  # the same problem three times: a CAPA record for the 2F shop
        mall.record(customer=OTHER_CUSTOMER, floor="2F", merchant_code="M-2F-001")
    mall.record(customer=CUSTOMER)
    [record] = mall.api.get("/reporting/capa", headers=mall.staff("ops")).json["items"]

    floor3, floor2 = mall.staff("floor3"), mall.staff("floor2")
    week = "/reporting/reports/weekly?week=2026-W47"

    assert record["floor"] == "2F"
    assert mall.api.get("/reporting/capa", headers=floor3).json["items"] == []
    assert mall.api.get(f"/reporting/capa/{record['id']}", headers=floor3).status_code == 404
    assert mall.api.get(f"/reporting/capa/{record['id']}", headers=floor2).status_code == 200
    assert mall.api.get(week, headers=floor3).json["current"]["received"] == 1
    assert mall.api.get(week, headers=floor2).json["current"]["received"] == 3
    assert mall.api.get(week, headers=mall.staff("ops")).json["current"]["received"] == 4
