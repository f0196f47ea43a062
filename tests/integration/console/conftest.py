"""The console in-process with every service, on this test's database; a browser-like client."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kombu import Connection
from werkzeug.test import Client

from services.notify.adapters.channels import PermanentFailure
from tests.integration.conftest import complaint
from tests.support.objectstore import ACCESS_KEY, SECRET_KEY
from tests.support.pump import Pump
from tests.support.system import DEMO_PASSWORD, csrf_token, in_process_system


@pytest.fixture
def system(settings, clock, tmp_path, s3_server):
    """Every service in-process; attachments in a bucket of the test's own on the S3 server."""
    objects = {
        "object_store_url": s3_server.url,
        "object_store_bucket": s3_server.new_store().bucket,
        "object_store_access_key": ACCESS_KEY,
        "object_store_secret_key": SECRET_KEY,
    }
    with in_process_system(
        settings, clock, tmp_path, secure_cookies=False, login_rate_limit="1000 per minute", **objects
    ) as (
        runtimes,
        wsgi,
    ):
        yield runtimes, wsgi


@pytest.fixture
def browser(system):
    """A new cookie-keeping client per call: browser() then .login("desk")."""

    def new() -> ConsoleClient:
        return ConsoleClient(system[1])

    return new


class ConsoleClient(Client):
    def form(self, path: str, data: dict, page: str | None = None):
        """POST a form with the CSRF token of `page` (default: the login page)."""
        html = self.get(page or "/console/login").get_data(as_text=True)
        return self.post(path, data={**data, "csrf_token": csrf_token(html)})

    def login(self, username: str, password: str = DEMO_PASSWORD):
        return self.form("/console/login", {"username": username, "password": password})


@pytest.fixture
def mall(system):
    """The services talking: `settle()` moves every event to its consumers and sends notify's deliveries
    (what the relays, the broker and the delivery workers do), `record()` posts a complaint as the desk."""
    runtimes, wsgi = system
    names = ("intake", "routing", "reporting", "notify")
    consumers = [runtimes[name].consumer(Connection("memory://")) for name in names]
    pump = Pump(runtimes["intake"].pool, list(names), consumers)
    channels = runtimes["notify"].channels()
    worker = runtimes["notify"].worker(channels)
    api = Client(wsgi)

    def settle() -> None:
        while pump.run() + worker.tick():
            pass

    def bounce_sms() -> None:
        """From now on every SMS bounces for good, as a gateway answers for a number that does not exist."""
        channels["sms"] = _Bouncing()

    def staff(username: str) -> dict:
        """The bearer token of a demo person, as its user record stands."""
        return {"Authorization": f"Bearer {runtimes['console'].tokens.issue(_user(runtimes, username))}"}

    def record(**changes) -> dict:
        answer = api.post("/intake/complaints", json=complaint(**changes), headers=staff("desk"))
        assert answer.status_code == 201, answer.json
        settle()
        return answer.json

    return SimpleNamespace(
        api=api, settle=settle, staff=staff, record=record, runtimes=runtimes, bounce_sms=bounce_sms
    )


class _Bouncing:
    def send(self, message) -> str:
        raise PermanentFailure("550 no such subscriber")

    def close(self) -> None:
        pass


def _user(runtimes, username: str):
    return runtimes["console"].users.get(runtimes["console"].settings.mall_id, username).identity()
