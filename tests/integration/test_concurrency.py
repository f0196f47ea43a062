"""Concurrent requests through a real WSGI server against the real PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import requests
from waitress.server import create_server

from services.intake.app import create_app
from services.intake.bootstrap import bootstrap
from services.intake.seed import load_reference
from tests.conftest import MALL
from tests.integration.conftest import complaint


@pytest.fixture
def server_url(settings, clock):
    runtime = bootstrap(replace(settings, db_pool_max=16), clock=clock)
    runtime.pool.open(wait=True)
    load_reference(runtime.pool, MALL)
    server = create_server(create_app(runtime), host="127.0.0.1", port=0, threads=24)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}", runtime
    server.close()
    thread.join(timeout=10)
    runtime.pool.close()


def test_200_concurrent_posts_produce_200_distinct_gapless_numbers(server_url, desk):
    url, runtime = server_url

    def post(_):
        # Keep the answer, not the Response: each open one holds a socket of the server's.
        with requests.post(f"{url}/complaints", json=complaint(), headers=desk, timeout=30) as response:
            return response.status_code, response.json()

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(post, range(200)))

    assert [status for status, _ in answers] == [201] * 200
    numbers = sorted(body["number"] for _, body in answers)
    assert numbers == [f"TS-20261122-{n:04d}" for n in range(1, 201)]
    with runtime.pool.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM intake.outbox").fetchone()["n"] == 200


def test_concurrent_retries_with_one_idempotency_key_record_one_complaint(server_url, desk):
    url, runtime = server_url
    headers = {**desk, "Idempotency-Key": "one-key-many-retries"}

    def post(_):
        with requests.post(f"{url}/complaints", json=complaint(), headers=headers, timeout=30) as response:
            return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(post, range(20)))

    assert {status for status, _ in answers} == {201}
    assert len({complaint_id for _, complaint_id in answers}) == 1
    with runtime.pool.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM intake.complaints").fetchone()["n"] == 1
