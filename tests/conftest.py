"""Test policy — what is real and what is faked.

* unit/         pure logic: rules, settings, tokens, envelopes, masking; and each service's handlers
                given an in-memory unit of work (unit/fakes/). No server; these run anywhere.
* integration/  the real PostgreSQL (TEST_DATABASE_URL, default the local server) and the real
                RabbitMQ (TEST_AMQP_URL, TEST_RABBITMQ_NODE). Every test gets its own database, cloned
                from a template migrated once per session, and every broker test its own RabbitMQ
                vhost, so tests never see each other's rows or messages (the databases are cloned a
                test ahead and dropped behind it in a thread, tests/support/databases.py; the vhosts
                made and deleted a batch at a time, tests/support/servers.py). A test of the complaint
                mailbox gets a real IMAP server of its own (`imap`: Debian's dovecot in a temporary
                folder, a child of the test process; tests/support/imapserver.py).
                An S3 API server (moto's server mode, tests/support/objectstore.py) keeps attachments,
                started once per session in the test process; every test its own bucket.
* e2e/          the system as its users run it: real processes started with the same commands the
                README and the containers use, driven over HTTP; and test_openapi_fuzz.py, which
                holds intake's app (in-process, real PostgreSQL) to its own OpenAPI document.
                test_deployment.py starts every service of deploy/compose.yaml as its own process
                with the command and environment compose gives it, behind the gateway's nginx.conf.
                test_faults.py cuts PostgreSQL and RabbitMQ off through TCP proxies (the shared
                servers keep running), kills workers, and audits the books after each fault.
* deploy/       the deployment files (Dockerfile, compose file, Kubernetes manifests) checked by
                hadolint, the Compose Specification's schema, kustomize and the Kubernetes schemas,
                all installed by ./dev test from PyPI; no server needed.

Time is never waited for: tests that need time to pass move a MovableClock.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from psycopg import sql

from services.common.clock import MovableClock
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer
from services.common.migrations import apply_migrations
from services.common.settings import MailboxSettings, Settings, load_settings
from services.intake.app import create_app
from services.intake.bootstrap import Intake, bootstrap
from services.intake.seed import load_reference
from services.runner.registry import all_schemas
from tests.support.databases import DatabaseSupply
from tests.support.databases import admin as _admin
from tests.support.imapserver import ImapServer, dovecot_available
from tests.support.objectstore import S3Server
from tests.support.servers import (  # noqa: F401  (AMQP_BASE: imported from here)
    ADMIN_URL,
    AMQP_BASE,
    VhostPool,
    rabbitmqctl,
)

TEMPLATE = f"mall_test_template_{os.getpid()}"
SECRET = "test-secret-" + "x" * 40
MALL = "demo"


def database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(autouse=True, scope="session")
def light_password_hashing() -> Iterator[SimpleNamespace]:
    """Passwords hashed with argon2's lightest parameters in the test process: every system a test
    builds gives each demo person a password and every console test logs in, and the production
    parameters (64 MiB, three passes: about 0.1-0.3 s a hash here) would be most of their setup.
    tests/unit/test_passwords.py holds the services' own parameters to their strength."""
    from argon2 import PasswordHasher

    from services.common.identity import login, users

    light = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    shipped = users.PASSWORDS
    users.PASSWORDS = login.PASSWORDS = light
    yield SimpleNamespace(shipped=shipped, light=light)
    users.PASSWORDS = login.PASSWORDS = shipped


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A database with nothing in it: the migrate job builds every schema, as on a first install."""
    name = f"mall_test_{uuid.uuid4().hex[:12]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield database_url(name)
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_database() -> Iterator[str]:
    """A database with every migration applied, cloned for each test."""
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE)))
    apply_migrations(database_url(TEMPLATE), all_schemas())
    yield TEMPLATE
    _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE)))


@pytest.fixture(scope="session")
def database_supply(template_database: str) -> Iterator[DatabaseSupply]:
    supply = DatabaseSupply(template_database)
    yield supply
    left = supply.close()
    assert not left, f"test databases that could not be dropped: {left}"


@pytest.fixture
def db_url(database_supply: DatabaseSupply) -> Iterator[str]:
    """A fresh, migrated database of this test's own."""
    name = database_supply.take()
    yield database_url(name)
    database_supply.give_back(name)


def _rabbitmqctl(*args: str) -> None:
    rabbitmqctl(*args)


@pytest.fixture(scope="session")
def vhost_pool() -> Iterator[VhostPool]:
    pool = VhostPool(f"mall_test_{uuid.uuid4().hex[:12]}")
    yield pool
    pool.close()


@pytest.fixture
def amqp_url(vhost_pool: VhostPool) -> Iterator[str]:
    """A RabbitMQ vhost of this test's own."""
    url = vhost_pool.take()
    yield url
    vhost_pool.give_back(url)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 11, 22, 2, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str) -> Settings:
    return load_settings(
        {},
        database_url=db_url,
        amqp_url="memory://",
        auth_secret=SECRET,
        mall_id=MALL,
        public_rate_limit="1000 per minute",
    )


@pytest.fixture
def tokens(clock: MovableClock) -> TokenIssuer:
    """Tokens valid for 30 days of the test clock, so tests may move time by days."""
    return TokenIssuer(SECRET, clock, ttl=timedelta(days=30))


def bearer(tokens: TokenIssuer, *roles: str, floors=(), departments=(), subject="tester", mall=MALL) -> dict:
    identity = Identity(
        subject=subject,
        roles=frozenset(roles),
        mall_id=mall,
        floors=frozenset(floors),
        departments=frozenset(departments),
    )
    return {"Authorization": f"Bearer {tokens.issue(identity)}"}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server, for the whole session."""
    server = S3Server().start()
    yield server
    server.stop()


@pytest.fixture
def object_store(s3_server: S3Server):
    """A bucket of this test's own on the S3 server."""
    return s3_server.new_store()


@pytest.fixture
def intake(settings: Settings, clock: MovableClock, object_store) -> Iterator[Intake]:
    """Intake in-process on this test's database, with the demo mall's reference data; attachments
    in this test's bucket."""
    runtime = bootstrap(settings, clock=clock, objects=object_store)
    runtime.pool.open(wait=True)
    load_reference(runtime.pool, MALL)
    yield runtime
    runtime.pool.close()


@pytest.fixture
def app(intake: Intake):
    return create_app(intake)


@pytest.fixture
def imap() -> Iterator[ImapServer]:
    """A dovecot of this test's own, with one empty mailbox (tests/support/imapserver.py)."""
    if not dovecot_available():
        pytest.fail(
            "dovecot is not installed: ./dev test installs it as root (apt-get install dovecot-imapd)"
        )
    server = ImapServer().start()
    yield server
    server.stop()


@pytest.fixture
def mailbox_settings(imap: ImapServer) -> MailboxSettings:
    return MailboxSettings(
        host="127.0.0.1",
        port=imap.port,
        user=imap.user,
        secret=imap.secret,
        tls="none",
        poll_seconds=0.2,
        idle_seconds=2,
    )
