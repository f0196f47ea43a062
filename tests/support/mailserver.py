"""A real SMTP server (aiosmtpd) in the test process, and a local HTTP server standing in for an SMS
gateway or a department's webhook. Both record what they receive and answer as a test tells them."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.support.processes import free_port

# aiosmtpd narrates every connection at INFO from its own thread ("EOF received" as a client
# leaves), which can land after pytest has closed the stream it captured logs into: a "Logging
# error" traceback in the run for nothing that went wrong. Its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()

    def attachments(self) -> list[tuple[str, bytes]]:
        return [(part.get_filename(), part.get_content()) for part in self.message.iter_attachments()]


@dataclass
class _Handler:
    received: list[ReceivedMail] = field(default_factory=list)
    refuse: dict[str, str] = field(
        default_factory=dict
    )  # recipient -> SMTP answer, e.g. "550 5.1.1 no such user"
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0  # seconds before each message is accepted
    receiving: set[str] = field(default_factory=set)  # recipients whose message's DATA has come in

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:  # the client now waits for the answer: a test may cut it off here
            self.receiving.update(envelope.rcpt_tos)
        if self.delay:
            await asyncio.sleep(self.delay)  # a mail server that takes its time over each message
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Ok: queued"


class MailServer:
    """aiosmtpd on 127.0.0.1:<free port>; `received` lists every message accepted."""

    def __init__(self, delay: float = 0.0, **controller_options):
        self.handler = _Handler(delay=delay)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **controller_options)

    @property
    def received(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.received)

    def to(self, address: str) -> list[ReceivedMail]:
        return [mail for mail in self.received if address in mail.rcpt_tos]

    def refuse(self, address: str, answer: str) -> None:
        self.handler.refuse[address] = answer

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


@dataclass
class ReceivedPost:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw)


class HttpReceiver:
    """A local HTTP server recording each POST; `answers` maps a JSON `phone` (or '*') to a status."""

    def __init__(self):
        self.received: list[ReceivedPost] = []
        self.answers: dict[str, int] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(ReceivedPost(self.path, dict(self.headers), raw))
                try:
                    key = json.loads(raw).get("phone", "*")
                except ValueError:
                    key = "*"
                status = receiver.answers.get(key, receiver.answers.get("*", 200))
                body = json.dumps({"code": "OK" if status < 300 else "ERROR", "request_id": "gw-1"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> HttpReceiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
