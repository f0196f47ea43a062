"""Routing on the real RabbitMQ: complaints in, department task queues out."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from kombu import Connection

from services.common.bus.topology import task_queue
from services.intake.app import create_app as create_intake_app
from services.runner.background import Background
from services.runner.registry import spec
from tests.integration.conftest import complaint
from tests.integration.routing.conftest import deploy, open_tasks
from tests.support.waiting import eventually


@pytest.fixture
def on_rabbitmq(settings, amqp_url, routing, intake):
    """Intake and routing with their relays, consumers and scheduler running on the test vhost."""
    routing.settings = intake.settings = replace(settings, amqp_url=amqp_url)
    deploy(routing)
    workers = [
        Background.of(spec("intake"), intake).start(),
        Background.of(spec("routing"), routing).start(),
    ]
    # Every consumer has declared its queues (the dead-letter ones too) before a test looks at them.
    consumers = [
        worker.consumer
        for background in workers
        for worker in background.workers
        if hasattr(worker, "consumer")
    ]
    assert all(consumer.ready.wait(30) for consumer in consumers)
    yield routing, intake
    for background in workers:
        background.stop()


def test_a_complaint_posted_to_intake_becomes_a_case_with_a_task_in_the_departments_queue(
    on_rabbitmq, desk, amqp_url
):
    routing, intake = on_rabbitmq
    client = create_intake_app(intake).test_client()

    record = client.post("/complaints", json=complaint(), headers=desk).json

    eventually(lambda: open_tasks(routing, record["id"]) == ["handle_floor"], timeout=30)
    with Connection(amqp_url) as connection:
        queue = task_queue("floor_supervisor")(connection.default_channel)
        message = eventually(lambda: queue.get(no_ack=True), timeout=30)
        assert queue.get(no_ack=True) is None  # one task, one message
    assert message.delivery_info["routing_key"] == "task.created.floor_supervisor"
    assert message.payload["type"] == "task.created"
    assert message.payload["payload"]["number"] == record["number"]
    assert message.payload["payload"]["element_id"] == "handle_floor"
    assert message.payload["complaint_id"] == record["id"]


def command(task: str, data: dict) -> dict:
    import uuid
    from datetime import UTC, datetime

    return {
        "id": str(uuid.uuid4()),
        "type": "task.complete",
        "occurred_at": datetime.now(UTC).isoformat(),
        "complaint_id": None,
        "mall_id": "demo",
        "actor": {"id": "dept-system", "role": None},
        "correlation_id": None,
        "payload": {"task_id": task, "data": data},
        "schema_version": 1,
    }


def send(
    amqp_url: str,
    body: dict,
    token: str | None,
    reply_to: str | None = None,
    routing_key: str = "task.complete",
) -> None:
    from kombu import Producer

    from services.common.bus.topology import COMMANDS_EXCHANGE

    headers = {"authorization": f"Bearer {token}"} if token else {}
    with Connection(amqp_url) as connection:
        Producer(connection.default_channel).publish(
            body,
            exchange=COMMANDS_EXCHANGE,
            routing_key=routing_key,
            declare=[COMMANDS_EXCHANGE],
            headers=headers,
            reply_to=reply_to,
            message_id=body["id"],
        )


def replies(amqp_url: str, name: str, count: int) -> list[dict]:
    from kombu import Queue

    found: list[dict] = []
    with Connection(amqp_url) as connection:
        queue = Queue(name, durable=False, auto_delete=False)(connection.default_channel)
        queue.declare()

        def take():
            while (message := queue.get(no_ack=True)) is not None:
                found.append(message.payload)
            return len(found) >= count

        eventually(take, timeout=30)
    return found


@pytest.fixture
def supervisor_token(tokens):
    from services.common.identity.model import Identity

    return tokens.issue(Identity("zhang", frozenset({"floor_supervisor"}), "demo", floors=frozenset({"3F"})))


def test_a_department_system_completes_a_task_by_command_and_gets_an_answer(
    on_rabbitmq, start, amqp_url, supervisor_token
):
    routing, _ = on_rabbitmq
    case = start()
    from kombu import Queue

    with Connection(amqp_url) as connection:
        Queue("dept.replies", durable=False)(connection.default_channel).declare()
    from tests.integration.routing.conftest import task_id

    task = task_id(routing, case, "handle_floor")

    bad = command(task, {"outcome": "shrug"})
    send(amqp_url, bad, supervisor_token, "dept.replies")
    [rejected] = replies(amqp_url, "dept.replies", 1)
    good = command(task, {"outcome": "resolved", "resolution": "已换货"})
    send(amqp_url, good, supervisor_token, "dept.replies")
    send(amqp_url, good, supervisor_token, "dept.replies")  # the same command again
    answers = replies(amqp_url, "dept.replies", 2)

    assert rejected["status"] == "rejected" and "outcome" in rejected["errors"]
    assert [answer["status"] for answer in answers] == ["completed", "duplicate"]
    assert answers[0]["command_id"] == good["id"] and answers[0]["task"]["closed_by"] == "zhang"
    assert open_tasks(routing, case) == ["reply"]


def test_a_refused_command_without_a_reply_queue_is_dead_lettered_with_the_reason(
    on_rabbitmq, start, amqp_url
):
    routing, _ = on_rabbitmq
    case = start()
    from services.common.bus.topology import TASK_COMMANDS_QUEUE, consumer_queues
    from tests.integration.routing.conftest import task_id

    send(amqp_url, command(task_id(routing, case, "handle_floor"), {"outcome": "resolved"}), token=None)

    with Connection(amqp_url) as connection:
        dead = consumer_queues(TASK_COMMANDS_QUEUE, []).dead(connection.default_channel)
        message = eventually(lambda: dead.get(no_ack=True), timeout=30)
    assert "authorization" in message.headers["x-error"]
    assert open_tasks(routing, case) == ["handle_floor"]


def test_a_message_command_reaches_its_case(on_rabbitmq, start, amqp_url, tokens):
    from services.common.identity.model import Identity
    from tests.integration.routing.conftest import deploy as deploy_diagram

    routing, _ = on_rabbitmq
    deploy_diagram(routing, "message_wait.bpmn", dmn=())
    case = start()
    body = command("unused", {})
    body.update(
        type="case.message",
        complaint_id=case,
        payload={"name": "merchant_answered", "data": {"refund": True}, "idempotency_key": "m-1"},
    )
    token = tokens.issue(Identity("desk-system", frozenset({"service_desk"}), "demo"))
    from kombu import Queue

    with Connection(amqp_url) as connection:
        Queue("dept.replies", durable=False)(connection.default_channel).declare()
    send(amqp_url, body, token, "dept.replies", routing_key="case.message")

    [answer] = replies(amqp_url, "dept.replies", 1)
    assert answer["status"] == "buffered"


def test_a_command_whose_token_was_revoked_is_refused_and_dead_lettered_saying_why(
    on_rabbitmq, start, amqp_url, clock
):
    from kombu import Queue

    from services.common.bus.topology import TASK_COMMANDS_QUEUE, consumer_queues
    from services.common.identity.users import UserStore
    from tests.integration.routing.conftest import task_id

    routing, _ = on_rabbitmq
    case = start()
    task = task_id(routing, case, "handle_floor")
    users = UserStore(routing.pool)
    zhang, wang = (users.create("demo", name, ["floor_supervisor"], ["3F"]) for name in ("zhang", "wang"))
    zhang_token, wang_token = (routing.tokens.issue(user.identity()) for user in (zhang, wang))
    users.update("demo", "zhang", {"active": False})
    users.update("demo", "wang", {"floors": ["2F"]})
    clock.advance(routing.settings.token_check)
    with Connection(amqp_url) as connection:
        Queue("dept.replies", durable=False)(connection.default_channel).declare()

    send(amqp_url, command(task, {"outcome": "resolved", "resolution": "已换货"}), zhang_token)
    send(amqp_url, command(task, {"outcome": "resolved", "resolution": "已换货"}), wang_token, "dept.replies")
    with Connection(amqp_url) as connection:
        dead = consumer_queues(TASK_COMMANDS_QUEUE, []).dead(connection.default_channel)
        message = eventually(lambda: dead.get(no_ack=True), timeout=30)
    [answer] = replies(amqp_url, "dept.replies", 1)

    assert message.headers["x-error"] == "command rejected: token refused: the user zhang is deactivated"
    assert answer["status"] == "rejected" and answer["error"].startswith("token revoked: the user's roles")


def _dead_commands(amqp_url: str, count: int) -> list:
    from services.common.bus.topology import TASK_COMMANDS_QUEUE, consumer_queues

    found: list = []
    with Connection(amqp_url) as connection:
        dead = consumer_queues(TASK_COMMANDS_QUEUE, []).dead(connection.default_channel)

        def take():
            while (message := dead.get(no_ack=True)) is not None:
                found.append(message)
            return len(found) >= count

        eventually(take, timeout=10)  # at once: no retry waits in between
    return found


def json_nested(levels: int) -> list:
    value: list = []
    for _ in range(levels - 1):
        value = [value]
    return value


def _seen_by_the_inbox(routing, command_id: str) -> bool:
    with routing.pool.connection() as conn:
        return (
            conn.execute("SELECT 1 FROM routing.inbox WHERE message_id = %s", (command_id,)).fetchone()
            is not None
        )


def test_a_malformed_command_is_dead_lettered_at_once_with_a_readable_reason_before_any_database_work(
    on_rabbitmq, start, amqp_url, supervisor_token
):
    from kombu import Queue

    routing, _ = on_rabbitmq
    case = start()
    with Connection(amqp_url) as connection:
        Queue("dept.replies", durable=False)(connection.default_channel).declare()
    not_a_uuid = command("not-a-uuid", {"outcome": "resolved"})
    too_deep = command(str(uuid.uuid4()), {"outcome": json_nested(40)})
    message = command("unused", {})
    message.update(type="case.message", complaint_id="not-a-case", payload={"name": "merchant_answered"})

    send(amqp_url, not_a_uuid, supervisor_token)
    send(amqp_url, too_deep, supervisor_token, "dept.replies")
    send(amqp_url, message, supervisor_token, routing_key="case.message")
    dead = {letter.properties["message_id"]: letter for letter in _dead_commands(amqp_url, 3)}
    [answer] = replies(amqp_url, "dept.replies", 1)

    reasons = {command_id: letter.headers["x-error"] for command_id, letter in dead.items()}
    assert reasons == {
        not_a_uuid["id"]: "malformed task.complete command: task_id: Not a valid UUID.",
        too_deep["id"]: "malformed task.complete command: the JSON is nested more than 32 levels deep"
        " (objects and arrays)",
        message["id"]: "malformed case.message command: complaint_id: Not a valid UUID.",
    }
    assert all(letter.headers["x-error-type"] == "MalformedCommand" for letter in dead.values())
    assert all("x-retries" not in letter.headers for letter in dead.values())
    assert answer["status"] == "rejected" and answer["command_id"] == too_deep["id"]
    assert answer["errors"] == {"_schema": ["nested more than 32 levels deep (objects and arrays)"]}
    assert not any(_seen_by_the_inbox(routing, command_id) for command_id in dead)
    assert open_tasks(routing, case) == ["handle_floor"]


def test_a_command_whose_completion_stops_the_case_is_answered_held_and_applied_by_the_retry(
    on_rabbitmq, start, amqp_url, supervisor_token, monkeypatch
):
    from kombu import Queue

    from services.routing.engine import EngineError
    from tests.integration.routing.conftest import task_id

    routing, _ = on_rabbitmq
    case = start()
    with Connection(amqp_url) as connection:
        Queue("dept.replies", durable=False)(connection.default_channel).declare()
    task = task_id(routing, case, "handle_floor")

    def failing(source, step, now):
        raise EngineError("ValueError: the reply's deadline cannot be computed", "set_deadline")

    with monkeypatch.context() as patched:
        patched.setattr(routing.context.sandbox, "run", failing)
        send(
            amqp_url,
            command(task, {"outcome": "resolved", "resolution": "已换货"}),
            supervisor_token,
            "dept.replies",
        )
        [answer] = replies(amqp_url, "dept.replies", 1)
    from services.routing.domain.commands import RetryCase

    assert routing.bus.handle(RetryCase(case, {}, "ops", "operations_manager"))

    assert answer["status"] == "held" and "the submission is kept" in answer["error"]
    assert open_tasks(routing, case) == ["reply"]
