"""The books audit on the real PostgreSQL and RabbitMQ: a consistent complaint is clean, and each
inconsistency written into the books (or a message left in a dead-letter queue) is found, alone.

The consistent complaint is the set of rows the services write for one complaint whose first task
is open: intake's complaint, routing's case and task, reporting's event and read-model row, notify's
acknowledgement request, delivery and sent attempt. Each test then breaks one thing.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from kombu import Connection, Producer

from services.audit.command import audit_command, dead_letter_command, run_audit, summary
from services.common.bus.topology import DEAD_LETTER_EXCHANGE, SUBSCRIPTIONS, consumer_queues
from tests.support.processes import free_port

OLD = timedelta(minutes=5)  # older than the audit's grace period


def execute(db_url: str, statement: str, *parameters) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(statement, parameters or None)


def a_complaint(db_url: str, age: timedelta = OLD, number: str | None = None) -> dict:
    """Every service's rows for one complaint received `age` ago, its first task open."""
    ids = {name: str(uuid.uuid4()) for name in ("complaint", "task", "event", "request", "delivery")}
    ids["number"] = number or f"TS-20261201-{uuid.uuid4().hex[:4]}"
    with psycopg.connect(db_url, autocommit=True) as conn:
        at = conn.execute("SELECT now() - %s", (age,)).fetchone()[0]
        version = conn.execute("SELECT id FROM routing.process_versions LIMIT 1").fetchone()
        if version is None:
            version = conn.execute(
                "INSERT INTO routing.process_versions (id, mall_id, process_key, version, bpmn_xml, source_hash,"
                " deployed_by, deployed_at) VALUES (gen_random_uuid(), 'demo', 'complaint', 1, '<x/>', 'h',"
                " 'test', now()) RETURNING id"
            ).fetchone()
        conn.execute(
            "INSERT INTO intake.complaints (id, mall_id, number, channel, category, severity, status, customer,"
            " description, promised_reply_date, received_at, received_by) VALUES (%s, 'demo', %s, 'phone',"
            " 'price', 'normal', 'received', '{}', '价格不符', %s::date + 3, %s, 'desk')",
            (ids["complaint"], ids["number"], at, at),
        )
        conn.execute(
            "INSERT INTO routing.cases (id, mall_id, number, process_version_id, status, state, created_at,"
            " updated_at) VALUES (%s, 'demo', %s, %s, 'running', '{}', %s, %s)",
            (ids["complaint"], ids["number"], version[0], at, at),
        )
        add_task(conn, ids["complaint"], ids["number"], "handle_floor", ids["task"], at)
        conn.execute(
            "INSERT INTO reporting.events (id, mall_id, complaint_id, type, occurred_at, envelope)"
            " VALUES (%s, 'demo', %s, 'complaint.received', %s, '{}')",
            (ids["event"], ids["complaint"], at),
        )
        conn.execute(
            "INSERT INTO reporting.cases (complaint_id, mall_id, number) VALUES (%s, 'demo', %s)",
            (ids["complaint"], ids["number"]),
        )
        add_acknowledgement(conn, ids["complaint"], ids["number"], ids["request"], ids["delivery"], at)
    return ids


def add_task(conn, case_id: str, number: str, element: str, task_id: str | None = None, at=None) -> str:
    task_id = task_id or str(uuid.uuid4())
    conn.execute(
        "INSERT INTO routing.tasks (id, case_id, mall_id, queue, element_id, title, number, state, created_at)"
        " VALUES (%s, %s, 'demo', 'floor_supervisor', %s, '处理', %s, 'open', coalesce(%s, now()))",
        (task_id, case_id, element, number, at),
    )
    return task_id


def add_acknowledgement(conn, complaint_id: str, number: str, request_id: str, delivery_id: str, at) -> None:
    conn.execute(
        "INSERT INTO notify.requests (id, mall_id, complaint_id, kind, recipient, number, requested_at, state)"
        " VALUES (%s, 'demo', %s, 'acknowledgement', 'customer', %s, %s, 'planned')",
        (request_id, complaint_id, number, at),
    )
    conn.execute(
        "INSERT INTO notify.deliveries (id, request_id, mall_id, complaint_id, kind, audience, channel, address,"
        " language, message_id, state, attempts, created_at, sent_at) VALUES (%s, %s, 'demo', %s,"
        " 'acknowledgement', 'customer', 'email', 'c@example.com', 'zh', %s, 'sent', 1, %s, %s)",
        (delivery_id, request_id, complaint_id, f"<{delivery_id}@mall>", at, at),
    )
    conn.execute(
        "INSERT INTO notify.attempts (delivery_id, attempted_at, outcome) VALUES (%s, %s, 'sent')",
        (delivery_id, at),
    )


def checks(report) -> list[tuple[str, str]]:
    return sorted((finding.check, finding.subject) for finding in report.findings)


@pytest.fixture
def books(db_url) -> dict:
    return a_complaint(db_url)


def test_a_complaint_every_service_has_once_is_clean(db_url, books):
    report = run_audit(db_url, None)
    assert report.clean, report.findings
    assert report.counts == {
        "complaints": 1,
        "cases": 1,
        "open_tasks": 1,
        "deliveries": 1,
        "reporting_events": 1,
    }
    assert [notice.check for notice in report.notices] == ["no_broker"]
    # its words do not claim what was not read
    said = summary(report)
    assert "clean in PostgreSQL" in said and "dead-letter queues were not read" in said


def test_a_complaint_without_its_case_is_found_once_past_the_grace_period(db_url, books):
    execute(db_url, "DELETE FROM routing.tasks")
    execute(db_url, "DELETE FROM routing.cases")
    assert checks(run_audit(db_url, None)) == [("missing_case", books["number"])]
    young = a_complaint(db_url, age=timedelta(seconds=5))
    execute(db_url, "DELETE FROM routing.tasks WHERE case_id = %s", young["complaint"])
    execute(db_url, "DELETE FROM routing.cases WHERE id = %s", young["complaint"])
    assert checks(run_audit(db_url, None, settle_seconds=60)) == [("missing_case", books["number"])]
    assert ("missing_case", young["number"]) in checks(run_audit(db_url, None, settle_seconds=0))


def test_two_cases_for_one_number_and_a_case_without_a_complaint_are_found(db_url, books):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO routing.cases (id, mall_id, number, process_version_id, status, state, created_at,"
            " updated_at) SELECT gen_random_uuid(), mall_id, number, process_version_id, status, state,"
            " created_at, updated_at FROM routing.cases"
        )
        (twin,) = conn.execute(
            "SELECT id::text FROM routing.cases WHERE id <> %s", (books["complaint"],)
        ).fetchone()
        add_task(conn, twin, books["number"], "handle_floor")
    assert checks(run_audit(db_url, None)) == [
        ("double_case", books["number"]),
        ("orphan_case", books["number"]),
    ]


def test_a_running_case_with_nothing_to_wait_for_is_stuck_but_one_with_a_timer_is_not(db_url, books):
    execute(db_url, "UPDATE routing.tasks SET state = 'completed', closed_at = now()")
    assert checks(run_audit(db_url, None)) == [("stuck_case", books["number"])]
    execute(db_url, "UPDATE routing.cases SET next_due_at = now() + interval '1 day'")
    assert run_audit(db_url, None).clean


def test_an_open_task_on_a_closed_case_and_two_open_tasks_at_one_element_are_found(db_url, books):
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_task(conn, books["complaint"], books["number"], "handle_floor")
    assert checks(run_audit(db_url, None)) == [("double_open_task", books["number"])]
    execute(db_url, "UPDATE routing.cases SET status = 'completed'")
    assert (
        checks(run_audit(db_url, None))
        == [("double_open_task", books["number"])] + [("task_on_closed_case", books["number"])] * 2
    )


def test_an_unresolved_incident_is_found(db_url, books):
    execute(
        db_url,
        "INSERT INTO routing.incidents (id, case_id, at, step, error) VALUES (gen_random_uuid(), %s, now(),"
        " 'complete', 'NameError: name ''x'' is not defined')",
        books["complaint"],
    )
    [finding] = run_audit(db_url, None).findings
    assert (finding.check, finding.subject) == ("incident", books["number"])
    assert "NameError" in finding.detail


def test_reporting_missing_an_event_or_keeping_two_or_missing_its_row_is_found(db_url, books):
    execute(
        db_url,
        "INSERT INTO reporting.events (id, mall_id, complaint_id, type, occurred_at, envelope)"
        " VALUES (gen_random_uuid(), 'demo', %s, 'complaint.received', now(), '{}')",
        books["complaint"],
    )
    [twice] = run_audit(db_url, None).findings
    assert (twice.check, twice.data["events"]) == ("received_events", 2)
    execute(db_url, "DELETE FROM reporting.events")
    execute(db_url, "DELETE FROM reporting.cases")
    assert checks(run_audit(db_url, None)) == [
        ("not_in_read_model", books["number"]),
        ("received_events", books["number"]),
    ]


def test_a_delivery_sent_twice_and_a_second_acknowledgement_are_duplicates_but_a_resend_is_a_notice(
    db_url, books
):
    execute(
        db_url,
        "INSERT INTO notify.attempts (delivery_id, attempted_at, outcome) VALUES (%s, now(), 'interrupted')",
        books["delivery"],
    )
    report = run_audit(db_url, None)
    assert report.clean  # sent once after an interrupted try: at-least-once, not a known duplicate
    assert [notice.check for notice in report.notices] == ["resent_after_interruption", "no_broker"]

    execute(
        db_url,
        "INSERT INTO notify.attempts (delivery_id, attempted_at, outcome) VALUES (%s, now(), 'sent')",
        books["delivery"],
    )
    assert checks(run_audit(db_url, None)) == [("sent_twice", books["complaint"])]
    execute(
        db_url,
        "DELETE FROM notify.attempts WHERE outcome = 'sent' AND attempted_at > now() - interval '1 minute'",
    )
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_acknowledgement(
            conn,
            books["complaint"],
            books["number"],
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            conn.execute("SELECT now()").fetchone()[0],
        )
    assert checks(run_audit(db_url, None)) == [("double_notification", books["number"])]


def test_outbox_rows_left_unpublished_past_the_threshold_are_found_with_their_error(db_url, books):
    execute(
        db_url,
        "INSERT INTO routing.outbox (id, routing_key, envelope, created_at, attempts, last_error) VALUES"
        " (gen_random_uuid(), 'task.created.floor_supervisor', '{}', now() - interval '10 minutes', 3,"
        " 'connection refused')",
    )
    execute(
        db_url,
        "INSERT INTO intake.outbox (id, routing_key, envelope) VALUES (gen_random_uuid(),"
        " 'complaint.received', '{}')",
    )  # a second old: on its way
    [finding] = run_audit(db_url, None, outbox_seconds=60).findings
    assert (finding.check, finding.subject) == ("outbox_backlog", "routing.outbox")
    assert "1 event(s) unpublished" in finding.detail and "connection refused" in finding.detail


@pytest.fixture
def declared(amqp_url) -> str:
    """Every consumer's queues declared, as the workers declare them when they start."""
    with Connection(amqp_url) as connection:
        for name in SUBSCRIPTIONS:
            for queue in consumer_queues(name, SUBSCRIPTIONS[name]).all():
                queue.bind(connection.default_channel).declare()
    return amqp_url


def dead_letter(amqp_url: str, body: bytes, message_id: str, queue: str = "routing.complaints") -> None:
    with Connection(amqp_url) as connection:
        Producer(connection.default_channel).publish(
            body,
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key=queue,
            message_id=message_id,
            content_type="application/json",
            content_encoding="utf-8",
            type="complaint.received",
            headers={
                "x-error": "Traceback …\nKeyError: 'floor'",
                "x-error-type": "KeyError",
                "x-failed-queue": queue,
                "x-retries": 5,
            },
        )


def messages(amqp_url: str, queue: str) -> int:
    with Connection(amqp_url) as connection:
        return connection.default_channel.queue_declare(queue=queue, passive=True).message_count


def test_a_dead_letter_is_a_finding_with_its_error_until_it_is_replayed_or_discarded(db_url, books, declared):
    dead_letter(declared, b'{"type": "complaint.received"}', "poison-1")
    dead_letter(declared, b'{"type": "complaint.received"}', "poison-2")
    out = io.StringIO()
    assert audit_command(db_url, declared, 60, 60, as_json=True, out=out) == 1
    found = json.loads(out.getvalue())
    assert found["clean"] is False and found["counts"]["dead_letters"] == 2
    assert [
        (item["check"], item["subject"], item["data"]["message_id"], item["data"]["error_type"])
        for item in found["findings"]
    ] == [("dead_letter", "routing.complaints.dead", f"poison-{n}", "KeyError") for n in (1, 2)]
    assert "KeyError: 'floor'" in found["findings"][0]["detail"]
    assert messages(declared, "routing.complaints.dead") == 2  # reading them took nothing away

    assert dead_letter_command(declared, "discard", "routing.complaints.dead", "poison-1", "a test's") == 0
    assert dead_letter_command(declared, "replay", "routing.complaints.dead", "poison-2", None) == 0
    assert dead_letter_command(declared, "replay", "routing.complaints.dead", "poison-3", None) == 1
    assert messages(declared, "routing.complaints.dead") == 0
    assert messages(declared, "routing.complaints") == 1  # replayed where it failed, afresh
    with Connection(declared) as connection:
        replayed = connection.SimpleQueue("routing.complaints").get(timeout=5)
        assert replayed.properties["message_id"] == "poison-2" and "x-retries" not in replayed.headers
        replayed.ack()
    summary = io.StringIO()
    assert audit_command(db_url, declared, 60, 60, as_json=False, out=summary) == 0
    assert "clean" in summary.getvalue()


def test_a_dead_letter_nested_thousands_of_levels_deep_is_reported_and_can_be_discarded(
    db_url, books, declared
):
    """A sender's raw body, with no message id and no type: the audit reads its type from the body."""
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    with Connection(declared) as connection:
        Producer(connection.default_channel).publish(
            deep,
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key="reporting.events",
            content_type="application/json",
            content_encoding="utf-8",
            headers={
                "x-error": "cannot decode message: JSON nested too deep",
                "x-error-type": "DecodeError",
                "x-failed-queue": "reporting.events",
            },
        )
    out = io.StringIO()

    assert audit_command(db_url, declared, 60, 60, as_json=True, out=out) == 1  # findings, not a crash
    [finding] = json.loads(out.getvalue())["findings"]
    assert (finding["check"], finding["subject"], finding["data"]["type"]) == (
        "dead_letter",
        "reporting.events.dead",
        None,
    )
    assert "nested too deep" in finding["detail"] and finding["data"]["body"] == deep[:2000].decode()
    summary = io.StringIO()
    assert audit_command(db_url, declared, 60, 60, as_json=False, out=summary) == 1
    assert "dead_letter (1)" in summary.getvalue()

    message_id = finding["data"]["message_id"]
    assert dead_letter_command(declared, "discard", "reporting.events.dead", message_id, "sent by hand") == 0
    assert messages(declared, "reporting.events.dead") == 0
    assert audit_command(db_url, declared, 60, 60, as_json=False, out=io.StringIO()) == 0


def test_a_server_that_does_not_answer_is_exit_code_2_with_a_clear_message(db_url, declared, capsys):
    nowhere = free_port()
    assert audit_command(f"postgresql://postgres@127.0.0.1:{nowhere}/mall", None, 60, 60, False) == 2
    assert f"cannot reach PostgreSQL at 127.0.0.1:{nowhere}/mall" in capsys.readouterr().err
    assert audit_command(db_url, f"amqp://guest:secret@127.0.0.1:{nowhere}/x", 60, 60, False) == 2
    err = capsys.readouterr().err
    assert f"cannot reach RabbitMQ at 127.0.0.1:{nowhere}/x" in err and "secret" not in err


def test_a_broker_that_refuses_the_audit_is_exit_code_2_not_findings(db_url, declared, capsys):
    """A wrong password (ACCESS_REFUSED) or a vhost it may not use (NOT_ALLOWED): nothing was
    checked, which a monitor must not read as findings in the books."""
    parts = urlsplit(declared)
    wrong_password = urlunsplit(
        parts._replace(netloc=f"{parts.username}:wrong@{parts.hostname}:{parts.port or 5672}")
    )
    no_such_vhost = urlunsplit(parts._replace(path="/no_such_vhost_for_the_audit"))

    assert audit_command(db_url, wrong_password, 60, 60, False) == 2
    assert "cannot reach RabbitMQ" in capsys.readouterr().err
    assert audit_command(db_url, no_such_vhost, 60, 60, False) == 2
    assert "nothing was checked" in capsys.readouterr().err


def test_a_dead_letter_without_a_message_id_is_named_by_the_id_its_body_carries(
    db_url, books, declared, capsys
):
    """A sender published with no message id: the audit names it by a
    digest, the operator copies the id they see in its body; either takes it."""
    with Connection(declared) as connection:
        Producer(connection.default_channel).publish(
            b'{"id": "c6b2d9e4-body-id", "data": {}}',
            exchange=DEAD_LETTER_EXCHANGE,
            routing_key="routing.complaints",
            content_type="application/json",
            headers={"x-error": "KeyError: 'number'", "x-failed-queue": "routing.complaints"},
        )

    assert dead_letter_command(declared, "discard", "routing.complaints.dead", "c6b2d9e4-body-id", "x") == 0
    assert "(no type)" in capsys.readouterr().out
    assert messages(declared, "routing.complaints.dead") == 0


def test_one_poison_event_is_discarded_from_every_dead_letter_queue_at_once_and_a_queue_replayed_whole(
    db_url, books, declared, capsys
):
    """The same event dead-lettered by three consumers lies in three queues under one id: one command
    clears it; after a fix, one command replays a queue."""
    poison = b'{"type": "complaint.received"}'
    for queue in ("intake.events", "notify.events", "reporting.events"):
        dead_letter(declared, poison, "poison-event", queue=queue)
    dead_letter(declared, poison, "fixed-1")
    dead_letter(declared, poison, "fixed-2")

    discarded = dead_letter_command(
        declared, "discard", "all", "poison-event", "a bad event, fixed at its source"
    )
    said = capsys.readouterr().out
    replayed = dead_letter_command(declared, "replay", "routing.complaints.dead", "all", None)
    again = dead_letter_command(declared, "replay", "all", "poison-event", None)

    assert (discarded, replayed, again) == (0, 0, 1)
    assert said.count("discarded poison-event") == 3 and "from notify.events.dead" in said
    assert [
        messages(declared, f"{name}.dead") for name in ("intake.events", "notify.events", "reporting.events")
    ] == [0, 0, 0]
    assert (
        messages(declared, "routing.complaints.dead") == 0 and messages(declared, "routing.complaints") == 2
    )
