"""Intake under gunicorn with several worker processes: /metrics counts every worker's requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import SECRET
from tests.integration.conftest import complaint
from tests.support.deployment import sample
from tests.support.processes import SERVER_VARIABLES, answers, free_port, run
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

GUNICORN = Path(sys.executable).parent / "gunicorn"


@pytest.fixture
def gunicorn(tmp_path, db_url):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"")  # left by an earlier run: must not be summed in
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    env.update(
        {
            "DATABASE_URL": db_url,
            "AUTH_SECRET": SECRET,
            "MIGRATE_ON_START": "false",
            "PROMETHEUS_MULTIPROC_DIR": str(folder),
            "LOG_LEVEL": "WARNING",
        }
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "-c",
            "python:services.common.observability.gunicorn",
            "--workers",
            "3",
            "--bind",
            f"127.0.0.1:{port}",
            "services.intake.wsgi:create_wsgi_app()",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(lambda: process.poll() is not None or answers(f"{base}/readyz"), timeout=90)
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        yield base, env
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_every_scrape_of_intake_under_gunicorn_counts_the_requests_of_all_its_workers(gunicorn):
    base, env = gunicorn
    assert run(["seed"], env).returncode == 0
    assert run(["user", "create", "desk", "--role", "service_desk"], env).returncode == 0
    desk = {"Authorization": f"Bearer {run(['token', 'user', 'desk'], env).stdout.strip()}"}

    for _ in range(9):
        response = requests.post(f"{base}/complaints", json=complaint(), headers=desk, timeout=30)
        assert response.status_code == 201, response.text
    scrapes = [requests.get(f"{base}/metrics", timeout=10).text for _ in range(6)]

    labels = {"service": "intake", "method": "POST", "route": "/complaints", "status": "201"}
    assert [sample(text, "mall_http_request_duration_seconds_count", **labels) for text in scrapes] == [9] * 6
    # nine complaints and the seed's announcement of the mall's floors and departments, unpublished
    assert [sample(text, "mall_outbox_backlog", service="intake") for text in scrapes] == [10] * 6
