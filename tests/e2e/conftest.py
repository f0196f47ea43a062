"""The deployment's processes on the local PostgreSQL and RabbitMQ: an empty database of the test's
own (the migrate job builds it, as on a first install), a RabbitMQ vhost of its own, and a real SMTP
server standing for the mall's mail server."""

from __future__ import annotations

import re

import pytest

from tests.support.deployment import Deployment
from tests.support.mailserver import MailServer

STAFF_PASSWORD = "a-staff-password-for-tests"
STAFF = [  # username, role and scope options of `user create`
    ("desk", ["--role", "service_desk"]),
    ("floor3", ["--role", "floor_supervisor", "--floor", "3F"]),
    ("ops", ["--role", "operations_manager"]),
]


@pytest.fixture
def mail_server():
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def deployment(tmp_path, empty_database, amqp_url, mail_server):
    """The compose file's jobs run (migrations, the diagram), the demo mall and three staff created;
    deploy/.env names the mall's mail server, and sets no quiet hours (the test may run at night)."""
    deployment = Deployment(
        tmp_path,
        empty_database,
        amqp_url,
        SMTP_URL=f"smtp://127.0.0.1:{mail_server.port}",
        NOTIFY_QUIET_HOURS="none",
    )
    migrated = deployment.job("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert re.search(r"^intake: [1-9]\d* migration\(s\) applied$", migrated.stdout, re.M), migrated.stdout
    diagram = deployment.job("deploy-diagram")
    assert diagram.returncode == 0 and "deployed as version 1" in diagram.stdout, diagram.stderr
    deployment.cli("seed")
    for username, options in STAFF:
        deployment.cli("user", "create", username, *options, "--password-stdin", input=STAFF_PASSWORD + "\n")
    yield deployment
    deployment.kill_leftovers()
