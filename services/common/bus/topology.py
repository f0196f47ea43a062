"""Every AMQP name the services use, declared in one place.

One durable topic exchange carries every event with the event type as routing key. Each consuming
service has a durable queue, a retry queue that holds a failed message for a while and then hands
it back, and a dead-letter queue that keeps messages which failed too often, with their error.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue, binding

from services.common.bus.events import (
    CAPA_OPENED,
    CASE_MESSAGE,
    COMPLAINT_CLOSED,
    COMPLAINT_CORRECTED,
    COMPLAINT_MERGED,
    COMPLAINT_POSTPONED,
    COMPLAINT_RECEIVED,
    COMPLAINT_REOPENED,
    COMPLAINT_REPLIED,
    NOTIFICATION_REQUESTED,
    RETENTION_ERASURE_REQUESTED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETE,
    TASK_COMPLETED,
    TASK_CREATED,
)

EVENTS_EXCHANGE = Exchange("mall.events", type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("mall.dead", type="direct", durable=True)
# Commands from departments' own systems (routing key = command type, e.g. `task.complete`).
COMMANDS_EXCHANGE = Exchange("mall.commands", type="direct", durable=True)
TASK_COMMANDS_QUEUE = "routing.task-commands"
TASK_COMMANDS = (TASK_COMPLETE, CASE_MESSAGE)
# A notice to the manager of a department a form named (`notify_department`) goes out under this
# routing key: notify takes every notice, intake only these (the department told reads the case).
NOTICE_TO_DEPARTMENT = f"{NOTIFICATION_REQUESTED}.department"

# consuming queue -> the event types it receives. Later services add their rows here.
SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    # routing starts a case for each complaint, hands it the desk's corrections, closes a merged one's
    "routing.complaints": (
        COMPLAINT_RECEIVED,
        COMPLAINT_CORRECTED,
        COMPLAINT_MERGED,
        RETENTION_ERASURE_REQUESTED,
    ),
    # intake keeps who holds each case (task.<what>.<role>), to unmask personal data for them,
    # how far each case has come (the customers' status page), which departments a notice told of
    # a case (they read it), and erases what it holds when retention asks
    "intake.events": (
        NOTICE_TO_DEPARTMENT,
        f"{TASK_CREATED}.*",
        f"{TASK_CLAIMED}.*",
        f"{TASK_COMPLETED}.*",
        f"{TASK_CANCELLED}.*",
        COMPLAINT_REPLIED,
        COMPLAINT_CLOSED,
        COMPLAINT_REOPENED,
        COMPLAINT_POSTPONED,
        RETENTION_ERASURE_REQUESTED,
    ),
    "notify.events": (
        COMPLAINT_RECEIVED,
        COMPLAINT_CORRECTED,
        NOTIFICATION_REQUESTED,
        NOTICE_TO_DEPARTMENT,
        CAPA_OPENED,
        RETENTION_ERASURE_REQUESTED,
    ),
    # Reporting keeps every complaint, task and retention event (patterns; its EVENT_HANDLERS name the types),
    # and the mall's floors and departments by name (reference.changed), which its reports print.
    "reporting.events": ("complaint.#", "task.#", "retention.#", "reference.#"),
}

TASK_QUEUE_PREFIX = "tasks."


def task_routing_key(event_type: str, queue: str) -> str:
    """Task events go out as `task.<what>.<role>`, so each department's queue gets only its own."""
    return f"{event_type}.{queue}"


def task_queue(role: str) -> Queue:
    """The durable queue a department's own system consumes: every task event of one role."""
    return Queue(
        f"{TASK_QUEUE_PREFIX}{role}",
        exchange=EVENTS_EXCHANGE,
        routing_key=f"task.*.{role}",
        durable=True,
    )


@dataclass(frozen=True)
class ConsumerQueues:
    """The three queues behind one consumer: main, retry (delayed redelivery), dead."""

    main: Queue
    retry: Queue
    dead: Queue

    def all(self) -> list[Queue]:
        return [self.main, self.retry, self.dead]


def consumer_queues(
    name: str, routing_keys: tuple[str, ...] | list[str], exchange: Exchange = EVENTS_EXCHANGE
) -> ConsumerQueues:
    """Declare-able queues for a consumer named `name` bound to the given message types."""
    main = Queue(
        name,
        exchange=exchange,
        bindings=[binding(exchange, routing_key=key) for key in routing_keys],
        durable=True,
    )
    # A message published here waits for its own expiration, then the broker dead-letters it
    # back to the main queue through the default exchange: delayed retry without a scheduler.
    retry = Queue(
        f"{name}.retry",
        exchange=Exchange("", type="direct"),
        routing_key=f"{name}.retry",
        durable=True,
        queue_arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name},
    )
    dead = Queue(f"{name}.dead", exchange=DEAD_LETTER_EXCHANGE, routing_key=name, durable=True)
    return ConsumerQueues(main=main, retry=retry, dead=dead)
