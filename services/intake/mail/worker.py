"""The mailbox worker: reads the mall's complaint mailbox over IMAP (imap-tools) and keeps every new
message once, as a draft for the desk, a customer's answer to a case, or a set-aside auto-reply.

Exactly once: a message is read, stored and committed, and only then marked in the mailbox with the
keyword `$MallIntake` (never deleted, never moved). A worker stopped between the store and the mark
reads it again on its next pass, and the unique (mailbox, Message-ID) key keeps it once. Messages
are looked for with `UNKEYWORD $MallIntake`, so the mark is the only state kept in the mailbox.

The server is waited on with IDLE when it offers it (re-issued every few seconds so that a stop is
heard), polled otherwise; an unreachable mailbox is tried again with a doubling wait up to
IMAP_RETRY_MAX_SECONDS, and its state kept in `intake.mailbox_status` for /readyz and /metrics.
"""

from __future__ import annotations

import imaplib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import psycopg
from imap_tools import AND, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError, UnexpectedCommandStatusError
from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.settings import MailboxSettings
from services.intake.mail.ingest import ingest
from services.intake.mail.metrics import MAILBOX_MESSAGES
from services.intake.mail.store import MailStore

log = logging.getLogger(__name__)

KEYWORD = "$MallIntake"
IDLE_SLICE = 5.0  # seconds: how long one IDLE waits before the worker checks whether it should stop
AWAY = (OSError, imaplib.IMAP4.error, MailboxLoginError, UnexpectedCommandStatusError, psycopg.Error)


class MailboxWorker:
    """A Worker (services/runner/registry.py): run() reads the mailbox until stop()."""

    name = "mailbox"

    def __init__(
        self,
        settings: MailboxSettings,
        pool: ConnectionPool,
        mall_id: str,
        clock: Clock,
        after_store: Callable[[int], None] | None = None,
    ):
        self.settings = settings
        self.pool = pool
        self.mall_id = mall_id
        self.clock = clock
        self.after_store = after_store or (lambda uid: None)  # tests stop a worker here
        self.stopping = threading.Event()
        self.connected = threading.Event()
        self.failures = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with self._connect() as box:
                    self._connected()
                    self._serve(box)
            except AWAY as exc:
                self._away(exc)

    def stop(self) -> None:
        self.stopping.set()

    def is_ready(self) -> bool:
        return self.connected.is_set()

    def drain(self, box: MailBox) -> int:
        """Keep every unmarked message, then mark it; how many were taken."""
        taken = 0
        for uid in box.uids(AND(no_keyword=KEYWORD)):
            if self.stopping.is_set():
                break
            raw = _raw(box, uid)
            with self.pool.connection() as conn:
                outcome = ingest(
                    MailStore(conn), self.mall_id, self.settings.name, int(uid), raw, self.clock.now()
                )
            MAILBOX_MESSAGES.labels(outcome).inc()
            self.after_store(int(uid))
            box.flag(uid, KEYWORD, True)
            taken += 1
        return taken

    def _serve(self, box: MailBox) -> None:
        idle = "IDLE" in box.client.capabilities
        while not self.stopping.is_set():
            self.drain(box)
            if not idle:
                self.stopping.wait(self.settings.poll_seconds)
                continue
            deadline = time.monotonic() + self.settings.idle_seconds
            while not self.stopping.is_set() and time.monotonic() < deadline:
                if box.idle.wait(timeout=min(IDLE_SLICE, max(deadline - time.monotonic(), 0.1))):
                    break  # the server told of a change

    def _connect(self) -> MailBox:
        box = _mailbox(self.settings)
        return box.login(self.settings.user, self.settings.secret, initial_folder=self.settings.folder)

    def _connected(self) -> None:
        self.failures = 0
        self.connected.set()
        self._save_status({"connected": True, "failures": 0, "last_ok_at": self.clock.now()})
        log.info("mailbox connected", extra={"mailbox": self.settings.name})

    def _away(self, exc: Exception) -> None:
        self.connected.clear()
        self.failures += 1
        wait = min(2.0 ** (self.failures - 1), self.settings.retry_max_seconds)
        log.warning(
            "mailbox unreachable (attempt %d), trying again in %.0f s: %s",
            self.failures,
            wait,
            exc,
            extra={"mailbox": self.settings.name},
        )
        self._save_status(
            {
                "connected": False,
                "failures": self.failures,
                "last_error": str(exc)[:300],
                "next_retry_at": self.clock.now() + timedelta(seconds=wait),
            }
        )
        self.stopping.wait(wait)

    def _save_status(self, status: dict) -> None:
        try:
            with self.pool.connection() as conn:
                MailStore(conn).save_status(self.mall_id, self.settings.name, status, self.clock.now())
        except psycopg.Error as exc:  # the database away too: the log says so, the next pass tries again
            log.warning("mailbox status not saved: %s", exc)


def _mailbox(settings: MailboxSettings) -> MailBox:
    timeout = 30
    if settings.tls == "ssl":
        return MailBox(
            settings.host, settings.port or 993, timeout=timeout, ssl_context=ssl.create_default_context()
        )
    if settings.tls == "starttls":
        return MailBoxStartTls(
            settings.host, settings.port or 143, timeout=timeout, ssl_context=ssl.create_default_context()
        )
    return MailBoxUnencrypted(settings.host, settings.port or 143, timeout=timeout)


def _raw(box: MailBox, uid: str) -> bytes:
    """The message exactly as the server holds it; BODY.PEEK leaves \\Seen as it was."""
    status, data = box.client.uid("FETCH", uid, "(BODY.PEEK[])")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    raise imaplib.IMAP4.error(f"message {uid} could not be fetched: {status}")
