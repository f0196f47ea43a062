"""The mailbox worker against a real dovecot: every message kept once, read, marked, never lost."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import generate_latest

from services.intake.mail.worker import KEYWORD
from services.runner.background import Background
from tests.integration.mail.conftest import drain, messages
from tests.support import mails
from tests.support.waiting import eventually


class Killed(BaseException):
    """The worker's process ends here, between the store's commit and the mark in the mailbox."""


def twenty() -> list[bytes]:
    """The issue's batch: 20 messages, among them an HTML-only one, GBK and Big5 ones, a photo, an
    auto-reply, a malformed one and a second copy of message 3 (same Message-ID)."""
    batch = [mails.plain(number) for number in range(1, 14)]
    batch += [
        mails.html_only(14),
        mails.plain(15, "二楼奶茶店的饮料有异物，要求退款。", charset="gbk"),
        mails.plain(16, "四樓電梯故障，困了十分鐘。", charset="big5", subject="投訴 16"),
        mails.with_photo(17),
        mails.auto_reply(18),
        mails.malformed(19),
        mails.plain(3),
    ]
    return batch


def test_twenty_messages_become_eighteen_drafts_the_auto_reply_set_aside_and_the_duplicate_once(
    imap, intake, mailbox_worker
):
    imap.deliver(*twenty())

    assert drain(mailbox_worker()) == 20

    drafts = messages(intake, "draft")
    assert len(drafts) == 18
    assert [row["reason"] for row in messages(intake, "set_aside")] == ["auto_reply"]
    assert all(KEYWORD in flags for flags in imap.flags().values())
    assert drain(mailbox_worker()) == 0  # nothing left unmarked
    assert len(messages(intake)) == 19


def test_chinese_charsets_and_html_are_read_as_text(imap, intake, mailbox_worker):
    imap.deliver(
        mails.html_only(1),
        mails.plain(2, "二楼奶茶店的饮料有异物", charset="gbk"),
        mails.plain(3, "四樓電梯故障", charset="big5", subject="投訴 3"),
        mails.plain(4, "𠮷野家的米饭有石子", charset="gb18030"),
    )

    drain(mailbox_worker())

    first, gbk, big5, gb18030 = messages(intake)
    assert "我在二楼买的鞋子开胶了。" in first["body"] and "要求退款" in first["body"]
    assert "<" not in first["body"]
    assert (gbk["body"], gbk["sender_name"], gbk["subject"]) == ("二楼奶茶店的饮料有异物", "李先生", "投诉 2")
    assert big5["body"] == "四樓電梯故障" and big5["sender_name"] == "李先生"
    assert gb18030["body"] == "𠮷野家的米饭有石子"
    assert all(row["problem"] is None for row in (first, gbk, big5, gb18030))


def test_a_photo_and_a_receipt_are_kept_with_the_draft(imap, intake, mailbox_worker):
    imap.deliver(mails.with_photo(1))

    drain(mailbox_worker())

    (draft,) = messages(intake, "draft")
    with intake.pool.connection() as conn:
        kept = conn.execute(
            "SELECT filename, content_type, content FROM intake.email_attachments WHERE message_id = %s"
            " ORDER BY position",
            (draft["id"],),
        ).fetchall()
    assert [(row["filename"], row["content_type"]) for row in kept] == [
        ("小票.jpg", "image/jpeg"),
        ("receipt.pdf", "application/pdf"),
    ]
    assert bytes(kept[0]["content"]) == mails.PHOTO
    assert draft["body"] == "小票和照片在附件里。"


def test_auto_replies_and_bounces_are_set_aside_not_deleted(imap, intake, mailbox_worker):
    imap.deliver(mails.auto_reply(1), mails.bounce(2))

    drain(mailbox_worker())

    assert [(row["kind"], row["reason"]) for row in messages(intake)] == [
        ("set_aside", "auto_reply"),
        ("set_aside", "bounce"),
    ]
    assert len(imap.flags()) == 2  # both still in the mailbox


def test_a_malformed_message_is_kept_with_the_reason_and_its_text(imap, intake, mailbox_worker):
    imap.deliver(mails.malformed(1))

    drain(mailbox_worker())

    (draft,) = messages(intake)
    assert draft["kind"] == "draft" and draft["problem"] == "broken_structure"
    assert "四楼洗手间没有纸" in draft["body"]
    assert bytes(draft["raw"]).startswith(b"From: customer1@")


def test_a_message_id_seen_before_is_kept_once(imap, intake, mailbox_worker):
    imap.deliver(mails.plain(1), mails.plain(1, "同一封信又到了一次"))

    drain(mailbox_worker())

    assert len(messages(intake)) == 1
    assert all(KEYWORD in flags for flags in imap.flags().values())


def test_a_worker_killed_between_store_and_mark_neither_loses_nor_doubles(imap, intake, mailbox_worker):
    imap.deliver(*twenty())

    def die_at_seventh(uid: int) -> None:
        if uid == 7:
            raise Killed

    with pytest.raises(Killed):
        drain(mailbox_worker(after_store=die_at_seventh))
    marked = [uid for uid, flags in imap.flags().items() if KEYWORD in flags]
    assert len(marked) == 6 and len(messages(intake)) == 7  # the 7th stored, not marked

    drain(mailbox_worker())

    assert len(messages(intake, "draft")) == 18 and len(messages(intake, "set_aside")) == 1
    assert all(KEYWORD in flags for flags in imap.flags().values())


def test_the_running_worker_takes_new_mail_as_it_arrives(imap, intake, mailbox_worker):
    running = mailbox_worker()
    thread = threading.Thread(target=running.run)
    thread.start()
    try:
        eventually(running.is_ready)
        imap.deliver(mails.plain(1))
        eventually(lambda: messages(intake, "draft"))
    finally:
        running.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_an_unreachable_mailbox_is_retried_and_shown_on_readiness_and_metrics(imap, intake, mailbox_worker):
    imap.stop()
    running = mailbox_worker()
    workers = Background([running]).start()
    try:
        eventually(lambda: running.failures >= 2, timeout=10)
        assert workers.readiness() == {"mailbox": "not connected"}
        with intake.pool.connection() as conn:
            status = conn.execute("SELECT * FROM intake.mailbox_status").fetchone()
        assert status["connected"] is False and status["failures"] >= 1 and status["next_retry_at"]
        scraped = generate_latest(_Registry(intake.mailbox_state())).decode()
        assert 'mall_mailbox_up{mailbox="complaints@mall.test@127.0.0.1/INBOX"} 0.0' in scraped
    finally:
        assert workers.stop(10)


class _Registry:
    def __init__(self, collector):
        self.collector = collector

    def collect(self):
        return self.collector.collect()
