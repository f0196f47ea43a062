"""The complaint mailbox: a real dovecot per test (tests/support/imapserver.py) and intake in-process."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.intake.mail.worker import MailboxWorker


@pytest.fixture
def mailbox_worker(intake, mailbox_settings, clock):
    def make(**changes) -> MailboxWorker:
        return MailboxWorker(
            replace(mailbox_settings), intake.pool, intake.settings.mall_id, clock, **changes
        )

    return make


def drain(reader: MailboxWorker) -> int:
    with reader._connect() as box:
        return reader.drain(box)


def messages(intake, kind: str | None = None) -> list[dict]:
    with intake.pool.connection() as conn:
        return conn.execute(
            "SELECT * FROM intake.email_messages WHERE %(kind)s::text IS NULL OR kind = %(kind)s ORDER BY uid",
            {"kind": kind},
        ).fetchall()


# notify in-process on the same test database, with the suite's aiosmtpd server as the customer's mail
from tests.integration.notify.conftest import deliver, gateway, mail, notify, notify_settings, worker  # noqa: E402, F401
