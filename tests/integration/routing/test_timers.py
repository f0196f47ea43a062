"""Timers, fired by moving the clock: boundary escalation, waits, exactly once."""

from __future__ import annotations

from datetime import timedelta

import psycopg

from tests.integration.routing.conftest import deploy, open_tasks, task_id


def test_a_handler_who_does_not_act_in_time_is_escalated_once(routing, start, clock):
    deploy(routing)
    case = start()
    scheduler = routing.scheduler()

    clock.advance(timedelta(hours=23, minutes=59))
    early = scheduler.tick()
    clock.advance(timedelta(minutes=2))
    fired = scheduler.tick()
    again = scheduler.tick()

    assert (early, fired, again) == (0, 1, 0)
    assert open_tasks(routing, case) == ["handle_ops"]
    with routing.uow() as uow:
        kinds = [entry["kind"] for entry in uow.cases.timeline(case)]
    assert kinds.count("task_cancelled") == 1 and kinds[-1] == "task_created"


def test_a_timer_due_while_no_worker_ran_fires_at_the_next_start(routing, start, clock):
    deploy(routing)
    case = start()
    clock.advance(timedelta(days=3))  # every worker was down meanwhile

    assert routing.scheduler().tick() == 1
    assert open_tasks(routing, case) == ["handle_ops"]


def test_the_callback_waits_for_the_policy_delay_after_the_reply(routing, start, clock, api, staff):
    deploy(routing)
    case = start()
    api.post(
        f"/tasks/{task_id(routing, case, 'handle_floor')}/complete",
        json={"data": {"outcome": "resolved"}},
        headers=staff("floor_supervisor", floors=["3F"]),
    )
    replied = api.post(
        f"/tasks/{task_id(routing, case, 'reply')}/complete",
        json={"data": {"reply_text": "已为您换货"}},
        headers=staff("service_desk"),
    )

    assert replied.status_code == 200, replied.json
    waiting = api.get(f"/cases/{case}", headers=staff("service_desk")).json
    clock.advance(timedelta(hours=24))
    routing.scheduler().tick()

    assert waiting["current_elements"] == ["wait_callback"] and waiting["open_tasks"] == []
    assert waiting["next_due_at"] == "2026-11-23T02:00:00+00:00"
    assert open_tasks(routing, case) == ["callback"]


def test_two_workers_ticking_at_once_fire_a_due_timer_once(routing, start, clock, settings):
    from concurrent.futures import ThreadPoolExecutor

    from services.routing.bootstrap import bootstrap

    deploy(routing)
    cases = [start(number=f"TS-20261122-{n:04d}") for n in range(1, 21)]
    other = bootstrap(settings, clock=clock)  # a second worker: its own pool and scheduler
    other.pool.open(wait=True)
    clock.advance(timedelta(days=2))
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            taken = list(pool.map(lambda worker: worker.scheduler().tick(), [routing, other]))
    finally:
        other.pool.close()

    assert sum(taken) == 20
    assert all(open_tasks(routing, case) == ["handle_ops"] for case in cases)
    with routing.uow() as uow:
        cancelled = uow.conn.execute(
            "SELECT count(*) AS n FROM routing.timeline WHERE kind = 'task_cancelled'"
        )
        assert cancelled.fetchone()["n"] == 20


def test_completions_racing_escalation_timers_leave_each_case_on_exactly_one_path(
    routing, start, clock, settings
):
    from concurrent.futures import ThreadPoolExecutor

    from services.common.errors import Conflict
    from services.routing.bootstrap import bootstrap
    from services.routing.domain.commands import CompleteTask

    deploy(routing)
    cases = [start(number=f"TS-20261122-{n:04d}") for n in range(1, 31)]
    tasks = [task_id(routing, case, "handle_floor") for case in cases]
    other = bootstrap(settings, clock=clock)
    other.pool.open(wait=True)
    clock.advance(timedelta(days=2))  # every escalation timer is due

    def complete_all() -> list[str]:
        outcomes = []
        for task in tasks:
            command = CompleteTask(task, {"outcome": "resolved"}, "zhang", frozenset({"floor_supervisor"}))
            try:
                other.bus.handle(command)
                outcomes.append("completed")
            except Conflict:
                outcomes.append("too late")  # the timer escalated it first
        return outcomes

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            completing = pool.submit(complete_all)
            escalating = pool.submit(lambda: sum(routing.scheduler().tick() for _ in range(3)))
            outcomes, _ = completing.result(), escalating.result()
    finally:
        other.pool.close()

    paths = [open_tasks(routing, case) for case in cases]
    assert all(path in (["reply"], ["handle_ops"]) for path in paths)
    assert outcomes.count("completed") == paths.count(["reply"])


def test_a_scheduler_round_with_nothing_due_is_one_statement_outside_a_transaction(
    routing, start, clock, monkeypatch
):
    deploy(routing)
    case = start()
    sent = []
    execute = psycopg.Cursor.execute

    def recorded(cursor, query, params=None, **kwargs):
        sent.append(cursor.connection.autocommit)
        return execute(cursor, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", recorded)
    quiet = routing.scheduler().tick()
    asked, sent[:] = list(sent), []
    clock.advance(timedelta(days=3))
    fired = routing.scheduler().tick()
    monkeypatch.undo()

    assert quiet == 0 and asked == [True]  # asked alone: no BEGIN, no COMMIT
    assert fired == 1 and sent[0] is True and not all(sent)  # then the due case in a transaction
    assert open_tasks(routing, case) == ["handle_ops"]
