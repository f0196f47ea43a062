"""What routing really publishes for the complaint diagram's paths, read by reporting: the facts of a
case driven through intake's API and routing's task API (as tests/integration/routing drives them)."""

from __future__ import annotations

from decimal import Decimal

from services.common.settings import Policy
from tests.integration.reporting.conftest import table
from tests.integration.reporting.test_retention import mall  # noqa: F401 — the fixture
from tests.integration.routing.conftest import (
    POLICY,
    routing,  # noqa: F401 — the fixture
)
from tests.support.mall import STORE, reply_and_call_back
from tests.support.stories import ZONE


def case_row(reporting, complaint_id: str) -> dict:
    [row] = [row for row in table(reporting, "cases", "complaint_id") if row["complaint_id"] == complaint_id]
    return row


def test_a_case_settled_on_the_floor_is_received_resolved_replied_called_back_and_closed(mall, reporting):  # noqa: F811
    case = case_row(reporting, mall.record(closed=True))

    assert (case["category"], case["channel"], case["floor"], case["merchant_code"]) == (
        "price",
        "phone",
        "3F",
        "M-3F-001",
    )
    assert case["first_queue"] == "floor_supervisor" and case["customer_email"] == "wang.li@example.cn"
    assert case["received_at"] <= case["resolved_at"] <= case["first_replied_at"] <= case["closed_at"]
    assert case["reply_due_at"].astimezone(ZONE).isoformat().endswith("23:59:59+08:00")
    assert (case["resolution_count"], case["reopen_count"], case["escalation_count"]) == (1, 0, 0)
    assert (case["callback_count"], case["callback_reached"], case["callback_satisfied"]) == (1, True, True)
    assert (case["closed_as"], case["responsible_party"], case["root_cause"]) == (
        "resolved",
        "merchant",
        "service_attitude",
    )
    assert case["cost"] == Decimal("12.50")  # yuan and fen, as the desk closed it
    assert case["open_queues"] == [] and case["next_task_due_at"] is None


def test_two_escalations_by_timer_and_a_reopening_are_counted(mall, reporting, clock):  # noqa: F811
    complaint_id = mall.record(closed=False)
    case = mall.driver.case(complaint_id)
    for _ in range(2):  # the floor supervisor, then the operations manager, do not act in time
        case.wait(seconds=POLICY["handler_acts_within_seconds"] + 1)
    case.complete("handle_store", STORE, outcome="resolved", resolution="店总致歉")
    reply_and_call_back(case, Policy(), reached=True, satisfied=False)
    mall.pump.run()

    row = case_row(reporting, complaint_id)
    levels = [
        item["level"]
        for item in table(reporting, "escalations", "at")
        if item["complaint_id"] == complaint_id
    ]
    assert levels == ["operations_manager", "store_manager"]
    assert (row["resolution_count"], row["reopen_count"], row["resolved_at"]) == (1, 1, None)
    # the store manager handles it again; the merchant was never called, so the desk still has that task
    assert row["open_queues"] == ["service_desk", "store_manager"] and row["closed_at"] is None
    assert row["first_replied_at"] is not None and row["callback_satisfied"] is False
