"""Reading an e-mailed complaint: charsets, HTML, set-aside rules, the dedupe key, threads."""

from __future__ import annotations

import pytest

from services.intake.mail.reading import read_mail
from tests.support import mails


def test_a_gb2312_labelled_message_holding_gbk_characters_is_read_as_gb18030():
    raw = mails.plain(1, "顾客反映：镕铖商店态度差", charset="gbk").replace(
        b'charset="gbk"', b'charset="gb2312"'
    )

    assert read_mail(raw).body == "顾客反映：镕铖商店态度差"


def test_html_only_mail_becomes_text_without_tags():
    mail = read_mail(mails.html_only(1))

    assert "我在二楼买的鞋子开胶了。" in mail.body and "<" not in mail.body


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (mails.auto_reply(1), "auto_reply"),
        (mails.bounce(2), "bounce"),
        (mails.plain(3, subject="Out of Office: 投诉"), "auto_reply"),
        (mails.plain(4, Precedence="bulk"), "auto_reply"),
        (mails.plain(5, sender="MAILER-DAEMON@mx.example.cn"), "bounce"),
        (mails.plain(6, Auto_Submitted="no"), None),
        (mails.plain(7), None),
    ],
)
def test_auto_replies_and_bounces_are_recognised(raw, reason):
    assert read_mail(raw).set_aside == reason


def test_a_message_without_message_id_is_keyed_by_its_digest():
    raw = mails.plain(1).replace(b"Message-ID: <customer-1@mail.example.cn>\n", b"")

    mail = read_mail(raw)

    assert mail.message_id is None and mail.message_key.startswith("sha256:")
    assert read_mail(raw).message_key == mail.message_key


def test_the_thread_is_read_from_in_reply_to_and_references_once_each():
    raw = mails.plain(1, In_Reply_To="<b@x>", References="<a@x> <b@x>")

    assert read_mail(raw).references == ("<b@x>", "<a@x>")


def test_a_date_without_a_zone_is_taken_as_utc():
    assert read_mail(mails.plain(1)).sent_at.utcoffset().total_seconds() == 0
