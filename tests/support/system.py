"""Every service in this test's process, as `run` builds them, on the test's database and clock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from services.intake.seed import announce_reference
from services.runner.allinone import build, deploy_mall_diagram, load_demo

DEMO_PASSWORD = "demo-password-for-tests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@contextmanager
def system_on_its_own_database(
    template_database: str, data_dir, label: str
) -> Iterator[tuple[dict, object, object]]:
    """(runtimes, wsgi app, token issuer): `in_process_system` on a copy of the migrated template
    database, dropped at the end, with limits no test of every endpoint reaches."""
    import uuid
    from datetime import UTC, datetime

    from psycopg import sql

    from services.common.clock import MovableClock
    from services.common.identity.tokens import TokenIssuer
    from services.common.settings import load_settings
    from tests.conftest import SECRET, _admin, database_url

    name = f"mall_test_{label}_{uuid.uuid4().hex[:8]}"
    _admin(
        sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template_database)
        )
    )
    settings = load_settings(
        {},
        database_url=database_url(name),
        amqp_url="memory://",
        auth_secret=SECRET,
        public_rate_limit="10000 per minute",
        login_rate_limit="10000 per minute",
    )
    clock = MovableClock(datetime(2026, 11, 22, 2, tzinfo=UTC))
    try:
        with in_process_system(settings, clock, data_dir) as (runtimes, wsgi):
            yield runtimes, wsgi, TokenIssuer(SECRET, clock)
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def in_process_system(settings, clock, data_dir, **changes) -> Iterator[tuple[dict, object]]:
    """(runtimes, wsgi app): the demo mall and staff (password DEMO_PASSWORD) and the diagram loaded."""
    settings = replace(settings, data_dir=str(data_dir), **changes)
    runtimes, wsgi = build(settings, clock)
    try:
        load_demo(settings, runtimes["intake"], DEMO_PASSWORD)
        deploy_mall_diagram(runtimes["routing"])
        # As the one-process run does once its consumers listen: the floors' and departments' names,
        # which reporting prints, wait in intake's outbox for the first delivery.
        announce_reference(runtimes["intake"].pool, settings.mall_id)
        yield runtimes, wsgi
    finally:
        for runtime in runtimes.values():
            runtime.pool.close()


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)
