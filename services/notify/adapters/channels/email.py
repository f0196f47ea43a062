"""E-mail over SMTP with the standard library's smtplib: implicit TLS, STARTTLS and AUTH as set.

SMTP_URL is `smtp://[user:password@]host[:port]` (STARTTLS when SMTP_STARTTLS is true or the URL
says `?starttls=true`) or `smtps://…` (TLS from the first byte, port 465 by default). Every
message carries a Message-ID made from its delivery id, so a message sent again after a crash is
recognisably the same one.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
import unicodedata
from dataclasses import dataclass
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from services.common.errors import ConfigurationError
from services.notify.adapters.channels import OutgoingMessage, PermanentFailure, TransientFailure

SMTP_POLICY = compat32.clone(linesep="\r\n")
# What may not be in an address given as a recipient: a line break would start a header of its own
# and `<>,;` or a space would make it two addresses (or a name and an address).
_NOT_IN_ADDRESS = re.compile(r'[\x00-\x20\x7f<>,;()"\\\[\]\u0085\u2028\u2029]')


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False
    starttls: bool = False


def parse_smtp_url(url: str, starttls: bool = False) -> SmtpServer:
    """SMTP_URL as a server description; a clear ConfigurationError when it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ConfigurationError(
            f"SMTP_URL must look like smtp://user:pass@host:25 or smtps://host:465, not {url!r}"
        )
    query = parse_qs(parts.query)
    wants_starttls = starttls or query.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"}
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError as exc:
        raise ConfigurationError(f"SMTP_URL has a bad port: {exc}") from exc
    return SmtpServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=parts.scheme == "smtps",
        starttls=wants_starttls and parts.scheme == "smtp",
    )


def build_email(message: OutgoingMessage, sender: str, sender_name: str) -> Message:
    """The MIME message: plain text, the HTML alternative, the PDF letter when there is one.

    Built with the classic `email.mime` classes: four times faster than `EmailMessage`'s header
    registry, which was the largest cost of a send. So the header values are made safe here: names
    and the subject on one line (`one_line`), the recipient a single address (`recipient`).
    """
    body: Message = MIMEText(message.text, "plain", "utf-8")
    if message.html:
        body = MIMEMultipart("alternative", _subparts=[body, MIMEText(message.html, "html", "utf-8")])
    if message.pdf:
        letter = MIMEApplication(message.pdf, "pdf")
        letter.add_header("Content-Disposition", "attachment", filename=f"{message.number}.pdf")
        body = MIMEMultipart("mixed", _subparts=[body, letter])
    body["From"] = formataddr((one_line(sender_name), sender), "utf-8")
    body["To"] = formataddr((one_line(message.recipient_name or ""), recipient(message.address)), "utf-8")
    body["Subject"] = Header(one_line(message.subject), "utf-8")
    body["Date"] = formatdate(localtime=False)
    body["Message-ID"] = message.message_id
    if message.params.get("in_reply_to"):  # a Message-ID read as <…> without spaces: one line, safe
        body["In-Reply-To"] = message.params["in_reply_to"]
        body["References"] = message.params["references"]
    body["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to this
    body["X-Complaint-Number"] = message.number
    return body


def one_line(text: str) -> str:
    """Header text on one line: a name or subject typed with line breaks (or other control
    characters) must not start a header of its own, nor be refused by the receiving side's parser."""
    return " ".join("".join(" " if _breaks(char) else char for char in text).split())


def _breaks(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Zl", "Zp"}  # controls, line and paragraph separators


def recipient(address: str) -> str:
    """The address alone; one that could be read as more than one, or as a header, is refused for good."""
    if not address or _NOT_IN_ADDRESS.search(address) or address.count("@") != 1:
        raise PermanentFailure(f"not a single e-mail address: {address!r}")
    return address


def as_smtp_bytes(email: Message) -> bytes:
    """CRLF line ends: smtplib sends bytes as they are, and servers refuse bare LF lines."""
    return email.as_bytes(policy=SMTP_POLICY)


class SmtpChannel:
    """Sends through one SMTP connection, kept open between messages and reopened when it drops."""

    def __init__(self, server: SmtpServer, sender: str, sender_name: str, timeout: float = 30.0):
        self.server = server
        self.sender = sender
        self.sender_name = sender_name
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: OutgoingMessage) -> str:
        email = build_email(message, self.sender, self.sender_name)
        for last_try in (False, True):
            reused = self._smtp is not None
            try:
                return self._transaction(self._connection(), email, message.address)
            except _StaleConnection:
                # A connection kept from earlier had dropped before anything was sent: once more, fresh.
                self.close()
                if not reused or last_try:
                    raise TransientFailure("the mail server closed the connection") from None
            except (TransientFailure, PermanentFailure):
                self._reset()
                raise
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise TransientFailure(f"mail server unreachable: {exc}") from exc
        raise AssertionError("unreachable")

    def _transaction(self, smtp: smtplib.SMTP, email: Message, address: str) -> str:
        try:
            code, answer = smtp.mail(self.sender)
        except smtplib.SMTPServerDisconnected as exc:
            raise _StaleConnection() from exc
        _check(code, answer, "sender", permanent_5xx=False)  # our own sender refused: fix the settings
        code, answer = smtp.rcpt(address)
        _check(code, answer, "recipient")
        try:
            code, answer = smtp.data(as_smtp_bytes(email))
        except smtplib.SMTPDataError as exc:  # refused before the message was sent (not 354)
            _check(exc.smtp_code, exc.smtp_error, "message")
            raise
        _check(code, answer, "message")  # refused after it was (smtplib returns that code)
        return f"{code} {_text(answer)}"

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        server, context = self.server, ssl.create_default_context()
        if server.implicit_tls:
            smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if server.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.username:
                smtp.login(server.username, server.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise TransientFailure(
                f"the mail server refused our login: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    def _reset(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (OSError, smtplib.SMTPException):
                self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.quit()
            smtp.close()


class _StaleConnection(Exception):
    """The kept connection was found closed before the message was handed over."""


def _check(code: int, answer: bytes | str, stage: str, permanent_5xx: bool = True) -> None:
    if 200 <= code < 400:
        return
    text = f"{code} {_text(answer)} ({stage})"
    if 500 <= code < 600 and permanent_5xx:
        raise PermanentFailure(text)
    raise TransientFailure(text)


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
