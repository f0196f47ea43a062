"""The mailbox worker as operators run it (`python -m services mailbox`), SIGKILLed in the middle of
a batch and started again: every message kept exactly once, every one marked in the mailbox."""

from __future__ import annotations

import signal

import psycopg
import requests

from services.intake.mail.worker import KEYWORD
from tests.conftest import SECRET
from tests.support import mails
from tests.support.processes import free_port, start, stop
from tests.support.waiting import eventually

EXTRA = 180  # plain complaints after the twenty, so that a kill lands inside the batch


def _batch() -> list[bytes]:
    from tests.integration.mail.test_mailbox import twenty

    return twenty() + [mails.plain(100 + number) for number in range(EXTRA)]


def _kept(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT kind, count(*) FROM intake.email_messages GROUP BY kind").fetchall()
    return dict(rows)


def test_a_mailbox_worker_killed_mid_batch_and_restarted_keeps_every_message_once(imap, db_url, tmp_path):
    imap.deliver(*_batch())
    metrics = free_port()
    env = {
        "DATABASE_URL": db_url,
        "AUTH_SECRET": SECRET,
        "MIGRATE_ON_START": "false",
        "MALL_ID": "demo",
        "IMAP_HOST": "127.0.0.1",
        "IMAP_PORT": str(imap.port),
        "IMAP_USER": imap.user,
        "IMAP_SECRET": imap.secret,
        "IMAP_TLS": "none",
        "METRICS_PORT": str(metrics),
    }

    first = start(["mailbox"], env, tmp_path / "first.log")
    eventually(lambda: sum(_kept(db_url).values()) >= 20, timeout=60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = sum(_kept(db_url).values())
    assert at_kill < 20 + EXTRA - 1  # killed with messages still to read

    second = start(["mailbox"], env, tmp_path / "second.log")
    try:
        eventually(lambda: sum(_kept(db_url).values()) == 20 + EXTRA - 1, timeout=90)
        eventually(lambda: all(KEYWORD in flags for flags in imap.flags().values()), timeout=30)
        ready = requests.get(f"http://127.0.0.1:{metrics}/readyz", timeout=5)
        scraped = requests.get(f"http://127.0.0.1:{metrics}/metrics", timeout=5).text
    finally:
        stop(second)

    assert _kept(db_url) == {"draft": 18 + EXTRA, "set_aside": 1}
    assert ready.status_code == 200 and ready.json()["checks"]["mailbox"] == "ok"
    assert 'mall_mailbox_up{mailbox="complaints@mall.test@127.0.0.1/INBOX"} 1.0' in scraped
