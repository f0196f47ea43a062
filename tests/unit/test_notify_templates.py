"""Message templates: every kind in every language renders, with the facts a customer needs; a new
kind or a broken mall template still gives a message; the letter is a PDF in Chinese."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pypdf
import pytest

from services.notify.adapters.pdf import letter_pdf
from services.notify.adapters.reference import load_places
from services.notify.adapters.templates import BUILTIN_DIR, TemplateRenderer
from services.notify.domain.model import Audience, Channel, ComplaintFacts, Contact, Recipient, Request
from services.notify.domain.wording import date_time, long_date, template_values
from tests.support.pdf import embedded_fonts, used_fonts

KINDS = sorted(path.stem for path in (BUILTIN_DIR / "zh-CN").glob("*.j2"))
COMPLAINT = ComplaintFacts(
    id="c1",
    mall_id="demo",
    number="TS-20261122-0007",
    channel="letter",
    category="merchant_service",
    customer=Contact(name="王女士", phone="13912345678", address="上海市浦东新区世纪大道 1 号"),
    merchant={"code": "M-3F-001", "shop_name": "优品服饰"},
    floor="3F",
    promised_reply_date=date(2026, 11, 25),
)
DATA = {
    "queue": "floor_supervisor",
    "reply_text": "已为您办理退款 399 元。",
    "resolution": "商户致歉并退款",
    "new_reply_date": "2026-12-04",
    "failed_kind": "reply",
    "failed_audience": "customer",
    "failed_channel": "email",
    "error": "no contact details to reach the customer",
    "reason": "permanent_error",
    "occurrences": 3,
    "window_days": 30,
    "numbers": ["TS-20261120-0003", "TS-20261122-0007"],
    "merchant_name": "优品服饰",
    "major_reasons": ["injury", "collective"],
    "people_count": 12,
}


PLACES = load_places(None)  # the demo mall's floors and departments
SHANGHAI = ZoneInfo("Asia/Shanghai")


def values(
    kind: str, language: str, audience=Audience.CUSTOMER, mall="星河广场购物中心", complaint=COMPLAINT
) -> dict:
    to = "floor_supervisor" if audience == Audience.STAFF else str(audience)
    request = Request(
        id="r1", mall_id="demo", complaint_id="c1", kind=kind, to=to, number=COMPLAINT.number, data=DATA
    )
    recipient = Recipient(audience, Channel.EMAIL, "wang@example.com", "王女士", language)
    return template_values(
        request,
        complaint,
        recipient,
        mall,
        date(2026, 11, 23),
        date(2026, 11, 22),
        places=PLACES,
        zone=SHANGHAI,
    )


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_built_in_template_renders_with_only_the_documented_values(kind, language):
    renderer = TemplateRenderer(strict=True)  # an undefined name is an error here, not an empty string

    message = renderer.render(kind, language, values(kind, language), letter=kind == "written_reply")

    assert message.template == f"{language}/{kind}.j2"
    assert message.subject and message.paragraphs and message.sms
    assert "TS-20261122-0007" in message.subject + message.text
    assert "TS-20261122-0007" in message.html and "<p>" in message.html


def test_the_acknowledgement_tells_the_customer_the_number_and_the_promised_date_in_chinese():
    message = TemplateRenderer().render("acknowledgement", "zh-CN", values("acknowledgement", "zh-CN"))

    assert message.subject == "【星河广场购物中心】您的投诉已受理（编号 TS-20261122-0007）"
    assert "尊敬的王女士：" in message.text
    assert "2026年11月25日前给您答复" in message.text
    assert "TS-20261122-0007" in message.sms and "2026年11月25日" in message.sms


@pytest.mark.parametrize(
    ("customer", "told"),
    [
        (Contact(name="王女士", phone="13912345678"), "凭投诉编号和手机号码后四位在此查询处理进度"),
        (Contact(name="李先生", email="li@example.com"), "凭投诉编号和您登记的电子邮箱在此查询处理进度"),
        (Contact(address="上海市世纪大道 1 号"), "如需了解处理进度或补充情况，请联系服务台"),
    ],
)
def test_the_acknowledgement_asks_for_what_the_status_page_takes_from_this_customer(customer, told):
    complaint = replace(COMPLAINT, customer=customer)

    message = TemplateRenderer().render(
        "acknowledgement", "zh-CN", values("acknowledgement", "zh-CN", complaint=complaint)
    )

    assert told in message.text
    assert customer.phone or "后四位" not in message.text


def test_the_acknowledgement_links_the_status_page_and_gives_the_desks_phone():
    link = "https://mall.example.com/intake/status?number=TS-20261122-0007"
    request = Request(
        id="r1",
        mall_id="demo",
        complaint_id="c1",
        kind="acknowledgement",
        to="customer",
        number=COMPLAINT.number,
        data=DATA,
    )
    recipient = Recipient(Audience.CUSTOMER, Channel.SMS, "13912345678", "王女士", "zh-CN")
    given = template_values(
        request,
        COMPLAINT,
        recipient,
        "星河广场购物中心",
        date(2026, 11, 23),
        date(2026, 11, 22),
        status_url=link,
        desk_phone="021-6888 1234",
    )

    message = TemplateRenderer(strict=True).render("acknowledgement", "zh-CN", given)

    assert message.sms.endswith(f"查询进度：{link}")
    assert f"手机号码后四位在此查询处理进度：{link}" in message.text
    assert "联系服务台（电话 021-6888 1234）" in message.text


def test_a_reply_date_reminder_names_the_date_in_force_after_a_postponement():
    request = Request(
        id="r1",
        mall_id="demo",
        complaint_id="c1",
        kind="reply_date_reminder",
        to="floor_supervisor",
        number=COMPLAINT.number,
        data={"reply_due": "2026-12-04T23:59:59+08:00"},
    )
    supervisor = Recipient(Audience.STAFF, Channel.INBOX, None, "三楼楼管 王强", "zh-CN")
    postponed = template_values(
        request, COMPLAINT, supervisor, "星河广场购物中心", date(2026, 12, 3), date(2026, 11, 22)
    )

    message = TemplateRenderer(strict=True).render("reply_date_reminder", "zh-CN", postponed)

    assert "2026年12月4日" in message.subject and "2026年11月25日" not in message.text


def test_the_html_part_escapes_what_the_customer_or_staff_wrote():
    hostile = {**values("reply", "zh-CN"), "reply_text": "<script>alert(1)</script>"}

    message = TemplateRenderer().render("reply", "zh-CN", hostile)

    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "<script>alert(1)</script>" in message.text  # the plain text stays as written


def test_an_unknown_kind_gets_the_generic_template_for_customers_and_staff():
    renderer = TemplateRenderer(strict=True)

    customer = renderer.render("merchant_answered", "zh-CN", values("merchant_answered", "zh-CN"))
    staff = renderer.render(
        "merchant_answered", "zh-CN", values("merchant_answered", "zh-CN", Audience.STAFF)
    )
    named = renderer.render("letter_to_print", "en", values("letter_to_print", "en", Audience.STAFF))
    odd = renderer.render("../../etc/passwd", "fr", values("x", "fr"))

    assert customer.template == "zh-CN/generic.j2" and "TS-20261122-0007" in customer.subject
    # a kind is named as the catalogue names it, one it does not know yet as a new notice: never its code
    assert staff.subject == "投诉 TS-20261122-0007：新通知" and "merchant_answered" not in staff.text
    assert (
        named.template == "en/generic.j2" and named.subject == "Complaint TS-20261122-0007: Letter to print"
    )
    assert odd.template == "zh-CN/generic.j2"  # no such language, and never a path outside the folder


# In a zh-CN message only complaint numbers and addresses are in Latin letters.
ALLOWED = re.compile(r"TS-\d{8}-\d{4}|https?://\S+|[\w.+-]+@[\w.-]+")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}")


@pytest.mark.parametrize("audience", [Audience.CUSTOMER, Audience.STAFF])
@pytest.mark.parametrize("kind", [*KINDS, "merchant_answered"])
def test_a_chinese_message_names_floors_departments_and_kinds_and_shows_no_code_or_english_word(
    kind, audience
):
    """Every built-in zh-CN template, for a complaint about a 3F shop handled by the cleaning department."""
    complaint = ComplaintFacts(
        **{
            **COMPLAINT.__dict__,
            "department": "cleaning",
            "received_at": datetime(2026, 11, 22, 2, 30, tzinfo=UTC),
        }
    )
    message = TemplateRenderer(strict=True).render(
        kind, "zh-CN", values(kind, "zh-CN", audience, complaint=complaint)
    )

    for text in (message.subject, message.text, message.sms):
        shown = ALLOWED.sub("", text)
        assert not re.search(r"[A-Za-z]", shown), (kind, text)
        assert not ISO_TIME.search(shown), (kind, text)
        assert "3F" not in text and "cleaning" not in text


def test_floors_departments_and_dates_are_named_in_the_readers_language_and_the_malls_zone():
    complaint = ComplaintFacts(**{**COMPLAINT.__dict__, "department": "cleaning"})
    chinese = values("escalated", "zh-CN", Audience.STAFF, complaint=complaint)
    english = values("escalated", "en", Audience.STAFF, complaint=complaint)
    late_evening = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 1 December, 01:30 in Shanghai

    assert (chinese["floor"], chinese["department"], chinese["kind_name"]) == ("三层", "保洁部", "升级")
    assert (english["floor"], english["department"], english["kind_name"]) == (
        "Level 3",
        "Cleaning",
        "Escalation",
    )
    assert (chinese["floor_code"], chinese["department_code"]) == ("3F", "cleaning")
    assert long_date(late_evening, "zh-CN", SHANGHAI) == "2026年12月1日"
    assert long_date("2026-11-30T17:30:00+00:00", "en", SHANGHAI) == "1 December 2026"
    assert date_time(late_evening, "zh-CN", SHANGHAI) == "2026年12月1日 01:30"
    assert long_date(date(2026, 1, 5), "en") == "5 January 2026"  # Babel's month names, no table of ours


def test_the_desks_alert_of_a_failed_message_says_what_failed_in_chinese():
    message = TemplateRenderer(strict=True).render(
        "delivery_failed", "zh-CN", values("delivery_failed", "zh-CN")
    )

    assert "（答复，发给顾客，经邮件）未能送达：没有可联系顾客的方式" in message.text


def test_the_store_managers_notice_of_a_major_complaint_says_why_it_is_major():
    message = TemplateRenderer(strict=True).render(
        "major_received", "zh-CN", values("major_received", "zh-CN", Audience.STAFF)
    )

    assert message.subject == "重大投诉 TS-20261122-0007：人身伤害和群体投诉，已转店总处理"
    assert "属于重大投诉：人身伤害和群体投诉，涉及 12 人" in message.text
    assert "（人身伤害和群体投诉，12人）" in message.sms


def test_a_malls_own_template_is_used_and_a_broken_one_falls_back_to_the_built_in(tmp_path):
    (tmp_path / "zh-CN").mkdir()
    (tmp_path / "zh-CN" / "acknowledgement.j2").write_text(
        "{% block subject %}{{ mall_name }}已收到 {{ number }}{% endblock %}{% block body %}谢谢。{% endblock %}",
        encoding="utf-8",
    )
    (tmp_path / "zh-CN" / "reply.j2").write_text(
        "{% block subject %}{{ number }{% endblock %}", encoding="utf-8"
    )
    renderer = TemplateRenderer(tmp_path)

    own = renderer.render("acknowledgement", "zh-CN", values("acknowledgement", "zh-CN"))
    broken = renderer.render("reply", "zh-CN", values("reply", "zh-CN"))

    assert own.subject == "星河广场购物中心已收到 TS-20261122-0007" and own.text == "谢谢。"
    assert broken.template == "zh-CN/reply.j2" and "处理结果" in broken.subject  # the built-in one


def test_templates_cannot_reach_python_internals():
    from jinja2.exceptions import SecurityError

    from services.notify.adapters.templates import _environment

    env = _environment([BUILTIN_DIR], strict=False)

    with pytest.raises(SecurityError):
        env.from_string("{{ ''.__class__.__mro__ }}").render()


def test_the_written_reply_is_a_chinese_letter_in_the_malls_name_as_pdf():
    message = TemplateRenderer().render(
        "written_reply", "zh-CN", values("written_reply", "zh-CN"), letter=True
    )

    pdf = letter_pdf(
        message,
        "星河广场购物中心",
        COMPLAINT.number,
        "2026年11月23日",
        ("王女士", "上海市浦东新区世纪大道 1 号"),
    )
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)

    assert pdf.startswith(b"%PDF")
    for expected in (
        "星河广场购物中心",
        "TS-20261122-0007",
        "尊敬的王女士",
        "已为您办理退款",
        "此致",
        "客户服务中心",
        "上海市浦东新区",
    ):
        assert expected in text, expected
    assert embedded_fonts(pdf) == used_fonts(pdf) == {"WenQuanYiZenHei"}  # prints the same anywhere
    assert "letterhead" in message.html and "此致" in message.html


@pytest.mark.parametrize("greeting", ["您好，", "您好！", "您好, ", "你好，\n", "您好"])
def test_the_written_reply_greets_once_when_the_canned_reply_opens_with_a_greeting(monkeypatch, greeting):
    monkeypatch.setitem(DATA, "reply_text", f"{greeting}关于您反映的价格问题，差价已退还。")

    letter = TemplateRenderer(strict=True).render(
        "written_reply", "zh-CN", values("written_reply", "zh-CN"), letter=True
    )

    assert (
        letter.text.count("您好") == 1 and "答复如下：\n\n关于您反映的价格问题，差价已退还。" in letter.text
    )


def test_the_written_reply_keeps_a_reply_that_opens_with_you_seem_whole(monkeypatch):
    monkeypatch.setitem(DATA, "reply_text", "您好像误会了店员的意思：该商品不在活动范围内。")

    letter = TemplateRenderer(strict=True).render(
        "written_reply", "zh-CN", values("written_reply", "zh-CN"), letter=True
    )

    assert "答复如下：\n\n您好像误会了店员的意思" in letter.text


def test_the_written_reply_tells_the_customer_the_desks_phone():
    letter = TemplateRenderer(strict=True).render(
        "written_reply",
        "zh-CN",
        {**values("written_reply", "zh-CN"), "desk_phone": "021-6888 1234"},
        letter=True,
    )

    assert "欢迎随时与我们联系（服务台电话：021-6888 1234）。" in letter.text
