"""Reading one e-mailed complaint: its sender, subject, readable text and attachments, whether it is
an auto-reply or a bounce, and which thread it answers. Pure: bytes in, a `ReadMail` out.

Chinese mail comes in GB2312/GBK/GB18030, Big5 and UTF-8. GB2312 and GBK are read as GB18030 (their
superset: a sender's "gb2312" often holds GBK characters) and Big5 as Big5-HKSCS, for the same reason.
HTML-only messages become text through inscriptis (docs/decisions/0004-email-intake.md).
"""

from __future__ import annotations

import email
import email.message
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header
from email.utils import getaddresses, parsedate_to_datetime

from inscriptis import get_text

CHARSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
}
GUESSES = ("utf-8", "gb18030", "big5hkscs")
# Structural defects the parser notes when a message is not what it claims (no boundary, cut off).
BROKEN = {
    "NoBoundaryInMultipartDefect",
    "StartBoundaryNotFoundDefect",
    "CloseBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "MissingHeaderBodySeparatorDefect",
}
AUTO_SUBJECTS = re.compile(
    r"^\s*(自动回复|自動回覆|自动答复|Auto(matic)?[ -]?(reply|response)|Auto:|Out of (the )?Office|"
    r"Abwesenheit|Vacation)",
    re.IGNORECASE,
)
BOUNCE_SUBJECTS = re.compile(
    r"^\s*(退信|系统退信|Undeliverable|Undelivered Mail|Delivery Status Notification|"
    r"Mail delivery failed|Returned mail|Delivery Failure)",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ReadMail:
    """One message as the desk needs it. `set_aside`: why it is no complaint (auto_reply, bounce);
    `problem`: why it could not be read in full (no_sender, broken_structure, undecodable_text)."""

    message_key: str
    message_id: str | None
    sender_name: str | None
    sender_address: str | None
    subject: str
    body: str
    sent_at: datetime | None
    references: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    set_aside: str | None = None
    problem: str | None = None


def read_mail(raw: bytes) -> ReadMail:
    message = email.message_from_bytes(raw)
    message_id = _ids(message.get("Message-ID"))
    sender_name, sender_address = _sender(message)
    body, attachments, problem = _content(message, raw)
    if problem is None and sender_address is None:
        problem = "no_sender"
    return ReadMail(
        message_key=message_id[0] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest(),
        message_id=message_id[0] if message_id else None,
        sender_name=sender_name,
        sender_address=sender_address,
        subject=_header(message.get("Subject")),
        body=body,
        sent_at=_date(message.get("Date")),
        references=tuple(dict.fromkeys(_ids(message.get("In-Reply-To")) + _ids(message.get("References")))),
        attachments=attachments,
        set_aside=_set_aside(message, sender_address),
        problem=problem,
    )


def decode(payload: bytes, charset: str | None) -> tuple[str, bool]:
    """The text, and whether it decoded cleanly with the declared charset or one guessed."""
    declared = CHARSETS.get((charset or "").lower(), (charset or "").lower())
    for candidate in ((declared,) if declared else ()) + GUESSES:
        try:
            return payload.decode(candidate), True
        except (UnicodeDecodeError, LookupError):
            continue
    return payload.decode(declared if _known(declared) else "utf-8", errors="replace"), False


def _known(charset: str) -> bool:
    try:
        "".encode(charset)
    except LookupError:
        return False
    return bool(charset)


def _header(value) -> str:
    if value is None:
        return ""
    words = []
    for chunk, charset in decode_header(str(value)):
        words.append(decode(chunk, charset)[0] if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(words).split())


def _ids(value) -> list[str]:
    return re.findall(r"<[^<>\s]+>", str(value or ""))


def _sender(message: email.message.Message) -> tuple[str | None, str | None]:
    found = getaddresses([_header(message.get("From"))])
    name, address = found[0] if found else ("", "")
    if "@" not in address:
        return (name or None), None
    return (name or None), address.lower()


def _date(value) -> datetime | None:
    try:
        sent = parsedate_to_datetime(str(value)) if value else None
    except (TypeError, ValueError, IndexError):
        return None
    if sent is not None and sent.tzinfo is None:  # "-0000": the zone unknown, the time given in UTC
        return sent.replace(tzinfo=UTC)
    return sent


def _content(message: email.message.Message, raw: bytes) -> tuple[str, tuple[Attachment, ...], str | None]:
    plain, html, attachments, clean = [], [], [], True
    broken = any(type(defect).__name__ in BROKEN for part in message.walk() for defect in part.defects)
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        filename = _header(part.get_filename()) if part.get_filename() else None
        if part.get_content_disposition() == "attachment" or (
            filename and part.get_content_maintype() != "text"
        ):
            attachments.append(Attachment(filename or "attachment", part.get_content_type(), payload))
            continue
        text, ok = decode(payload, part.get_content_charset())
        clean = clean and ok
        (html if part.get_content_subtype() == "html" else plain).append(text)
    body = "\n\n".join(plain) if any(item.strip() for item in plain) else "\n\n".join(map(get_text, html))
    if broken:
        return (body.strip() or _after_headers(raw)), tuple(attachments), "broken_structure"
    return body.strip(), tuple(attachments), None if clean else "undecodable_text"


def _after_headers(raw: bytes) -> str:
    """What follows the headers, as text: a broken message's body for the desk to read."""
    _, _, rest = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    return decode(rest, None)[0].strip()


def _set_aside(message: email.message.Message, sender: str | None) -> str | None:
    """auto_reply or bounce (RFC 3834's Auto-Submitted, RFC 3464's delivery reports, the usual
    subjects and senders), else None."""
    subject = _header(message.get("Subject"))
    if message.get_content_type() == "multipart/report" or BOUNCE_SENDERS.match(sender or ""):
        return "bounce"
    if BOUNCE_SUBJECTS.match(subject) or (message.get("Return-Path") or "").strip() == "<>":
        return "bounce"
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    if auto != "no" or precedence in {"bulk", "junk", "auto_reply", "list"}:
        return "auto_reply"
    if message.get("X-Autoreply") or message.get("X-Autorespond") or AUTO_SUBJECTS.match(subject):
        return "auto_reply"
    return None


def whole_text(raw: bytes) -> ReadMail:
    """A message that could not be read at all, as text for the desk (problem: unreadable)."""
    return ReadMail(
        message_key="sha256:" + hashlib.sha256(raw).hexdigest(),
        message_id=None,
        sender_name=None,
        sender_address=None,
        subject="",
        body=decode(raw, None)[0],
        sent_at=None,
        references=(),
        attachments=(),
        problem="unreadable",
    )
