"""Keeping one message read from the mailbox: a draft, a customer's answer, or set aside."""

from __future__ import annotations

import logging
from datetime import datetime

from services.intake.mail.reading import ReadMail, read_mail, whole_text
from services.intake.mail.store import MailStore

log = logging.getLogger(__name__)


def ingest(store: MailStore, mall_id: str, mailbox: str, uid: int | None, raw: bytes, now: datetime) -> str:
    """Store the message in one transaction; the outcome: draft, answer, set_aside or duplicate."""
    mail = _read(raw)
    with store.conn.transaction():
        complaint_id = None if mail.set_aside else store.thread_of(mall_id, mail.references)
        stored = store.add(mall_id, mailbox, uid, mail, raw, now, complaint_id)
    if stored is None:
        return "duplicate"
    outcome = "set_aside" if mail.set_aside else ("answer" if complaint_id else "draft")
    log.info("e-mail kept", extra={"outcome": outcome, "problem": mail.problem, "uid": uid})
    return outcome


def _read(raw: bytes) -> ReadMail:
    """The message as read; one the reader cannot make sense of at all is kept whole, with why."""
    try:
        return read_mail(raw)
    except Exception:  # a message must never stop the mailbox: kept as it came, for the desk to read
        log.exception("an e-mail could not be read; kept as it came", extra={"bytes": len(raw)})
        return whole_text(raw)
