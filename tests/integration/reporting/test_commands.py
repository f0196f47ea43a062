"""The retention job as a worker's scheduled loop and as commands, and the rebuild command."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from datetime import UTC, datetime, timedelta

from tests.integration.reporting.conftest import table
from tests.integration.test_migrations_and_cli import run_cli
from tests.support.stories import Round, Story, events
from tests.support.waiting import eventually

LONG_AGO = datetime(2024, 3, 1, 2, tzinfo=UTC)  # closed more than two years before this machine's today


def closed_story(at: datetime) -> Story:
    return Story(
        received_at=at,
        rounds=[Round(at + timedelta(hours=5), at + timedelta(hours=6), at + timedelta(hours=30))],
        closed_at=at + timedelta(hours=31),
    )


def outbox(reporting, routing_key: str) -> list[dict]:
    with reporting.pool.connection() as conn:
        return conn.execute(
            "SELECT envelope FROM reporting.outbox WHERE routing_key = %s", (routing_key,)
        ).fetchall()


def test_a_reporting_worker_runs_the_retention_job_when_it_starts_and_then_on_schedule(
    feed, reporting, clock
):
    old = closed_story(datetime(2026, 1, 5, tzinfo=UTC))
    feed(events(old))
    clock.set(datetime(2028, 2, 1, tzinfo=UTC))
    scheduler = reporting.retention_scheduler()
    thread = threading.Thread(target=scheduler.run, daemon=True)
    thread.start()
    try:
        [request] = eventually(lambda: outbox(reporting, "retention.erasure_requested"), timeout=30)
    finally:
        scheduler.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert request["envelope"]["payload"] == {"complaint_ids": [old.id], "closed_before": "2026-02-01"}
    assert request["envelope"]["complaint_id"] is None
    [case] = table(reporting, "cases", "complaint_id")
    assert case["erased_at"] is not None and case["customer_phone"] is None and case["category"] == "price"


def test_an_event_arriving_after_retention_erased_its_case_is_kept_without_personal_data(
    feed, reporting, clock
):
    old = closed_story(datetime(2026, 1, 5, tzinfo=UTC))
    stream = events(old)
    feed(stream)
    clock.set(datetime(2028, 2, 1, tzinfo=UTC))
    assert reporting.retention_scheduler().run_once() == "erased"

    late = dataclasses.replace(stream[0], id=str(uuid.uuid4()))  # complaint.received, sent again
    assert feed([late]) == 1

    with reporting.pool.connection() as conn:
        kept = conn.execute("SELECT envelope FROM reporting.events WHERE id = %s", (late.id,)).fetchone()
    assert old.customer["phone"] not in str(kept["envelope"]) and old.customer["name"] not in str(kept)
    [case] = table(reporting, "cases", "complaint_id")
    assert case["erased_at"] is not None and case["customer_phone"] is None and case["category"] == "price"
    assert feed([late]) == 0  # redelivered: the inbox knows it


def test_the_retention_command_lists_in_a_dry_run_and_erases_otherwise(feed, reporting, db_url):
    old, recent = closed_story(LONG_AGO), closed_story(datetime.now(UTC) - timedelta(days=30))
    feed(events(old) + events(recent))
    env = {
        "DATABASE_URL": db_url,
        "AUTH_SECRET": "",
    }  # it checks no token: the services' secret is not needed

    dry = run_cli("retention", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would erase 1" in dry.stdout and old.number in dry.stdout and recent.number not in dry.stdout
    assert outbox(reporting, "retention.erasure_requested") == []

    done = run_cli("retention", env=env)
    assert done.returncode == 0, done.stderr
    assert "erased and asked every service to erase 1" in done.stdout
    assert [
        row["envelope"]["payload"]["complaint_ids"]
        for row in outbox(reporting, "retention.erasure_requested")
    ] == [[old.id]]


def test_the_rebuild_command_derives_every_case_again(feed, reporting, db_url):
    feed(events(closed_story(LONG_AGO)))
    with reporting.pool.connection() as conn:
        conn.execute("UPDATE reporting.cases SET category = 'wrong'")

    result = run_cli("rebuild", env={"DATABASE_URL": db_url, "AUTH_SECRET": ""})

    assert result.returncode == 0, result.stderr
    assert "rebuilt: 1 case(s)" in result.stdout
    assert [row["category"] for row in table(reporting, "cases", "complaint_id")] == ["price"]
