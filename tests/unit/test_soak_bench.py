"""The soak benchmark's own logic (bench/soak*.py): what its staff submit
passes routing's form check for every task of the mall's diagram, its complaints pass intake's
schema, and its verdicts on memory, backlogs and rates say what bench/README.md says they do."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench import soak, soak_clients, soak_system, soak_verdicts, soak_watch
from services.intake.entrypoints.schemas import ComplaintIn
from services.routing.domain.form_checks import check_form
from services.routing.domain.model import QUEUES
from services.routing.engine.parser import parse_diagram

BPMN = Path(__file__).resolve().parents[2] / "bpmn"


def test_the_staff_fill_every_form_of_the_diagram_validly_and_choose_to_resolve():
    diagram = parse_diagram(
        (BPMN / "complaint.bpmn").read_bytes(),
        {"triage.dmn": (BPMN / "triage.dmn").read_bytes()},
        set(QUEUES),
    )
    assert len(diagram.user_tasks) >= 10
    for element, task in diagram.user_tasks.items():
        form = [asdict(field) for field in task.form]
        data = soak_clients.form_data(form)
        _clean, errors = check_form(form, data)
        assert errors == {}, element
        if any(field["id"] == "outcome" and field["type"] == "enum" for field in form):
            assert data["outcome"] == "resolved", element


def test_every_complaint_the_desk_sends_is_valid_and_each_customer_has_a_phone_of_their_own():
    reference = soak_clients._reference()
    bodies = [soak_clients.complaint_body(number, reference) for number in range(40)]
    for body in bodies:
        assert ComplaintIn().validate(body) == {}, body
    assert len({body["customer"]["phone"] for body in bodies}) == len(bodies)
    assert {body["category"] for body in bodies} == {"merchant_service", "facility", "quality"}


def test_memory_is_flat_when_it_grows_less_than_a_few_mib_over_the_second_half():
    steady = [(t, 100.0 + (t % 2) * 0.5) for t in range(0, 600, 5)]
    leaking = [(t, 100.0 + t / 10) for t in range(0, 600, 5)]  # 6 MiB a minute
    assert soak_verdicts.memory_verdict(steady)[2]
    per_minute, growth, flat = soak_verdicts.memory_verdict(leaking)
    assert per_minute == pytest.approx(6.0) and growth == pytest.approx(29.5, abs=0.5) and not flat


def test_a_backlog_grows_when_it_rose_by_more_than_two_seconds_of_complaints_over_the_second_half():
    assert not soak_verdicts.backlog_grows([(t, 50.0) for t in range(0, 120, 5)], rate=20)[1]
    assert soak_verdicts.backlog_grows([(t, 2.0 * t) for t in range(0, 120, 5)], rate=20) == (
        pytest.approx(2.0),
        True,
    )
    assert soak_verdicts.slope([]) == 0.0 and soak_verdicts.slope([(1, 1)]) == 0.0


def test_find_max_steps_the_rate_up_by_the_factor_until_the_last_rate():
    args = soak.parse(
        [
            "--find-max",
            "--start-rate",
            "10",
            "--step-factor",
            "2",
            "--max-rate",
            "50",
            "--step-minutes",
            "1.5",
        ]
    )
    assert soak.phases_of(args) == [(10, 90), (20, 90), (40, 90)]
    assert soak.phases_of(soak.parse(["--rate", "7", "--minutes", "2"])) == [(7, 120)]


def test_each_member_of_staff_takes_their_own_share_and_a_colleagues_task_only_when_it_waited():
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    fresh, old = (now - timedelta(seconds=1)).isoformat(), (now - timedelta(seconds=10)).isoformat()
    tasks = [{"id": f"00000000-0000-4000-8000-{n:012x}", "created_at": fresh} for n in range(12)]
    shares = [{task["id"] for task in soak_clients.share_first(tasks, n, 3, now)} for n in range(3)]
    assert [len(share) for share in shares] == [4, 4, 4] and set.union(*shares) == {t["id"] for t in tasks}
    waited = {**tasks[1], "created_at": old}
    assert waited in soak_clients.share_first([tasks[0], waited], 0, 3, now)


def test_queue_depths_come_from_the_management_api_of_the_vhost_when_it_answers():
    asked = []

    class Management(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append((self.path, self.headers["Authorization"]))
            body = json.dumps(
                [{"name": "reporting.events", "messages_ready": 7}, {"name": "tasks.x"}]
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Management)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        depths = soak_watch.QueueDepths(
            "amqp://guest:guest@127.0.0.1:5672/mall_soak_1", f"http://127.0.0.1:{server.server_port}"
        )
        assert depths.use_api
        assert depths.depths([]) == {"reporting.events": 7, "tasks.x": 0}
    finally:
        server.shutdown()
    assert asked[-1][0].startswith("/api/queues/mall_soak_1?") and asked[-1][1].startswith("Basic ")


def test_a_find_max_step_is_judged_on_its_second_half_and_fails_on_latency_lag_or_missing_tasks():
    def step(latencies: list[float | None], accepted: int | None = None) -> dict:
        books = soak_system.Books()
        for n, latency in enumerate(latencies):
            cid = f"c{n}" if accepted is None or n < accepted else None
            books.sends[n] = (0.0, 0.0, 0.0, "201" if cid else "503", cid)
            if cid and latency is not None:
                books.latency[cid] = latency
        samples = [{"phase": "p", "t": t, "open_tasks": 5} for t in range(0, 60, 5)]
        fake = SimpleNamespace(
            books=books, samples=samples, args=SimpleNamespace(p99_ms=500.0), backlog=lambda sample: 10
        )
        return soak_verdicts.step_verdict(fake, 2.0, "p", range(len(latencies)), 10.0)

    warming_up = step([900.0] * 10 + [100.0] * 10)
    assert warming_up["sustained"] and warming_up["p99_ms"] == 100 and warming_up["p99_ms_whole_step"] == 900
    assert "p99 900 ms" in step([100.0] * 10 + [900.0] * 10)["why"]
    assert "without a first task" in step([100.0] * 19 + [None])["why"]
    assert "accepted 1.5/s" in step([100.0] * 20, accepted=15)["why"]
