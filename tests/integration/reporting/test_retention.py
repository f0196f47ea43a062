"""Retention: the personal data of cases closed more than two years ago is erased in every service's
schema (intake, routing, notify, reporting), the rest stays, and every figure is unchanged.

Intake, routing, notify and reporting run in-process on one database; a synchronous pump plays the relays and
the broker, so "and then every service heard" is one call.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from kombu import Connection

from services.common.settings import Policy
from services.intake.app import create_app as create_intake_app
from services.reporting.domain.commands import RunRetention
from services.routing.app import create_app as create_routing_app
from tests.conftest import bearer
from tests.integration.conftest import complaint
from tests.integration.routing.conftest import routing  # noqa: F401 — the fixture
from tests.integration.routing.test_complaint_diagram import deploy_mall_diagram
from tests.support.mall import Mall, settle_price_complaint_on_the_floor
from tests.support.pump import Pump

NAME, PHONE, EMAIL, NEW_EMAIL = "王女士", "13912345678", "wang@example.cn", "wang.li@example.cn"
PERSONAL = (NAME, PHONE, EMAIL, NEW_EMAIL)
# Where each service keeps something of a complaint: (table, column naming the complaint).
PLACES = {
    "intake": [
        ("complaints", "id::text"),
        ("complaint_history", "complaint_id::text"),
        ("outbox", "envelope ->> 'complaint_id'"),
    ],
    "routing": [
        ("cases", "id::text"),
        ("timeline", "case_id::text"),
        ("outbox", "envelope ->> 'complaint_id'"),
    ],
    "notify": [
        ("complaints", "id::text"),
        ("requests", "complaint_id::text"),
        ("deliveries", "complaint_id::text"),
    ],
    "reporting": [("cases", "complaint_id"), ("events", "complaint_id")],
}


@pytest.fixture
def mall(intake, routing, notify, reporting, tokens, clock):  # noqa: F811 — routing and notify are imported fixtures
    deploy_mall_diagram(routing)
    consumers = [
        service.consumer(Connection("memory://")) for service in (intake, routing, notify, reporting)
    ]
    pump = Pump(intake.pool, ["intake", "routing", "notify", "reporting"], consumers)
    intake_api, routing_api = (
        create_intake_app(intake).test_client(),
        create_routing_app(routing).test_client(),
    )

    def staff(role: str, **scope) -> dict:
        return bearer(tokens, role, subject=f"{role}-1", **scope)

    def record(closed: bool) -> str:
        body = complaint(
            category="price",
            customer={"name": NAME, "phone": PHONE, "email": EMAIL},
            description=f"{NAME}说店员态度恶劣，请回电{PHONE}或发邮件至{EMAIL}",
        )
        posted = intake_api.post("/complaints", json=body, headers=staff("service_desk"))
        assert posted.status_code == 201, posted.json
        corrected = intake_api.patch(
            f"/complaints/{posted.json['id']}",
            headers=staff("service_desk"),
            json={"reason": "顾客换了邮箱", "customer": {"email": NEW_EMAIL}},
        )
        assert corrected.status_code == 200, corrected.json
        pump.run()
        if closed:
            settle_price_complaint_on_the_floor(driver.case(posted.json["id"]), Policy())
            pump.run()
        return posted.json["id"]

    driver = Mall(intake_api, routing_api, routing, clock, tokens, bearer)
    return SimpleNamespace(
        record=record, pump=pump, routing=routing, routing_api=routing_api, staff=staff, driver=driver
    )


def kept_text(pool, complaint_id: str) -> dict[str, str]:
    """Every row any service keeps of the complaint, as text, by schema."""
    found = {}
    with pool.connection() as conn:
        for schema, places in PLACES.items():
            texts = []
            for table, column in places:
                rows = conn.execute(
                    f"SELECT row_to_json(t)::jsonb::text AS text FROM {schema}.{table} t WHERE {column} = %s",
                    (complaint_id,),
                ).fetchall()
                assert rows, (schema, table)
                texts += [row["text"] for row in rows]
            found[schema] = "\n".join(texts)
    return found


def report(reporting_api, staff) -> dict:
    answer = reporting_api.get("/reports/monthly?month=2026-11", headers=staff("operations_manager")).json
    return {key: value for key, value in answer.items() if key != "generated_at"}


def test_old_closed_cases_lose_their_personal_data_in_every_service_and_the_counts_stay(
    mall, reporting, clock, api
):
    record, pump, routing_api, staff = mall.record, mall.pump, mall.routing_api, mall.staff
    old, still_open = record(closed=True), record(closed=False)
    clock.advance(timedelta(days=731))
    before = report(api, staff)
    assert all(PHONE in text for text in kept_text(reporting.pool, old).values())

    dry = reporting.bus.handle(RunRetention(dry_run=True))
    assert [case["complaint_id"] for case in dry.cases] == [old]
    assert all(PHONE in text for text in kept_text(reporting.pool, old).values())  # a dry run erases nothing

    done = reporting.bus.handle(RunRetention())
    pump.run()

    assert [case["complaint_id"] for case in done.cases] == [old] and done.batches == 1
    for schema, text in kept_text(reporting.pool, old).items():
        assert [item for item in PERSONAL if item in text] == [], schema
        assert "店员态度恶劣" in text or schema in ("routing", "notify"), schema  # the narrative's words stay
    assert all(PHONE in text for text in kept_text(reporting.pool, still_open).values())
    assert report(api, staff) == before
    with reporting.pool.connection() as conn:
        answers = conn.execute(
            "SELECT service FROM reporting.retention_answers WHERE complaint_id = %s ORDER BY service", (old,)
        ).fetchall()
    assert [row["service"] for row in answers] == ["intake", "notify", "routing"]
    assert routing_api.get(f"/cases/{old}", headers=staff("operations_manager")).json["status"] == "completed"
    assert reporting.bus.handle(RunRetention()).cases == []  # asked once only
