"""The e-mail channel against a real SMTP server that wants TLS and a login: STARTTLS, implicit
TLS (smtps://), AUTH, a refused login (transient: the settings are at fault, not the address)."""

from __future__ import annotations

import ssl
import subprocess

import pytest
from aiosmtpd.smtp import AuthResult

from services.notify.adapters.channels import OutgoingMessage, TransientFailure
from services.notify.adapters.channels.email import SmtpChannel, parse_smtp_url
from tests.support.mailserver import MailServer

MESSAGE = OutgoingMessage(
    delivery_id="d-1",
    complaint_id="c-1",
    mall_id="demo",
    number="TS-20261122-0001",
    kind="acknowledgement",
    audience="customer",
    channel="email",
    address="wang@example.com",
    recipient_name="王女士",
    language="zh-CN",
    subject="您的投诉已受理",
    text="投诉编号 TS-20261122-0001",
    html=None,
    sms=None,
    message_id="<d-1@galaxy.example>",
)


@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this test's TLS clients."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # ssl.create_default_context() trusts it
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def only_mailer(server, session, envelope, mechanism, auth_data):
    accepted = auth_data.login == b"mailer" and auth_data.password == b"s@cret"
    return AuthResult(success=accepted, handled=False)  # not handled: the server answers 535 itself


def test_starttls_and_a_login_deliver_the_message(certificate):
    server = MailServer(
        tls_context=certificate, require_starttls=True, authenticator=only_mailer, auth_require_tls=True
    ).start()
    try:
        channel = SmtpChannel(
            parse_smtp_url(f"smtp://mailer:s%40cret@127.0.0.1:{server.port}?starttls=true"),
            "complaints@galaxy.example",
            "星河广场购物中心",
        )
        answer = channel.send(MESSAGE)
        channel.close()
    finally:
        server.stop()
    assert answer.startswith("250")
    [received] = server.to("wang@example.com")
    assert received.message["Message-ID"] == "<d-1@galaxy.example>"


def test_a_refused_login_is_transient_and_says_so(certificate):
    server = MailServer(
        tls_context=certificate, require_starttls=True, authenticator=only_mailer, auth_require_tls=True
    ).start()
    try:
        channel = SmtpChannel(
            parse_smtp_url(f"smtp://mailer:wrong@127.0.0.1:{server.port}", starttls=True),
            "complaints@galaxy.example",
            "星河广场购物中心",
        )
        with pytest.raises(TransientFailure, match="refused our login: 535"):
            channel.send(MESSAGE)
        without_tls = SmtpChannel(
            parse_smtp_url(f"smtp://127.0.0.1:{server.port}"), "complaints@galaxy.example", "M"
        )
        with pytest.raises(TransientFailure, match="530"):  # the server wants STARTTLS first
            without_tls.send(MESSAGE)
    finally:
        server.stop()
    assert server.received == []


def test_implicit_tls_delivers_the_message(certificate):
    server = MailServer(ssl_context=certificate).start()
    try:
        channel = SmtpChannel(
            parse_smtp_url(f"smtps://127.0.0.1:{server.port}"), "complaints@galaxy.example", "M"
        )
        assert channel.send(MESSAGE).startswith("250")
        channel.close()
    finally:
        server.stop()
    assert len(server.to("wang@example.com")) == 1
