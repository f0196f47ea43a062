"""Browser tests: Debian's Chromium driven by Playwright against every service in this process.

The services run in-process (as `run` builds them) on this test's PostgreSQL database and
RabbitMQ vhost, with their background workers, behind waitress on a free port; time is a
MovableClock, so a callback window passes by moving it. Screenshots of each page are saved under
artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import shutil
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright
from waitress.server import create_server

from services.runner.allinone import announce_places
from services.runner.background import Background
from services.runner.registry import spec
from tests.conftest import bearer
from tests.integration.conftest import complaint
from tests.support.objectstore import ACCESS_KEY, SECRET_KEY
from tests.support.processes import free_port
from tests.support.system import DEMO_PASSWORD, in_process_system

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling home, which a closed network makes slow.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: ./dev test installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def mall(settings, clock, tmp_path, amqp_url, s3_server):
    """The whole system serving HTTP, attachments in a bucket of its own on the S3 server: yields its base URL."""
    # Sessions outlive the day the test moves the clock by (the callback window), as a shift would not.
    long_sessions = {"session_idle": timedelta(days=3), "session_lifetime": timedelta(days=3)}
    store = s3_server.new_store()
    objects = {
        "object_store_url": s3_server.url,
        "object_store_bucket": store.bucket,
        "object_store_access_key": ACCESS_KEY,
        "object_store_secret_key": SECRET_KEY,
    }
    with in_process_system(settings, clock, tmp_path, amqp_url=amqp_url, **long_sessions, **objects) as (
        runtimes,
        wsgi,
    ):
        background = [Background.of(spec(name), runtime).start() for name, runtime in runtimes.items()]
        announce_places(settings, runtimes, background)  # once every queue is bound: reporting names places
        port = free_port()
        server = create_server(wsgi, host="127.0.0.1", port=port, threads=8)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            for workers in background:
                workers.stop()


@pytest.fixture
def person(chromium, mall, request):
    """person("desk") → a logged-in page of its own (own cookies), zh-CN, 1366×900."""
    contexts = []

    def open_as(username: str):
        context = chromium.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
        context.set_default_timeout(60_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{mall}/")
        page.fill("#username", username)
        page.fill("#password", "demo-password-for-tests")
        page.click("#login")
        page.wait_for_url(lambda url: "/console/login" not in url)  # each lands on its own first page
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def phone(chromium, mall):
    """phone(username) → a logged-in page on a phone: 390×844, touch, zh-CN."""
    contexts = []

    def open_as(username: str):
        context = chromium.new_context(
            locale="zh-CN",
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
        )
        context.set_default_timeout(60_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{mall}/")
        page.fill("#username", username)
        page.fill("#password", DEMO_PASSWORD)
        page.tap("#login")
        page.wait_for_url(lambda url: "/console/login" not in url)
        return page

    yield open_as
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def desk_api(mall, tokens):
    """record(**changes) → a complaint posted by the desk over intake's API (what the desk form does)."""

    def record(**changes) -> dict:
        headers = bearer(tokens, "service_desk", subject="desk")
        answer = httpx.post(
            f"{mall}/intake/complaints", json=complaint(**changes), headers=headers, timeout=60
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    return record


def reload_until(page, url: str, selector: str, attempts: int = 120, explain=None) -> None:
    """Open `url` again until `selector` is on it (the services work in the background); if it never
    comes, the failure says what `explain()` found (where the work stopped)."""
    for _ in range(attempts):
        page.goto(url)
        if page.locator(selector).count():
            return
        page.wait_for_timeout(500)
    found = f"\n{explain()}" if explain else ""
    raise AssertionError(f"{selector} never appeared on {url}{found}")


def where_it_stopped(database_url: str, number: str) -> str:
    """The complaint's case, timeline, notification requests and deliveries, for a failure message."""
    import psycopg

    queries = {
        "case": "SELECT status, next_due_at, updated_at FROM routing.cases WHERE number = %(n)s",
        "timeline": "SELECT t.at, t.kind, t.element_id FROM routing.timeline t JOIN routing.cases c"
        " ON c.id = t.case_id WHERE c.number = %(n)s ORDER BY t.id",
        "requests": "SELECT kind, recipient, state, requested_at FROM notify.requests WHERE number = %(n)s"
        " ORDER BY seq",
        "deliveries": "SELECT d.kind, d.channel, d.address, d.state FROM notify.deliveries d"
        " JOIN notify.requests r ON r.id = d.request_id WHERE r.number = %(n)s",
    }
    with psycopg.connect(database_url) as conn:
        return "\n".join(
            f"{name}: {conn.execute(query, {'n': number}).fetchall()}" for name, query in queries.items()
        )
