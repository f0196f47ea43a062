"""bench/lifecycle.py's staff: each complaint driven through its whole life through the public APIs.

A complaint is POSTed to intake through the gateway with a desk token; its first task is known
from the `tasks.<role>` queues (as a department's own system learns of it, so nobody polls routing
while the case starts). Then, until the case is no longer running: the case is read
(`GET /routing/cases/<id>`), each open task claimed and completed with valid form data by a member
of staff of its queue, and when the case waits with no task open (the callback a day after the
reply) its soonest timer is fired through routing's timer API by the operations manager, as an
operator moves time: nothing waits for the clock.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import soak_clients

FIRST_TASK_TIMEOUT = 120.0  # seconds for the case to start and announce its first task
MAX_ROUNDS = 80  # reads of one case before it counts as stuck
IN_FLIGHT_PAUSE = 0.05  # a case with neither an open task nor a timer is between two steps


class TaskEvents(threading.Thread):
    """Consumes every `tasks.<role>` queue; `wait(complaint_id)` returns once a task of it exists."""

    def __init__(self, amqp_url: str, roles: list[str]):
        super().__init__(name="task-events", daemon=True)
        self.amqp_url, self.roles = amqp_url, roles
        self.seen: set[str] = set()
        self.changed = threading.Condition()
        self.stopping = threading.Event()
        self.ready = threading.Event()
        self.counts: Counter = Counter()

    def run(self) -> None:
        from kombu import Connection

        from services.common.bus.topology import task_queue

        def on_message(message) -> None:
            self.counts[message.delivery_info["routing_key"].split(".")[1]] += 1
            complaint_id = json.loads(message.body).get("complaint_id")
            with self.changed:
                self.seen.add(complaint_id)
                self.changed.notify_all()

        with Connection(self.amqp_url, heartbeat=0) as connection:
            queues = [task_queue(role) for role in self.roles]
            with connection.Consumer(queues, on_message=on_message, no_ack=True):
                self.ready.set()
                while not self.stopping.is_set():
                    with contextlib.suppress(socket.timeout, TimeoutError):
                        connection.drain_events(timeout=0.5)

    def wait(self, complaint_id: str, timeout: float = FIRST_TASK_TIMEOUT) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: complaint_id in self.seen, timeout=timeout)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


class Staff:
    """Who acts: the desk posts, each queue's member works its tasks, the operations manager reads
    cases and fires timers. Counts every request by kind."""

    def __init__(
        self, gateway: str, desk: str, staff: list[tuple[str, str, str, int, int]], events: TaskEvents
    ):
        self.gateway, self.events = gateway, events
        self.desk = {"Authorization": f"Bearer {desk}"}
        self.by_role = {role: {"Authorization": f"Bearer {token}"} for _, role, token, _, _ in staff}
        self.operator = self.by_role["operations_manager"]
        self.reference = soak_clients._reference()
        self.local = threading.local()
        self.lock = threading.Lock()
        self.requests: Counter = Counter()
        self.outcomes: Counter = Counter()
        self.completed: Counter = Counter()
        self.errors: list[str] = []

    def _call(
        self, kind: str, method: str, path: str, headers: dict, body: dict | None = None
    ) -> requests.Response:
        session = getattr(self.local, "session", None) or requests.Session()
        self.local.session = session
        with self.lock:
            self.requests[kind] += 1
        return session.request(method, f"{self.gateway}{path}", json=body, headers=headers, timeout=60)

    def _error(self, what: str, response: requests.Response) -> str:
        text = f"{what}: {response.status_code} {response.text[:300]}"
        with self.lock:
            self.errors.append(text)
        return "error"

    def life(self, number: int) -> str:
        """Drive complaint `number` until its case ends; its final status ('completed' if closed)."""
        body = soak_clients.complaint_body(number, self.reference)
        posted = self._call("post complaint", "POST", "/intake/complaints", self.desk, body)
        if posted.status_code != 201:
            return self._error("post", posted)
        case_id = posted.json()["id"]
        if not self.events.wait(case_id):
            return "no first task"
        for _ in range(MAX_ROUNDS):
            read = self._call("read case", "GET", f"/routing/cases/{case_id}", self.operator)
            if read.status_code != 200:
                return self._error("read case", read)
            case = read.json()
            if case["status"] != "running":
                return case["status"]
            if case["open_tasks"]:
                for task in case["open_tasks"]:
                    if (outcome := self._work(task)) != "ok":
                        return outcome
                continue
            if not self._fire_soonest(case_id):
                time.sleep(IN_FLIGHT_PAUSE)
        return "stuck"

    def _work(self, task: dict) -> str:
        headers = self.by_role[task["queue"]]
        base = f"/routing/tasks/{task['id']}"
        if task["assignee"] is None:
            claimed = self._call("claim", "POST", f"{base}/claim", headers)
            if claimed.status_code != 200:
                return self._error(f"claim {task['element_id']}", claimed)
        data = {"data": soak_clients.form_data(task["form"])}
        done = self._call("complete", "POST", f"{base}/complete", headers, data)
        if done.status_code != 200:
            return self._error(f"complete {task['element_id']}", done)
        with self.lock:
            self.completed[task["element_id"]] += 1
        return "ok"

    def _fire_soonest(self, case_id: str) -> bool:
        listed = self._call("list timers", "GET", f"/routing/cases/{case_id}/timers", self.operator)
        waiting = [timer for timer in listed.json() if not timer["attached_to"]] if listed.ok else []
        if not waiting:
            return False
        timer = waiting[0]  # soonest first
        reason = {"reason": "时间到：基准测试推进时钟"}
        fired = self._call(
            "fire timer", "POST", f"/routing/cases/{case_id}/timers/{timer['id']}/fire", self.operator, reason
        )
        if fired.status_code != 200:
            self._error(f"fire {timer['element_id']}", fired)
            return False
        with self.lock:
            self.completed[f"timer {timer['element_id']}"] += 1
        return True


def drive(staff: Staff, numbers: range, concurrency: int) -> Counter:
    """Every complaint's whole life, `concurrency` at a time; how the cases ended."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = Counter(pool.map(staff.life, numbers))
    staff.outcomes = outcomes
    return outcomes
