"""Injection attempts in every text field a person types: SQL, header, template, HTML, a way up.

Every text field of the desk's complaint (of the public web form, of a correction) gets each payload: the answer
is a 4xx naming the field, or the complaint is stored with the text exactly as typed; never a 5xx,
and every table is still there with every accepted complaint in it, each with its case. Then the
text is followed to where it is shown: the console's pages (escaped, template syntax shown as
typed, never evaluated), and, through every text field of every task form on the way, to the reply
e-mail (text and HTML parts) and the printed letter (PDF) notify sends the customer.
"""

from __future__ import annotations

import email
import email.policy
import io
import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pypdf
from marshmallow import fields

from services.common.identity.model import PROCESS_ROLES, Identity
from services.intake.entrypoints.schemas import ComplaintIn, CorrectionIn, PublicComplaintIn
from services.reporting.entrypoints.schemas import CapaPatch
from services.routing.domain.form_checks import only_taken
from tests.integration.conftest import complaint

PAYLOADS = [
    "'; DROP TABLE intake.complaints;--",
    "' OR '1'='1",
    'Robert"); DELETE FROM routing.cases; --',
    "Wang\r\nBcc: evil@example.com",
    "{{ 7*7 }} {{ ''.__class__.__mro__ }}",
    "{% for x in range(3) %}loop{% endfor %}",
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "../../../../etc/passwd",
    "${7*7} #{7*7} %s %n",
]
# One text with every kind at once, followed to the pages, the e-mail and the letter.
MIXED = (
    "<script>alert(1)</script> {{ 7*7 }} {% if true %}evaluated{% endif %} ' OR '1'='1 \"; DROP TABLE x;--"
)
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
TEMPLATE_AS_TYPED = ("{{ 7*7 }}", "{% if true %}evaluated{% endif %}")


def _text_fields(schema, prefix: str = "") -> list[str]:
    """Dotted names of a schema's string fields, nested ones included, and of its lists of strings
    (customer_request), which read a string alone as a list of it."""
    names = []
    for name, field in schema.fields.items():
        if isinstance(field, fields.Nested):
            names += _text_fields(field.schema, f"{prefix}{name}.")
        elif isinstance(field, fields.String) or isinstance(getattr(field, "inner", None), fields.String):
            names.append(prefix + name)  # Email is a String
    return names


DESK_FIELDS = _text_fields(ComplaintIn())
PUBLIC_FIELDS = _text_fields(PublicComplaintIn())
CORRECTION_FIELDS = _text_fields(CorrectionIn())


def _with(body: dict, dotted: str, value: str) -> dict:
    *parents, leaf = dotted.split(".")
    node = body
    for parent in parents:
        node = node.setdefault(parent, {})
    node[leaf] = value
    return body


def _get(body: dict, dotted: str):
    for part in dotted.split("."):
        body = body[part]
    return body


def _public(**changes) -> dict:
    body = {
        "category": "environment",
        "description": "洗手间没有纸",
        "floor": "3F",
        "customer": {"name": "王女士", "phone": "13912345678"},
        "consent": True,
    }
    return {**body, **changes}


def test_every_text_field_of_a_complaint_takes_each_payload_verbatim_or_refuses_it_naming_the_field(mall):
    desk = mall.staff("desk")
    accepted, refused, wrong = [], [], []
    for path, base, names in (
        ("/intake/complaints", complaint, DESK_FIELDS),
        ("/intake/public/complaints", _public, PUBLIC_FIELDS),
    ):
        for name in names:
            for payload in PAYLOADS:
                answer = mall.api.post(path, json=_with(base(), name, payload), headers=desk)
                if answer.status_code in (200, 201):
                    accepted.append((name, payload, answer.json["number"]))
                elif 400 <= answer.status_code < 500 and _named(answer, name):
                    refused.append((name, payload))
                else:
                    wrong.append((path, name, payload, answer.status_code, answer.json))
    mall.settle()

    assert wrong == []
    stored = [(name, payload, _stored(mall, number, name)) for name, payload, number in accepted]
    assert [entry for entry in stored if entry[1] != entry[2]] == []
    assert {"description", "customer.name", "customer.address"} <= {name for name, *_ in accepted}
    _assert_tables_intact(mall, len(accepted))


def test_every_text_field_of_a_correction_takes_each_payload_verbatim_or_refuses_it_naming_the_field(mall):
    desk = mall.staff("desk")
    recorded = mall.record()
    wrong, corrected = [], []
    attempts = [(name, payload) for name in CORRECTION_FIELDS for payload in PAYLOADS]
    for count, (name, payload) in enumerate(attempts, start=2):
        # a new head count each time, so each correction changes something and is kept in the history
        body = _with({"reason": "顾客补充", "people_count": count}, name, payload)
        answer = mall.api.patch(f"/intake/complaints/{recorded['id']}", json=body, headers=desk)
        if answer.status_code == 200 and (name == "reason" or _get(answer.json, name) == payload):
            corrected.append(name)
        elif not (400 <= answer.status_code < 500 and _named(answer, name)):
            wrong.append((name, payload, answer.status_code, answer.json))
    mall.settle()

    assert wrong == []
    assert {"reason", "description", "customer.name"} <= set(corrected)
    history = mall.api.get(f"/intake/complaints/{recorded['id']}/history", headers=desk).json
    assert {entry["reason"] for entry in history} >= set(PAYLOADS)
    _assert_tables_intact(mall, 1)


def _named(answer, name: str) -> bool:
    return name.split(".")[-1] in json.dumps(answer.json.get("errors", {}))


def _stored(mall, number: str, name: str):
    found = mall.api.get(f"/intake/complaints/by-number/{number}", headers=mall.staff("desk")).json
    return _get(found, name)


def _assert_tables_intact(mall, accepted: int) -> None:
    """Every complaint accepted is in intake and has its case in routing; every table answers."""
    with psycopg.connect(mall.runtimes["intake"].settings.database_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM intake.complaints), (SELECT count(*) FROM routing.cases),"
            " (SELECT count(*) FROM reporting.cases)"
        ).fetchone()
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema IN"
            " ('intake', 'routing', 'notify', 'reporting', 'console')"
        ).fetchone()[0]
    assert counts == (accepted, accepted, accepted)
    assert tables >= 20


def test_console_pages_show_what_was_typed_escaped_and_never_evaluate_it(mall, browser):
    recorded = mall.record(
        description=MIXED, customer={"name": MIXED[:100], "phone": "13912345678", "address": MIXED}
    )
    with mall.runtimes["routing"].uow() as uow:
        tasks = uow.tasks.open_for_case(recorded["id"])
    desk = browser()
    desk.login("desk")

    pages = [
        f"/console/cases/{recorded['id']}",
        f"/console/cases/{recorded['id']}/print",
        "/console/complaints",
        f"/console/complaints/{recorded['id']}/receipt",
    ] + [f"/console/tasks/{task.id}" for task in tasks if task.queue == "service_desk"]
    for page in pages:
        html = desk.get(page).get_data(as_text=True)
        assert "<script>alert(1)" not in html, page
        assert ESCAPED_SCRIPT in html or page.endswith("/receipt"), page
        assert "evaluated" not in html.replace(TEMPLATE_AS_TYPED[1], ""), page
        for typed in TEMPLATE_AS_TYPED:
            assert typed in html or page.endswith("/receipt"), (page, typed)


# ---- task forms: each text field typed with the payload, on to the customer's e-mail and letter

PEOPLE = {
    "service_desk": "desk",
    "floor_supervisor": "floor3",
    "department_manager": "security",
    "operations_manager": "ops",
    "deputy_store_manager": "deputy",
    "store_manager": "store",
}
FIELD_VALUES = {"boolean": True, "long": 0, "decimal": "0.00", "date": "2026-11-25"}


def _fill(form: list[dict]) -> dict:
    """Every text field with MIXED; a choice the one that settles it (resolved) or the first."""
    data = {}
    for field in form:
        if field["type"] == "string":
            data[field["id"]] = MIXED
        elif field["type"] == "enum":
            options = [value for value, _ in field["options"]]
            data[field["id"]] = "resolved" if "resolved" in options else options[0]
        else:
            data[field["id"]] = FIELD_VALUES[field["type"]]
    return only_taken(form, data)  # a field taken only under another answer (only_when) is left out


def _work_the_case(mall, clock, case_id: str) -> list[tuple[str, str]]:
    """Complete every task the case brings, as the demo person of its queue, until it ends; a day
    passes whenever it waits (for the callback). Returns the text fields typed in."""
    typed = []
    for _ in range(20):
        with mall.runtimes["routing"].uow() as uow:
            open_tasks = uow.tasks.open_for_case(case_id)
        for task in open_tasks:
            headers = mall.staff(PEOPLE[task.queue])
            form = mall.api.get(f"/routing/tasks/{task.id}", headers=headers).json["form"]
            done = mall.api.post(
                f"/routing/tasks/{task.id}/complete", json={"data": _fill(form)}, headers=headers
            )
            assert done.status_code == 200, (task.element_id, done.json)
            typed += [(task.element_id, field["id"]) for field in form if field["type"] == "string"]
        if not open_tasks:
            case = mall.api.get(f"/routing/cases/{case_id}", headers=mall.staff("ops")).json
            if case["status"] != "running":
                return typed
            clock.advance(timedelta(days=1))
            scheduler = mall.runtimes["routing"].scheduler()
            while scheduler.tick():
                pass
        mall.settle()
    raise AssertionError("the case did not end")


def _kept_mail(mall) -> list[email.message.EmailMessage]:
    folder = Path(mall.runtimes["notify"].settings.data_dir) / "outbox" / "mail"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_what_staff_type_in_task_forms_reaches_the_customers_email_as_typed_and_escaped_in_html(mall, clock):
    recorded = mall.record(
        channel="phone",
        category="environment",
        handle_directly=True,
        floor="3F",
        merchant_code=None,
        customer_request=None,
        amount=None,
        customer={
            "name": "王女士",
            "phone": "13912345678",
            "email": "wang@example.com",
            "preferred_reply_channel": "email",
        },
    )

    typed = _work_the_case(mall, clock, recorded["id"])

    assert ("reply", "reply_text") in typed and ("handle_desk", "resolution") in typed
    [reply] = [message for message in _kept_mail(mall) if MIXED in message.get_body(("plain",)).get_content()]
    html = reply.get_body(("html",)).get_content()
    assert "<script>alert(1)" not in html and ESCAPED_SCRIPT in html
    assert all(typed_text in html for typed_text in TEMPLATE_AS_TYPED)
    timeline = mall.api.get(f"/routing/cases/{recorded['id']}/timeline", headers=mall.staff("desk")).get_data(
        as_text=True
    )
    assert json.dumps(MIXED, ensure_ascii=False)[1:-1] in timeline


def test_what_staff_type_in_a_written_reply_is_printed_in_the_letter_as_typed(mall, clock):
    recorded = mall.record(
        channel="letter",
        category="environment",
        handle_directly=True,
        floor="3F",
        merchant_code=None,
        customer_request=None,
        amount=None,
        customer={"name": "王女士", "address": "星河路1号2单元301"},
    )

    typed = _work_the_case(mall, clock, recorded["id"])

    assert ("reply_written", "reply_text") in typed
    deliveries = mall.api.get(
        f"/notify/complaints/{recorded['id']}/deliveries", headers=mall.staff("desk")
    ).json
    [letter] = [
        delivery
        for request in deliveries["requests"]
        for delivery in request["deliveries"]
        if delivery["kind"] == "written_reply"
    ]
    pdf = mall.api.get(f"/notify/deliveries/{letter['id']}/letter.pdf", headers=mall.staff("desk"))
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    flat = " ".join(text.split())
    assert "<script>alert(1)</script>" in flat and "{{ 7*7 }}" in flat and "evaluated{% endif %}" in flat


# ---- export file names: made from the period asked for, which must be a period

EXPORTS = [
    ("/reporting/reports/weekly", "week", "2026-W47"),
    ("/reporting/reports/monthly", "month", "2026-11"),
    ("/reporting/callbacks", "month", "2026-11"),
]
TRAVERSALS = [
    "../../etc/passwd",
    "2026-11/../../x",
    "2026-11\r\nSet-Cookie: a=b",
    '2026-11"; filename="x.exe',
]


def test_an_export_is_named_after_its_period_and_a_period_that_is_a_path_is_refused(mall):
    ops = mall.staff("ops")
    for path, name, period in EXPORTS:
        good = mall.api.get(path, query_string={name: period, "format": "csv"}, headers=ops)
        refused = [
            mall.api.get(path, query_string={name: bad, "format": "csv"}, headers=ops) for bad in TRAVERSALS
        ]

        disposition = good.headers["Content-Disposition"]
        assert good.status_code == 200 and period in disposition, disposition
        assert not any(mark in disposition for mark in ("/", "\\", "..", "\r", "\n")), disposition
        assert [answer.status_code for answer in refused] == [400] * len(TRAVERSALS), path
        assert all(name in answer.json["errors"]["query"] for answer in refused), path


# ---- query parameters: every string parameter of every GET, found from the documents

SQL_IN_QUERIES = ["' OR '1'='1", "3F' OR '1'='1' --", "x'; DROP TABLE intake.complaints;--", "%", "_", "*"]


def _string_query_parameters(mall) -> list[tuple[str, str]]:
    found = []
    for mount in mall.runtimes:
        document = mall.api.get(f"/{mount}/openapi.json").json
        for path, operations in document["paths"].items():
            if "{" in path or "get" not in operations:
                continue
            for parameter in operations["get"].get("parameters", []):
                if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "string":
                    found.append((f"/{mount}{path}", parameter["name"]))
    return found


def test_sql_in_a_query_parameter_matches_nothing_and_fails_nothing(mall):
    mall.record()
    # Every role of the procedure, unscoped: sees every complaint and task, so a filter that leaked
    # would list them.
    everyone = Identity(subject="auditor", roles=frozenset(PROCESS_ROLES), mall_id="demo")
    staff = {"Authorization": f"Bearer {mall.runtimes['console'].tokens.issue(everyone)}"}
    parameters = _string_query_parameters(mall)
    wrong = []
    for path, name in parameters:
        for payload in SQL_IN_QUERIES:
            answer = mall.api.get(path, query_string={name: payload}, headers=staff)
            items = answer.json.get("items") if answer.is_json and isinstance(answer.json, dict) else None
            if answer.status_code >= 500 or (answer.status_code == 200 and items):
                wrong.append((path, name, payload, answer.status_code, items))

    assert wrong == []
    assert ("/intake/complaints", "floor") in parameters and ("/routing/tasks", "number") in parameters
    assert mall.api.get("/intake/complaints", headers=staff).json["items"]  # the complaint is there
    assert mall.api.get("/routing/tasks", headers=staff).json["items"]  # and its tasks


# ---- what staff type elsewhere: a CAPA record's fields, a user's display name

CAPA_TEXT_FIELDS = [name for name in _text_fields(CapaPatch()) if name != "status"]


def test_capa_text_and_a_users_name_are_kept_as_typed_and_shown_escaped(mall, browser):
    for _ in range(3):  # the same problem three times opens a CAPA record
        mall.record()
    [record] = mall.api.get("/reporting/capa", headers=mall.staff("ops")).json["items"]
    patched = mall.api.patch(
        f"/reporting/capa/{record['id']}",
        json=dict.fromkeys(CAPA_TEXT_FIELDS, MIXED),
        headers=mall.staff("ops"),
    )
    renamed = mall.api.patch(
        "/console/api/users/floor3", json={"display_name": MIXED[:100]}, headers=mall.staff("admin")
    )
    ops, admin = browser(), browser()
    ops.login("ops")
    admin.login("admin")

    pages = {
        f"/console/capa/{record['id']}": ops,
        "/console/capa": ops,
        "/console/admin/users": admin,
        "/console/admin/users/floor3": admin,
    }
    shown = {page: client.get(page).get_data(as_text=True) for page, client in pages.items()}

    assert patched.status_code == 200 and all(patched.json[name] == MIXED for name in CAPA_TEXT_FIELDS)
    assert renamed.status_code == 200 and renamed.json["display_name"] == MIXED[:100]
    for page, html in shown.items():
        assert "<script>alert(1)" not in html and ESCAPED_SCRIPT in html, page
        assert "evaluated" not in html.replace(TEMPLATE_AS_TYPED[1], ""), page
