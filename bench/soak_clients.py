"""The soak benchmark's clients, each in a process of its own (bench/soak.py starts them).

* `feed`: the service desk, open-loop. Complaint i is due at start + i/rate and is sent then by a
  pool of threads whatever happened to the ones before, so a slow answer delays no later send and
  the latency it causes is measured, not hidden (no coordinated omission).
* `work`: the staff, closed-loop. Each thread is one member of staff of one role who lists their
  queue (`GET /routing/tasks`), claims an unclaimed task of their own share of the queue (or one a
  colleague left waiting over 3 s) and completes it with valid form data, and
  looks again after a pause (0.2 s, doubling up to 2 s) when the queue is empty.
* `observe`: a department's own system, consuming the `tasks.<role>` queues (docs/amqp.md). The
  first `task.created` of each complaint is the moment its first task became visible to anyone.

Each reports to the parent through a multiprocessing queue in batches, twice a second.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import requests

from services.routing.domain.form_checks import only_taken

SEED = Path(__file__).resolve().parent.parent / "services" / "intake" / "seed" / "demo_mall.json"
FLUSH_SECONDS = 0.5
# A member of staff whose queue is empty looks again after a pause that doubles up to 2 s while it
# stays empty, so idle staff cost routing little (their lists would otherwise be most of its load).
IDLE_SECONDS, IDLE_MAX_SECONDS = 0.2, 2.0
PAGE = 20
HELP_AFTER_SECONDS = 3.0  # a colleague's task waiting this long is anyone's

# What a busy mall's staff choose when a form offers a choice: the case moves on towards closing.
CHOICES = {"outcome": "resolved", "responsible_party": "merchant"}


def _reference() -> dict:
    return json.loads(SEED.read_text(encoding="utf-8"))


def complaint_body(number: int, reference: dict) -> dict:
    """The number-th complaint: 6 in 10 about a merchant (floor supervisor, and the desk calls the
    merchant), 2 in 10 about a facility with its department (department manager), 2 in 10 about
    quality (operations manager). Every customer has a phone of their own, so notify's limit of
    messages per recipient never holds one back."""
    customer = {"name": "王女士", "phone": f"139{number % 10**8:08d}"}
    base = {
        "channel": "phone",
        "customer": customer,
        "customer_request": ["exchange"],
        "amount": "199.00",
        "description": f"第{number}号投诉：店员态度恶劣，拒绝换货",
    }
    kind = number % 10
    if kind < 6:
        merchant = reference["merchants"][number % len(reference["merchants"])]
        return {
            **base,
            "category": "merchant_service",
            "floor": merchant["floor"],
            "merchant_code": merchant["code"],
        }
    if kind < 8:
        department = reference["departments"][number % len(reference["departments"])]["code"]
        floor = reference["floors"][number % len(reference["floors"])]["code"]
        return {
            **base,
            "category": "facility",
            "floor": floor,
            "department": department,
            "description": f"第{number}号投诉：电梯故障",
        }
    return {**base, "category": "quality", "description": f"第{number}号投诉：商品质量问题"}


def form_data(form: list[dict]) -> dict:
    """Valid data for every field of a task's form (routing's form check accepts it)."""
    data: dict = {}
    for field in form:
        name, kind = field["id"], field.get("type", "string")
        if kind == "enum":
            options = [option[0] for option in field.get("options") or []]
            data[name] = CHOICES.get(name) if CHOICES.get(name) in options else options[0]
        elif kind == "boolean":
            data[name] = True
        elif kind == "long":
            data[name] = 0
        elif kind == "decimal":  # an amount in yuan and fen
            data[name] = "0.00"
        elif kind == "date":
            data[name] = date.today().isoformat()
        elif name in CHOICES:
            data[name] = CHOICES[name]
        else:
            data[name] = "已处理，顾客同意"
    return only_taken(form, data)  # a field taken only under another's answer is left out otherwise


class Outbox:
    """Records gathered by threads and sent to the parent in batches."""

    def __init__(self, out, kind: str):
        self.out, self.kind = out, kind
        self.lock = threading.Lock()
        self.records: list = []
        self.counts: Counter = Counter()

    def add(self, record) -> None:
        with self.lock:
            self.records.append(record)

    def count(self, key, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def flush(self) -> None:
        with self.lock:
            records, counts = self.records, self.counts
            self.records, self.counts = [], Counter()
        if records or counts:
            self.out.put((self.kind, time.time(), records, dict(counts)))

    def flush_until(self, stopping: threading.Event) -> None:
        while not stopping.wait(FLUSH_SECONDS):
            self.flush()
        self.flush()


# --------------------------------------------------------------------------- the service desk


def feed(out, url: str, token: str, rate: float, seconds: float, first: int, threads: int) -> None:
    """POST complaints `first`, `first`+1 … at `rate` per second for `seconds`, open-loop.

    Each record: (number, due, sent, answered, status, complaint id or None), wall-clock seconds.
    """
    reference = _reference()
    outbox = Outbox(out, "feed")
    local = threading.local()
    headers = {"Authorization": f"Bearer {token}"}

    def send(number: int, due: float) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        sent = time.time()
        complaint_id = None
        try:
            response = session.post(url, json=complaint_body(number, reference), headers=headers, timeout=30)
            status = str(response.status_code)
            if response.status_code == 201:
                complaint_id = response.json()["id"]
        except requests.RequestException as exc:
            status = type(exc).__name__
        outbox.add((number, due, sent, time.time(), status, complaint_id))

    stopping = threading.Event()
    flusher = threading.Thread(target=outbox.flush_until, args=(stopping,), daemon=True)
    flusher.start()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        start_wall, start = time.time(), time.monotonic()
        count = int(rate * seconds)
        for i in range(count):
            due = start + i / rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pool.submit(send, first + i, start_wall + (due - start))
    stopping.set()
    flusher.join()


# --------------------------------------------------------------------------- the staff


def work(out, stop, routing_url: str, staff: list[tuple[str, str, str, int, int]]) -> None:
    """One thread per member of staff (username, role, token, n, colleagues) until `stop` is set.

    Counts: ("completed", element), ("conflict", what), ("error", what, status); records: the
    seconds each completion took."""
    outbox = Outbox(out, "work")
    stopping = threading.Event()
    threads = [
        threading.Thread(target=_staff_member, args=(outbox, stopping, routing_url, *member[1:]), daemon=True)
        for member in staff
    ]
    flusher = threading.Thread(target=outbox.flush_until, args=(stopping,), daemon=True)
    for thread in [*threads, flusher]:
        thread.start()
    stop.wait()
    stopping.set()
    for thread in [*threads, flusher]:
        thread.join(timeout=40)


def share_first(tasks: list[dict], n: int, colleagues: int, now: datetime | None = None) -> list[dict]:
    """The tasks member `n` of `colleagues` takes, in order: their own share of the queue (by task
    id), then a colleague's task left waiting more than HELP_AFTER_SECONDS, so colleagues seldom
    reach for the same one (a claim that loses is a wasted request to routing)."""
    now = now or datetime.now(UTC)

    def waiting(task: dict) -> float:
        return (now - datetime.fromisoformat(task["created_at"])).total_seconds()

    mine = [task for task in tasks if int(task["id"].replace("-", ""), 16) % colleagues == n]
    late = [task for task in tasks if task not in mine and waiting(task) > HELP_AFTER_SECONDS]
    random.shuffle(mine)
    return mine + late


def _staff_member(
    outbox: Outbox, stopping: threading.Event, routing: str, role: str, token: str, n: int, colleagues: int
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    idle = IDLE_SECONDS
    while not stopping.is_set():
        try:
            listed = session.get(f"{routing}/tasks", params={"queue": role, "limit": PAGE}, timeout=30)
        except requests.RequestException as exc:
            outbox.count(("error", "list", type(exc).__name__))
            stopping.wait(1)
            continue
        if listed.status_code != 200:
            outbox.count(("error", "list", str(listed.status_code)))
            stopping.wait(1)
            continue
        free = [task for task in listed.json()["items"] if task["assignee"] is None]
        mine = share_first(free, n, colleagues)
        if not mine:  # nothing for me: look again later, not at once
            stopping.wait(idle * random.uniform(0.75, 1.25))
            idle = min(2 * idle, IDLE_MAX_SECONDS)
            continue
        idle = IDLE_SECONDS
        for task in mine[:5]:
            if stopping.is_set():
                return
            _claim_and_complete(outbox, session, routing, task)


def _claim_and_complete(outbox: Outbox, session: requests.Session, routing: str, task: dict) -> None:
    base = f"{routing}/tasks/{task['id']}"
    try:
        claimed = session.post(f"{base}/claim", timeout=30)
        if claimed.status_code in (404, 409):  # a colleague took it, or the case moved on
            outbox.count(("conflict", "claim"))
            return
        if claimed.status_code != 200:
            outbox.count(("error", "claim", str(claimed.status_code)))
            return
        started = time.monotonic()
        done = session.post(f"{base}/complete", json={"data": form_data(task["form"])}, timeout=60)
    except requests.RequestException as exc:
        outbox.count(("error", "task", type(exc).__name__))
        return
    if done.status_code == 200:
        outbox.count(("completed", task["element_id"]))
        outbox.add(time.monotonic() - started)
    elif done.status_code in (404, 409):
        outbox.count(("conflict", "complete"))
    else:
        outbox.count(("error", "complete", str(done.status_code)))


# --------------------------------------------------------------------------- a department's system


def observe(out, stop, amqp_url: str, roles: list[str]) -> None:
    """Consume every `tasks.<role>` queue until `stop` is set; report the first task.created of
    each complaint as (complaint id, received, occurred_at) and count every event by type."""
    from kombu import Connection

    from services.common.bus.topology import task_queue

    outbox = Outbox(out, "observe")
    seen: set[str] = set()

    def on_message(message) -> None:
        what = message.delivery_info["routing_key"].split(".")[1]  # task.<what>.<role>
        outbox.count(("task", what))
        if what != "created":
            return
        envelope = json.loads(message.body)
        complaint_id = envelope["complaint_id"]
        if complaint_id not in seen:
            seen.add(complaint_id)
            outbox.add((complaint_id, time.time(), envelope["occurred_at"]))

    with Connection(amqp_url, heartbeat=0) as connection:
        consumer = connection.Consumer(
            [task_queue(role) for role in roles], on_message=on_message, no_ack=True
        )
        with consumer:
            last = time.monotonic()
            while not stop.is_set():
                with contextlib.suppress(socket.timeout, TimeoutError):
                    connection.drain_events(timeout=FLUSH_SECONDS)
                if time.monotonic() - last >= FLUSH_SECONDS:
                    outbox.flush()
                    last = time.monotonic()
    outbox.flush()
