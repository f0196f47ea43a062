"""bench/intake.py's raw baseline: Python threads with a psycopg connection each, inserting the rows a
recorded complaint writes, one commit per complaint, and the --diagnose variants.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from psycopg import sql

from bench.common import _percentile
from bench.intake_server import BODY, MALL, CpuMeter, Level, _ms_or_none
from services.common.bus.envelope import Actor, dump_envelope
from services.common.settings import Policy
from services.intake.adapters.rows import COLUMNS, to_row
from services.intake.domain import rules
from services.intake.domain.model import (
    Category,
    Channel,
    Complaint,
    Customer,
    CustomerRequest,
    Merchant,
    ReplyChannel,
)
from services.intake.seed import DEMO_MALL
from services.intake.service_layer.events import complaint_received

# --------------------------------------------------------------------------- raw baseline

RAW_VARIANTS = {
    "rows": "complaints row + outbox row, one commit (the baseline)",
    "rows+notify": "… + NOTIFY intake_outbox (as OutboxWriter.add does)",
    "rows+counter": "… + the day's receipt-number counter upsert first (row locked until commit)",
    "api-sql": "intake's whole transaction: reference check, counter, complaint, outbox, NOTIFY",
}

_INSERT_COMPLAINT = sql.SQL("INSERT INTO intake.complaints ({}) VALUES ({})").format(
    sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
    sql.SQL(", ").join(sql.Placeholder(name) for name in COLUMNS),
)
_INSERT_OUTBOX = "INSERT INTO intake.outbox (id, routing_key, envelope) VALUES (%s, %s, %s)"
_NOTIFY = "NOTIFY intake_outbox"
_NEXT_NUMBER = (
    "INSERT INTO intake.number_counters AS c (mall_id, day, last) VALUES (%s, %s, 1) "
    "ON CONFLICT (mall_id, day) DO UPDATE SET last = c.last + 1 RETURNING last"
)
_REFERENCE_CHECK = (
    "SELECT"
    " EXISTS (SELECT 1 FROM intake.floors WHERE mall_id = %(m)s AND code = %(f)s) AS floor_known,"
    " EXISTS (SELECT 1 FROM intake.departments WHERE mall_id = %(m)s AND code = %(d)s) AS department_known,"
    " (SELECT row_to_json(x) FROM (SELECT code, shop_name, floor, unit, person_in_charge, phone"
    "   FROM intake.merchants WHERE mall_id = %(m)s AND code = %(c)s AND active) x) AS merchant"
)


def _seeded_merchant(code: str) -> Merchant:
    """The merchant as the demo seed has it, as intake copies it into the complaint."""
    merchants = json.loads(DEMO_MALL.read_text(encoding="utf-8"))["merchants"]
    found = next(item for item in merchants if item["code"] == code)
    return Merchant(
        **{
            name: found.get(name)
            for name in ("code", "shop_name", "floor", "unit", "person_in_charge", "phone")
        }
    )


def template_rows() -> tuple[dict, str, str]:
    """The complaints row and outbox envelope intake writes for BODY (built by intake's own code)."""
    now = datetime.now(UTC)
    policy = Policy()
    complaint = Complaint(
        id=str(uuid.uuid4()),
        mall_id=MALL,
        number="TS-00000000-0000",
        channel=Channel.PHONE,
        category=Category.MERCHANT_SERVICE,
        customer=Customer(name="王女士", phone="13912345678", preferred_reply_channel=ReplyChannel.PHONE),
        description=BODY["description"],
        received_at=now,
        received_by="bench",
        promised_reply_date=(now + policy.first_reply_after).date(),
        floor="3F",
        merchant=_seeded_merchant(BODY["merchant_code"]),
        customer_request=(CustomerRequest.EXCHANGE,),
        amount=Decimal("399.00"),
    )
    complaint = rules.with_severity(complaint, policy)
    envelope = complaint_received(complaint, policy, Actor(id="bench", role="service_desk"), now)
    return to_row(complaint), envelope.type, json.dumps(dump_envelope(envelope))


def _raw_worker(
    url: str,
    variant: str,
    tag: str,
    ready: threading.Barrier,
    stop: threading.Event,
    out: list,
) -> None:
    row, routing_key, envelope = template_rows()
    latencies: list[float] = []
    done = errors = 0
    day = date.today()
    try:
        conn = psycopg.connect(url)
    except psycopg.Error as exc:
        out.append(exc)
        ready.abort()  # the run fails at once instead of waiting for the barrier's timeout
        return
    with conn:
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        sequence = 0
        while not stop.is_set():
            sequence += 1
            began = time.perf_counter()
            try:
                if variant == "api-sql":
                    conn.execute(_REFERENCE_CHECK, {"m": MALL, "f": "3F", "d": None, "c": "M-3F-001"})
                if variant in ("rows+counter", "api-sql"):
                    number = conn.execute(_NEXT_NUMBER, (f"raw-{variant}", day)).fetchone()[0]
                    row["number"] = f"RAW-{variant}-{number}"
                else:
                    row["number"] = f"RAW-{tag}-{sequence}"
                row["id"] = str(uuid.uuid4())
                conn.execute(_INSERT_COMPLAINT, row)
                conn.execute(_INSERT_OUTBOX, (str(uuid.uuid4()), routing_key, envelope))
                if variant in ("rows+notify", "api-sql"):
                    conn.execute(_NOTIFY)
                conn.commit()
            except psycopg.Error:
                errors += 1
                if conn.closed:
                    break
                conn.rollback()
                continue
            latencies.append(time.perf_counter() - began)
            done += 1
    out.append((done, errors, latencies))


def drive_raw(url: str, variant: str, clients: int, seconds: float, meter: CpuMeter) -> Level:
    ready = threading.Barrier(clients + 1)
    stop = threading.Event()
    out: list = []
    threads = [
        threading.Thread(
            target=_raw_worker,
            # A level measured again (--wait-idle) must not repeat the numbers of its first try.
            args=(url, variant, f"{variant}-{clients}-{n}-{uuid.uuid4().hex[:8]}", ready, stop, out),
            name=f"raw-{n}",
            daemon=True,
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    try:
        try:
            ready.wait(timeout=30)
        except threading.BrokenBarrierError:
            failed = next((x for x in out if isinstance(x, Exception)), None)
            raise RuntimeError(f"raw baseline: a client could not start: {failed}") from failed
        meter.start()
        began = time.perf_counter()
        time.sleep(seconds)
        # Before the threads close their connections: a backend that exits takes its CPU with it.
        cpu = meter.stop()
        elapsed = time.perf_counter() - began
    finally:
        stop.set()
        ready.abort()
        for thread in threads:
            thread.join(timeout=30)
    out = [x for x in out if not isinstance(x, Exception)]
    latencies = sorted(x for _, _, batch in out for x in batch)
    return Level(
        clients,
        ok=sum(r[0] for r in out),
        errors=sum(r[1] for r in out),
        seconds=elapsed,
        p50_ms=_ms_or_none(_percentile(latencies, 0.50)),
        p99_ms=_ms_or_none(_percentile(latencies, 0.99)),
        cpu=cpu,
    )
