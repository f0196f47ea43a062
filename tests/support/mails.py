"""E-mails as customers' mail programs and mail servers send them, for the mailbox tests."""

from __future__ import annotations

from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from pathlib import Path

# A photo of a receipt, as a customer's phone takes it (the attachments tests' own).
PHOTO = (Path(__file__).resolve().parents[1] / "data" / "attachments" / "receipt.jpg").read_bytes()


def _headers(message, number: int, sender: str, subject: str, charset: str = "utf-8", **extra) -> bytes:
    message["From"] = formataddr((str(Header("李先生", charset)), sender))
    message["To"] = "complaints@mall.test"
    message["Subject"] = Header(subject, charset)
    message["Date"] = formatdate(1795000000 + number * 60)
    message["Message-ID"] = extra.pop("message_id", f"<customer-{number}@mail.example.cn>")
    for name, value in extra.items():
        message[name.replace("_", "-")] = value
    return message.as_bytes()


def plain(
    number: int, text: str = "三楼的店员态度很差，拒绝换货。", charset: str = "utf-8", **extra
) -> bytes:
    sender = extra.pop("sender", f"customer{number}@mail.example.cn")
    return _headers(
        MIMEText(text, "plain", charset),
        number,
        sender,
        extra.pop("subject", f"投诉 {number}"),
        charset,
        **extra,
    )


def html_only(number: int) -> bytes:
    html = "<html><body><p>我在<b>二楼</b>买的鞋子开胶了。</p><ul><li>要求退款</li></ul></body></html>"
    return _headers(
        MIMEText(html, "html", "utf-8"), number, f"customer{number}@mail.example.cn", "鞋子质量问题"
    )


def with_photo(number: int) -> bytes:
    message = MIMEMultipart("mixed")
    message.attach(MIMEText("小票和照片在附件里。", "plain", "utf-8"))
    photo = MIMEImage(PHOTO, "jpeg")
    photo.add_header("Content-Disposition", "attachment", filename=("utf-8", "", "小票.jpg"))
    message.attach(photo)
    receipt = MIMEApplication(b"%PDF-1.4 receipt", "pdf")
    receipt.add_header("Content-Disposition", "attachment", filename="receipt.pdf")
    message.attach(receipt)
    return _headers(message, number, f"customer{number}@mail.example.cn", "附照片的投诉")


def auto_reply(number: int) -> bytes:
    return plain(
        number, "我正在休假，将于下周回复。", subject="自动回复：投诉受理", Auto_Submitted="auto-replied"
    )


def bounce(number: int) -> bytes:
    report = MIMEMultipart("report", report_type="delivery-status")
    report.attach(MIMEText("Delivery to the following recipient failed permanently.", "plain", "utf-8"))
    return _headers(report, number, "mailer-daemon@mail.example.cn", "Undeliverable: 投诉受理")


def malformed(number: int) -> bytes:
    """A multipart message whose parts never come: its boundary is nowhere in the body."""
    return (
        f"From: customer{number}@mail.example.cn\r\nTo: complaints@mall.test\r\n"
        f"Subject: =?utf-8?b?5oqV6K+J?=\r\nMessage-ID: <customer-{number}@mail.example.cn>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="never-here"\r\n\r\n'
        "四楼洗手间没有纸，已经三天了。\r\n"
    ).encode()
