"""The console's pure parts: catalogues, queue order, form translation, diagram diffs, holders."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from werkzeug.datastructures import MultiDict

from services.common.errors import Unavailable
from services.common.identity.model import Identity
from services.console.adapters.services import flatten
from services.console.i18n import LANGUAGES, catalogue
from services.console.pages.bpmn_diff import element_diff, refused_element, script_lines
from services.console.pages.queue import ABOUT_BATCH, form_data, overdue_first, what_cases_are_about
from services.intake.adapters.holders import Holder

DIAGRAM = (Path(__file__).resolve().parents[2] / "bpmn" / "complaint.bpmn").read_text(encoding="utf-8")


def test_both_languages_have_the_same_keys_and_no_empty_text():
    catalogues = {language: catalogue(language) for language in LANGUAGES}

    assert set(catalogues["zh-CN"]) == set(catalogues["en"])
    assert [key for text in catalogues.values() for key, value in text.items() if not value.strip()] == []


def test_every_user_task_of_the_diagram_has_a_chinese_name_in_the_catalogue():
    import re

    tasks = re.findall(r'<bpmn:userTask id="([a-z_]+)"', DIAGRAM)

    assert tasks and [task for task in tasks if f"element.{task}" not in catalogue("zh-CN")] == []


def test_the_queue_puts_overdue_tasks_first_then_by_due_time_then_those_without_one():
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    tasks = [
        {"id": "later", "due_at": "2026-11-23T12:00:00+00:00", "created_at": "1"},
        {"id": "none", "due_at": None, "created_at": "0"},
        {"id": "soon", "due_at": "2026-11-22T13:00:00+00:00", "created_at": "2"},
        {"id": "late", "due_at": "2026-11-22T11:00:00+00:00", "created_at": "3"},
        {"id": "latest", "due_at": "2026-11-21T11:00:00+00:00", "created_at": "4"},
    ]

    assert [task["id"] for task in overdue_first(tasks, now)] == ["latest", "late", "soon", "later", "none"]


FORM = [
    {"id": "outcome", "type": "enum", "options": [["resolved", "Resolved"], ["escalate", "Escalate"]]},
    {"id": "resolution", "type": "string"},
    {"id": "signed", "type": "boolean"},
    {"id": "cost", "type": "long"},
    {"id": "on", "type": "date"},
]


class _Intake:
    """Intake's complaint list as the queue asks it, by id; the second batch cannot be read."""

    def __init__(self):
        self.asked: list[list[str]] = []

    def get(self, path: str, id: list[str], limit: int) -> dict:
        self.asked.append(id)
        if len(self.asked) == 2:
            raise Unavailable("intake is restarting")
        return {"items": [{"id": one, "merchant": None, "customer": {}, "description": one} for one in id]}


def test_the_queue_asks_what_its_cases_are_about_in_batches_and_a_batch_unread_leaves_its_cards_plain():
    intake = _Intake()
    ids = [f"case-{index:03}" for index in range(ABOUT_BATCH * 2 + 1)]

    about = what_cases_are_about(intake, ids + ids[:3])  # a case with two open tasks is asked once

    assert [len(batch) for batch in intake.asked] == [ABOUT_BATCH, ABOUT_BATCH, 1]
    assert sorted(about) == ids[:ABOUT_BATCH] + ids[-1:]


def test_a_task_form_becomes_typed_data_and_empty_fields_are_left_out():
    form = MultiDict(
        {"f_outcome": "resolved", "f_resolution": " 已换货 ", "f_signed": "false", "f_cost": "30", "f_on": ""}
    )

    assert form_data(FORM, form) == {
        "outcome": "resolved",
        "resolution": "已换货",
        "signed": False,
        "cost": 30,
    }


def test_an_amount_goes_to_routing_as_typed_for_routing_to_read_its_fen():
    amount = [{"id": "cost", "type": "decimal"}]

    assert form_data(amount, MultiDict({"f_cost": " 12.5 "})) == {"cost": "12.5"}


def test_the_escalate_button_sets_the_outcome_to_escalate():
    assert (
        form_data(FORM, MultiDict({"f_outcome": "resolved", "action": "escalate"}))["outcome"] == "escalate"
    )


def test_a_diff_of_two_versions_names_elements_added_removed_and_changed():
    changed = DIAGRAM.replace('name="Handle merchant complaint"', 'name="Handle shop complaint"')
    changed = changed.replace('<bpmn:userTask id="reply" ', '<bpmn:userTask id="reply_by_phone" ')

    changes = {(item["change"], item["id"]) for item in element_diff(DIAGRAM, changed)}

    assert ("changed", "handle_floor") in changes
    assert ("added", "reply_by_phone") in changes and ("removed", "reply") in changes
    assert element_diff(DIAGRAM, DIAGRAM) == []


def test_a_changed_element_says_what_changed_and_a_flow_carries_what_it_joins():
    import re

    [flow_id, source, target, condition] = re.search(
        r'<bpmn:sequenceFlow id="(\w+)"[^>]*? sourceRef="(\w+)" targetRef="(\w+)">\s*'
        r"<bpmn:conditionExpression[^>]*>([^<]+)<",
        DIAGRAM,
    ).groups()
    renamed = DIAGRAM.replace('name="Handle merchant complaint"', 'name="Handle shop complaint"')
    rerouted = renamed.replace(f">{condition}<", f">({condition}) and True<", 1)

    changes = {item["id"]: item for item in element_diff(DIAGRAM, rerouted)}

    [name] = changes["handle_floor"]["aspects"]
    assert name["aspect"] == "name" and (name["old"][""], name["new"][""]) == (
        "Handle merchant complaint",
        "Handle shop complaint",
    )
    assert changes[flow_id]["aspects"] == [
        {"aspect": "condition", "old": condition, "new": f"({condition}) and True"}
    ]
    assert changes[flow_id]["between"] == [source, target] and changes["handle_floor"]["between"] is None


def test_a_changed_script_shows_the_lines_taken_out_and_put_in_with_one_line_around_each():
    before = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7"
    after = "a = 1\nb = 20\nc = 3\nd = 4\ne = 5\nf = 6\ng = 7\nh = 8"

    assert script_lines(before, after) == [
        (" ", "a = 1"),
        ("-", "b = 2"),
        ("+", "b = 20"),
        (" ", "c = 3"),
        ("…", ""),
        (" ", "g = 7"),
        ("+", "h = 8"),
    ]
    assert script_lines(None, "x = 1") == [("+", "x = 1")]


def test_the_element_a_refused_deploy_names_is_found_in_routings_message():
    english = "diagram refused, 2 problems: element “cashiers” (Lane_x): the lane 'cashiers' is not one of …"
    chinese = "diagram refused, 1 problem: 元素 “收银”（Lane_x）：泳道 '收银' 不是商场的任务队列；…"
    unnamed = (
        "diagram refused, 1 problem: element Flow_3: the sequence flow's targetRef is 'x', which is not …"
    )

    assert refused_element(english) == refused_element(chinese) == "Lane_x"
    assert refused_element(unnamed) == "Flow_3"
    assert refused_element("diagram refused, 1 problem: complaint.bpmn is not well-formed XML (…)") is None
    proof_zh = "探测投诉“价格（指明商户）”：步骤出错（案件会停在故障中），位于“分派到哪个岗位？”（route_gw）：WorkflowException: …；路径：start"
    proof_en = "probe 'category price, a shop named': incident at Which queue? (route_gw): WorkflowException: …; path: start"
    assert refused_element(proof_zh) == refused_element(proof_en) == "route_gw"


def test_nested_field_errors_are_flattened_to_dotted_names():
    assert flatten({"customer": {"phone": ["required"]}, "floor": ["unknown"]}) == {
        "customer.phone": ["required"],
        "floor": ["unknown"],
    }


def _viewer(*roles, floors=(), departments=(), subject="someone") -> Identity:
    return Identity(subject, frozenset(roles), "demo", frozenset(floors), frozenset(departments))


def test_a_case_is_held_by_its_queue_within_scope_and_by_its_assignee():
    floor_task = Holder("floor_supervisor", "3F", None, None)
    ops_task = Holder("operations_manager", "3F", None, "ops")

    assert floor_task.held_by(_viewer("floor_supervisor", floors=["3F"]))
    assert not floor_task.held_by(_viewer("floor_supervisor", floors=["2F"]))
    assert not floor_task.held_by(_viewer("operations_manager"))
    assert ops_task.held_by(_viewer("operations_manager"))
    assert ops_task.held_by(_viewer("store_manager", subject="ops"))
    assert not ops_task.held_by(_viewer("store_manager"))


def test_the_consoles_page_roles_are_the_roles_reporting_and_notify_allow():
    from services.common.identity.model import Role
    from services.console.pages import access
    from services.intake.entrypoints.access import REFERENCE_EDITORS
    from services.notify.entrypoints import deliveries, inbox
    from services.reporting.entrypoints import access as reporting

    def staff(roles) -> set[str]:
        return set(roles) - {Role.SERVICE}

    assert set(access.REPORT_READERS) == staff(reporting.REPORT_READERS)
    assert set(access.CALLBACK_READERS) == staff(reporting.CALLBACK_READERS)
    assert set(access.CAPA_READERS) == staff(reporting.CAPA_READERS)
    assert set(access.CAPA_EDITORS) == set(reporting.CAPA_EDITORS)
    assert set(access.INBOX_OWNERS) == set(inbox.STAFF)
    assert set(access.DELIVERY_LOG_READERS) == set(deliveries.LOG_READERS)
    assert set(access.DESK) == set(deliveries.DESK)
    assert set(access.TEMPLATE_EDITORS) == set(REFERENCE_EDITORS)


def test_a_capa_form_sends_only_what_changed_an_emptied_field_as_cleared_and_the_version_read():
    from services.console.pages.capa import capa_changes

    record = {
        "cause": "新店员未经培训",
        "action": None,
        "owner": "王强",
        "due_date": "2026-12-05",
        "verification": None,
    }
    form = MultiDict(
        {
            "cause": "新店员未经培训",
            "action": " 培训 ",
            "owner": "",
            "due_date": "2026-12-05",
            "verification": "",
            "version": "3",
        }
    )

    assert capa_changes(record, form) == {"action": "培训", "owner": None, "version": 3}
    assert capa_changes(record, MultiDict({**form, "verified": "1", "version": "x"}))["status"] == "verified"
    assert "version" not in capa_changes(record, MultiDict({"version": "x"}))


def test_a_letter_in_the_inbox_opens_through_the_console_and_nothing_else_is_linked():
    from flask import Flask

    from services.console.pages.inbox import blueprint, console_link

    app = Flask(__name__)
    app.register_blueprint(blueprint, url_prefix="/console")
    delivery = "0b8f6f4e-3a57-4d43-9d5e-0d3c2f5b9e11"
    with app.test_request_context():
        assert console_link(f"/notify/deliveries/{delivery}/letter.pdf") == f"/console/letters/{delivery}.pdf"
        assert console_link("https://evil.example/letter.pdf") is None
        assert console_link(f"/notify/deliveries/{delivery}/letter.pdf?x=1") is None
        assert console_link(None) is None


def test_the_consoles_routing_page_roles_are_the_roles_routing_allows():
    from services.common.identity.model import Role
    from services.console.pages import access
    from services.routing.entrypoints import http, repairs, timers

    assert set(access.INCIDENT_REPAIRERS) == set(repairs.REPAIRERS)
    assert set(access.CASE_MOVERS) == set(repairs.MOVERS)
    assert set(access.TIMER_OPERATORS) == set(timers.TIMER_OPERATORS)
    assert set(access.CASE_READERS) == set(http.CASE_READERS) - {Role.SERVICE}


def test_an_element_saved_again_by_a_modeler_is_not_listed_as_changed():
    head = '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p">'
    drawn = (
        head
        + '<boundaryEvent id="t" cancelActivity="true" attachedToRef="a" name="Late"><timerEventDefinition/></boundaryEvent></process></definitions>'
    )
    saved = (
        head
        + '<boundaryEvent id="t" name="Late" attachedToRef="a">\n  <timerEventDefinition />\n</boundaryEvent></process></definitions>'
    )
    renamed = saved.replace('name="Late"', 'name="Later"')

    assert element_diff(drawn, saved) == []
    assert [change["id"] for change in element_diff(drawn, renamed)] == ["t"]


def test_a_field_s_messages_read_as_one_sentence_without_doubled_stops():
    from services.console.i18n import clauses

    assert clauses(["必填。", "不能为空"]) == "必填；不能为空"
    assert clauses(["required."]) == "required"
