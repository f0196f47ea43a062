"""Reporting's pure logic: a case's facts from its events in any order, periods, recurrence, erasure."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from services.common.personal import corrected_customers, customer_masks, erase_personal, scrub_text
from services.reporting.domain.capa import CapaRecord, Occurrence, check_update, next_status, recurring_run
from services.reporting.domain.facts import changes_callbacks, changes_escalations, derive, reads
from services.reporting.domain.model import Event
from services.reporting.domain.periods import BadPeriod, current, last_complete, parse_month, parse_week
from tests.support.stories import ZONE, Round, Story, events

T0 = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def as_events(story: Story) -> list[Event]:
    return [
        Event(e.id, e.type, e.occurred_at, e.complaint_id, e.payload, e.actor.id, e.actor.role)
        for e in events(story)
    ]


def facts_of(story: Story, stream: list[Event]):
    return derive(story.id, "demo", stream, ZONE)


def reopened_story() -> Story:
    return Story(
        received_at=T0,
        postponed_to=[date(2026, 11, 7)],
        escalations=[(T0 + timedelta(hours=25), "ops")],
        rounds=[
            Round(T0 + timedelta(hours=30), T0 + timedelta(hours=31), T0 + timedelta(hours=56), True, False),
            Round(T0 + timedelta(hours=80), T0 + timedelta(hours=81), T0 + timedelta(hours=110)),
        ],
        closed_at=T0 + timedelta(hours=111),
    )


def test_a_case_s_facts_follow_from_its_story():
    story = reopened_story()
    facts = facts_of(story, as_events(story))

    assert (facts.number, facts.category, facts.merchant_code, facts.floor) == (
        story.number,
        "price",
        "M-3F-001",
        "3F",
    )
    assert facts.received_at == T0 and facts.customer.phone == "13912345678"
    assert facts.resolved_at == T0 + timedelta(hours=80)  # the resolution that stood, after the reopening
    assert (facts.resolution_count, facts.reopen_count) == (2, 1)
    assert facts.first_replied_at == T0 + timedelta(hours=31)
    assert facts.reply_due_at == story.reply_due and facts.replied_on_time
    assert [(item.level, item.at) for item in facts.escalations] == [("ops", T0 + timedelta(hours=25))]
    assert [(item.reached, item.satisfied) for item in facts.callbacks] == [(True, False), (True, True)]
    assert facts.closed_at == T0 + timedelta(hours=111) and facts.closed_as == "resolved"
    assert facts.open_queues == () and facts.problem_key == "price|merchant:M-3F-001"


def test_a_closed_case_keeps_the_names_its_close_form_gave_the_party_and_cause_chosen():
    story = replace(reopened_story(), responsible_party="mall", root_cause="price", cost=120)
    facts = facts_of(story, as_events(story))

    assert (facts.responsible_party, facts.root_cause, facts.cost) == ("mall", "price", 120)
    assert facts.closing_names == {
        "responsible_party": {"zh-CN": "商场", "": "Mall"},
        "root_cause": {"zh-CN": "价格与促销", "": "Price or promotion"},
    }


def test_a_case_closed_on_a_form_that_names_no_options_keeps_no_names():
    story = reopened_story()
    unnamed = [
        replace(event, payload={**event.payload, "form": []}) if event.type == "task.completed" else event
        for event in as_events(story)
    ]

    assert facts_of(story, unnamed).closing_names == {}


def test_a_customer_not_reached_is_never_counted_satisfied():
    story = Story(
        received_at=T0,
        rounds=[
            Round(T0 + timedelta(hours=5), T0 + timedelta(hours=6), T0 + timedelta(hours=30), False, True)
        ],
    )

    facts = facts_of(story, as_events(story))

    assert [(item.reached, item.satisfied) for item in facts.callbacks] == [(False, False)]


def test_a_case_unresolved_for_a_month_counts_as_major_from_routing_s_announcement():
    story = reopened_story()
    stream = as_events(story)
    became_major = Event(
        "m1",
        "complaint.became_major",
        T0 + timedelta(days=30),
        story.id,
        {"number": story.number, "element_id": "became_major"},
        "routing",
        "service",
    )

    assert facts_of(story, stream).severity == "normal"
    assert facts_of(story, [became_major, *stream]).severity == "major"


def test_the_facts_do_not_depend_on_arrival_order_or_duplicates():
    story = reopened_story()
    stream = as_events(story)
    expected = facts_of(story, stream)
    shuffler = random.Random(20261122)
    for _ in range(200):
        shuffled = stream + shuffler.sample(stream, k=5)
        shuffler.shuffle(shuffled)
        assert facts_of(story, shuffled) == expected


def test_an_event_said_to_change_nothing_changes_no_fact_and_no_escalation_or_callback():
    story, undeclared = reopened_story(), replace(reopened_story(), declared=False)
    for case in (story, undeclared):
        stream = as_events(case)
        for index, event in enumerate(stream):
            without, with_it = facts_of(case, stream[:index]), facts_of(case, stream[: index + 1])
            if not reads(event.type, event.payload):
                assert with_it == without, event.type
            if not changes_escalations(event.type):
                assert with_it.escalations == without.escalations, event.type
            if not changes_callbacks(event.type, event.payload):
                assert with_it.callbacks == without.callbacks, event.type
    skipped = {event.type for event in as_events(story) if not reads(event.type, event.payload)}
    assert skipped == {"complaint.acknowledged", "complaint.merchant_answered"}


def test_a_case_reopened_and_not_yet_resolved_again_is_not_resolved():
    story = Story(
        received_at=T0,
        rounds=[
            Round(T0 + timedelta(hours=5), T0 + timedelta(hours=6), T0 + timedelta(hours=30), True, False)
        ],
    )
    facts = facts_of(story, as_events(story))

    assert facts.resolved_at is None and facts.reopen_count == 1 and facts.closed_at is None


def test_events_before_the_complaint_is_known_are_kept_and_count_once_it_arrives():
    story = reopened_story()
    stream = as_events(story)
    without_receipt = [event for event in stream if event.type != "complaint.received"]

    early = facts_of(story, without_receipt)
    complete = facts_of(
        story, without_receipt + [event for event in stream if event.type == "complaint.received"]
    )

    assert early.received_at is None and early.category is None and early.closed_at is not None
    assert complete == facts_of(story, stream)


def test_postponements_beyond_the_policy_do_not_move_the_reply_date():
    story = Story(received_at=T0, postponed_to=[date(2026, 11, 8), date(2026, 11, 10), date(2026, 11, 20)])
    facts = facts_of(story, [event for event in as_events(story) if event.type != "complaint.replied"])

    assert facts.reply_due_at == datetime(2026, 11, 10, 23, 59, 59, tzinfo=ZONE)


def test_a_correction_changes_what_the_case_is_counted_under():
    story = Story(received_at=T0)
    stream = as_events(story)
    received = next(event for event in stream if event.type == "complaint.received")
    corrected = Event(
        "c1",
        "complaint.corrected",
        T0 + timedelta(hours=1),
        story.id,
        {"complaint": {**received.payload, "category": "quality"}, "changes": {}},
    )

    assert facts_of(story, [*stream, corrected]).category == "quality"


def test_a_case_keeps_what_the_customer_asks_for_as_its_latest_record_says():
    story = Story(received_at=T0, requests=["refund", "apology"])
    stream = as_events(story)
    received = next(event for event in stream if event.type == "complaint.received")
    corrected = Event(
        "c1",
        "complaint.corrected",
        T0 + timedelta(hours=1),
        story.id,
        {
            "complaint": {**received.payload, "customer_request": ["exchange"]},
            "changes": {"customer_request": {}},
        },
    )
    cleared = Event(
        "c2",
        "complaint.corrected",
        T0 + timedelta(hours=2),
        story.id,
        {"complaint": {**received.payload, "customer_request": None}, "changes": {}},
    )

    assert facts_of(story, stream).customer_request == ("refund", "apology")
    assert facts_of(story, [corrected, *stream]).customer_request == ("exchange",)
    assert facts_of(story, [*stream, corrected, cleared]).customer_request == ()


@pytest.mark.parametrize(
    ("published", "kept"),
    [
        ("apology", ("apology",)),
        (None, ()),
        (["refund", "refund", "repair"], ("refund", "repair")),
        ([], ()),
        (7, ()),
    ],
)
def test_a_single_request_stored_before_several_could_be_asked_for_reads_as_a_list_of_one(published, kept):
    story = Story(received_at=T0)
    stream = [
        replace(event, payload={**event.payload, "customer_request": published})
        if event.type == "complaint.received"
        else event
        for event in as_events(story)
    ]

    assert facts_of(story, stream).customer_request == kept


def test_periods_are_iso_weeks_and_months_of_the_mall():
    week = parse_week("2026-W48")
    month = parse_month("2026-02")

    assert (week.first, week.last, week.previous().label) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
        "2026-W47",
    )
    assert (month.first, month.last, month.previous().label) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
        "2026-01",
    )
    assert parse_week("2027-W01").previous().label == "2026-W53"
    assert month.bounds(ZONE)[0] == datetime(2026, 1, 31, 16, tzinfo=UTC)
    assert parse_month("2026-03").previous().last == date(2026, 2, 28)
    for bad in (
        "2026-W54",
        "2026-13",
        "2026-11-01",
        "last week",
        "9999-12",
        "9999-W52",
        "1969-12",
        "0001-W01",
    ):
        with pytest.raises(BadPeriod):
            (parse_week if "W" in bad else parse_month)(bad)


def test_a_report_opens_on_the_period_so_far_beside_the_same_span_of_the_one_before():
    month = current("month", date(2026, 12, 6))
    week = current("week", date(2026, 12, 2))  # a Wednesday

    assert (month.label, month.first, month.last, month.complete) == (
        "2026-12",
        date(2026, 12, 1),
        date(2026, 12, 6),
        False,
    )
    assert (month.previous().first, month.previous().last) == (date(2026, 11, 1), date(2026, 11, 6))
    assert (week.first, week.last, week.previous().first, week.previous().last) == (
        date(2026, 11, 30),
        date(2026, 12, 2),
        date(2026, 11, 23),
        date(2026, 11, 25),
    )
    assert current("month", date(2026, 3, 31)).previous().last == date(2026, 2, 28)
    assert parse_month("2026-11").so_far(date(2026, 12, 6)).complete
    assert last_complete("month", date(2026, 1, 15)).label == "2025-12"  # the callback list's month


def test_a_problem_recurs_when_enough_complaints_fall_within_the_window_in_any_order():
    def at(days: float) -> Occurrence:
        return Occurrence(f"c{days}", None, T0 + timedelta(days=days))

    window = timedelta(days=30)
    assert recurring_run([at(0), at(40), at(80)], 3, window) == []
    assert [item.complaint_id for item in recurring_run([at(45), at(0), at(31), at(50)], 3, window)] == [
        "c31",
        "c45",
        "c50",
    ]
    assert recurring_run([at(0), at(30)], 3, window) == []


def test_a_capa_record_is_verified_only_with_cause_action_owner_and_verification():
    current = CapaRecord(status="open")

    assert set(check_update(current, {"cause": "培训不足"}, "verified")) == {
        "action",
        "owner",
        "verification",
    }
    assert (
        check_update(current, {"cause": "a", "action": "b", "owner": "c", "verification": "d"}, "verified")
        == {}
    )
    assert next_status(current, {"owner": "陈敏"}, None) == "in_progress"
    assert "status" in check_update(CapaRecord(status="in_progress"), {}, "open")


def test_personal_data_is_erased_and_everything_else_kept():
    envelope = {
        "payload": {
            "customer": {"name": "王女士", "phone": "13912345678", "anonymous": False},
            "description": "请回电 139-1234-5678 或 wang@example.cn",
            "amount": "399.00",
            "number": "TS-20261122-0007",
            "promised_reply_date": "2026-11-25",
        }
    }
    erased = erase_personal(envelope)["payload"]

    assert erased["customer"] == {"name": None, "phone": None, "anonymous": False}
    assert "139" not in erased["description"] and "@" not in erased["description"]
    assert erased["description"].startswith("请回电")
    assert (erased["amount"], erased["number"], erased["promised_reply_date"]) == (
        "399.00",
        "TS-20261122-0007",
        "2026-11-25",
    )
    assert scrub_text("客户电话021-65432100") == "客户电话[已删除]"


def test_the_customers_own_name_is_erased_from_free_text_and_from_a_corrections_old_values():
    customer = {"name": "王丽", "phone": "13912345678", "email": "wang@example.cn"}
    changes = {"customer.name": {"old": "王力", "new": "王丽"}, "note": "王力是笔误"}
    known = customer_masks(customer, *corrected_customers(changes))

    assert scrub_text("已致电王女士，王丽同意退款", known=known) == "已致电[已删除]，[已删除]同意退款"
    assert erase_personal(changes, known) == {
        "customer.name": {"old": None, "new": None},
        "note": "[已删除]是笔误",
    }
    assert (
        erase_personal({"text": "王丽同意"})["text"] == "王丽同意"
    )  # without `known` only the patterns count


@pytest.mark.parametrize(
    ("value", "formula"),
    [
        ("=1+1", True),
        ("@SUM(A1)", True),
        ("-2+3", True),
        ("+cmd|' /C calc'!A0", True),
        ("\t=1", True),
        ("-5", False),
        ("+86 139 1234 5678", False),
        ("-", False),
        ("王女士", False),
        (12, False),
        ("", False),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_told_from_a_number_or_a_name(value, formula):
    from services.reporting.rendering.tables import looks_like_a_formula

    assert looks_like_a_formula(value) is formula
