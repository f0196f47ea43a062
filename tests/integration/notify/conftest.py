"""Notify in-process on a test database of its own, with a real SMTP server (aiosmtpd) and a local
HTTP server for the SMS gateway and the webhooks. Events are handed to notify's consumer the way
the broker would deliver them (through its inbox); tests/integration/notify/test_broker.py uses
the real RabbitMQ."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import COMPLAINT_CORRECTED, COMPLAINT_RECEIVED, NOTIFICATION_REQUESTED
from services.common.identity.users import UserStore
from services.notify.bootstrap import Notify, bootstrap
from services.notify.service_layer.handlers import EVENT_HANDLERS
from tests.support.mailserver import HttpReceiver, MailServer

WEBHOOK_SECRET = "webhook-secret-0123456789"
STAFF = [
    # username, name, roles, floors, departments
    ("desk", "服务台 李静", ["service_desk"], [], []),
    ("floor3", "三楼楼管 王强", ["floor_supervisor"], ["3F"], []),
    ("floor2", "二楼楼管 张伟", ["floor_supervisor"], ["2F"], []),
    ("cleaning", "保洁部经理", ["department_manager"], [], ["cleaning"]),
    ("ops", "营运部经理 陈敏", ["operations_manager"], [], []),
    ("store", "店总 孙芳", ["store_manager"], [], []),
]
MERCHANT = {
    "code": "M-3F-001",
    "shop_name": "优品服饰",
    "floor": "3F",
    "unit": "301",
    "person_in_charge": "李经理",
    "phone": "13800000001",
}


@pytest.fixture
def mail() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def notify_settings(settings, mail, gateway):
    notify = replace(
        settings.notify,
        sms_url=f"{gateway.url}/sms/send",
        sms_key="gateway-key",
        sms_templates=(("acknowledgement", "SMS_100"), ("*", "SMS_199")),
        webhooks=(
            ("operations_manager", f"{gateway.url}/hooks/ops"),
            ("cleaning", f"{gateway.url}/hooks/cleaning"),
        ),
        webhook_secret=WEBHOOK_SECRET,
        quiet_hours="",
        smtp_from="complaints@galaxy.example",
    )
    return replace(settings, smtp_url=f"smtp://127.0.0.1:{mail.port}", notify=notify)


@pytest.fixture
def notify(notify_settings, clock) -> Iterator[Notify]:
    runtime = bootstrap(notify_settings, clock=clock)
    runtime.pool.open(wait=True)
    users = UserStore(runtime.pool)
    for username, name, roles, floors, departments in STAFF:
        users.create("demo", username, roles, floors, departments, display_name=name)
    yield runtime
    runtime.pool.close()


@pytest.fixture
def deliver(notify):
    """Hand an event to notify's consumer as the broker would (inbox, one transaction); True if applied."""
    consumer = notify.consumer()

    def handle(envelope: Envelope) -> bool:
        return consumer.apply(envelope, consumer.handlers[envelope.type])

    assert set(consumer.handlers) == set(EVENT_HANDLERS)
    return handle


@pytest.fixture
def worker(notify):
    """One delivery worker with its own channels; `worker.tick()` sends what is due."""
    running = notify.worker()
    yield running
    for channel in running.channels.values():
        with contextlib.suppress(Exception):
            channel.close()


def complaint_received(
    complaint_id: str | None = None, number: str = "TS-20261122-0001", **changes
) -> Envelope:
    """complaint.received as intake publishes it: a phone complaint about a 3F shop by default."""
    complaint_id = complaint_id or str(uuid.uuid4())
    customer = {
        "name": "王女士",
        "phone": "13912345678",
        "email": None,
        "address": None,
        "anonymous": False,
        "preferred_reply_channel": "phone",
        "language": "zh-CN",
        "contact_opt_out": False,
        **changes.pop("customer", {}),
    }
    payload = {
        "id": complaint_id,
        "number": number,
        "channel": "phone",
        "category": "merchant_service",
        "severity": "normal",
        "major_reasons": [],
        "status": "received",
        "customer": customer,
        "received_at": "2026-11-22T02:00:00+00:00",
        "floor": "3F",
        "merchant": MERCHANT,
        "department": None,
        "description": "店员态度恶劣",
        "promised_reply_date": "2026-11-25",
        "policy": {},
        **changes,
    }
    return Envelope(
        type=COMPLAINT_RECEIVED,
        mall_id="demo",
        complaint_id=complaint_id,
        actor=Actor("desk", "service_desk"),
        occurred_at=datetime(2026, 11, 22, 2, tzinfo=UTC),
        payload=payload,
    )


def complaint_corrected(received: Envelope, changes: dict) -> Envelope:
    """complaint.corrected as intake publishes it: the whole complaint as it is now, and what changed."""
    return replace(
        received,
        type=COMPLAINT_CORRECTED,
        id=str(uuid.uuid4()),
        payload={"complaint": received.payload, "changes": changes},
    )


def requested(
    complaint_id: str,
    kind: str = "acknowledgement",
    to: str = "customer",
    number: str = "TS-20261122-0001",
    **data,
) -> Envelope:
    """notification.requested as routing publishes it."""
    payload = {"kind": kind, "to": to, "number": number, "element_id": "start", "data": data}
    return Envelope(
        type=NOTIFICATION_REQUESTED,
        mall_id="demo",
        complaint_id=complaint_id,
        actor=Actor("routing", "service"),
        occurred_at=datetime(2026, 11, 22, 2, tzinfo=UTC),
        payload=payload,
    )


def deliveries(notify: Notify, complaint_id: str) -> list[dict]:
    with notify.uow() as uow:
        return uow.conn.execute(
            "SELECT * FROM notify.deliveries WHERE complaint_id = %s ORDER BY created_at, seq",
            (complaint_id,),
        ).fetchall()


def attempts(notify: Notify, delivery_id) -> list[tuple[str, str]]:
    with notify.uow() as uow:
        rows = uow.conn.execute(
            "SELECT outcome, answer FROM notify.attempts WHERE delivery_id = %s ORDER BY id", (delivery_id,)
        ).fetchall()
    return [(row["outcome"], row["answer"]) for row in rows]


def outbox(notify: Notify, routing_key: str) -> list[dict]:
    with notify.uow() as uow:
        rows = uow.conn.execute(
            "SELECT envelope FROM notify.outbox WHERE routing_key = %s ORDER BY created_at", (routing_key,)
        ).fetchall()
    return [row["envelope"]["payload"] for row in rows]
