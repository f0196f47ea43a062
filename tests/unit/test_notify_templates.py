"""Message templates: every kind in every language renders, with the facts a customer needs; a new
kind or a broken mall template still gives a message; the letter is a PDF in Chinese."""

from __future__ import annotations

import io
from datetime import date

import pypdf
import pytest

from services.notify.adapters.pdf import letter_pdf
from services.notify.adapters.templates import BUILTIN_DIR, TemplateRenderer
from services.notify.domain.model import Audience, Channel, ComplaintFacts, Contact, Recipient, Request
from services.notify.domain.wording import template_values

KINDS = sorted(path.stem for path in (BUILTIN_DIR / "zh-CN").glob("*.j2"))
COMPLAINT = ComplaintFacts(
    id="c1", mall_id="demo", number="TS-20261122-0007", channel="letter", category="merchant_service",
    customer=Contact(name="王女士", phone="13912345678", address="上海市浦东新区世纪大道 1 号"),
    merchant={"code": "M-3F-001", "shop_name": "优品服饰"}, floor="3F", promised_reply_date=date(2026, 11, 25),
)  # fmt: skip
DATA = {"queue": "floor_supervisor", "reply_text": "已为您办理退款 399 元。", "resolution": "商户致歉并退款",
        "new_reply_date": "2026-12-04", "failed_kind": "reply", "failed_audience": "customer",
        "failed_channel": "email", "error": "550 5.1.1 no such user", "reason": "permanent_error",
        "occurrences": 3, "window_days": 30, "numbers": ["TS-20261120-0003", "TS-20261122-0007"],
        "merchant_name": "优品服饰"}  # fmt: skip


def values(kind: str, language: str, audience=Audience.CUSTOMER, mall="星河广场购物中心") -> dict:
    request = Request(id="r1", mall_id="demo", complaint_id="c1", kind=kind, to="customer",
                      number=COMPLAINT.number, data=DATA)  # fmt: skip
    recipient = Recipient(audience, Channel.EMAIL, "wang@example.com", "王女士", language)
    return template_values(request, COMPLAINT, recipient, mall, date(2026, 11, 23), date(2026, 11, 22))


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


def test_the_acknowledgement_links_the_status_page_and_gives_the_desks_phone():
    link = "https://mall.example.com/intake/status?number=TS-20261122-0007"
    request = Request(id="r1", mall_id="demo", complaint_id="c1", kind="acknowledgement", to="customer",
                      number=COMPLAINT.number, data=DATA)  # fmt: skip
    recipient = Recipient(Audience.CUSTOMER, Channel.SMS, "13912345678", "王女士", "zh-CN")
    given = template_values(request, COMPLAINT, recipient, "星河广场购物中心", date(2026, 11, 23), date(2026, 11, 22),
                            status_url=link, desk_phone="021-6888 1234")  # fmt: skip

    message = TemplateRenderer(strict=True).render("acknowledgement", "zh-CN", given)

    assert message.sms.endswith(f"查询进度：{link}")
    assert f"手机号码后四位在此查询处理进度：{link}" in message.text
    assert "联系服务台（电话 021-6888 1234）" in message.text


def test_a_reply_date_reminder_names_the_date_in_force_after_a_postponement():
    request = Request(id="r1", mall_id="demo", complaint_id="c1", kind="reply_date_reminder", to="floor_supervisor",
                      number=COMPLAINT.number, data={"reply_due": "2026-12-04T23:59:59+08:00"})  # fmt: skip
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
    staff = renderer.render("merchant_answered", "en", values("merchant_answered", "en", Audience.STAFF))
    odd = renderer.render("../../etc/passwd", "fr", values("x", "fr"))

    assert customer.template == "zh-CN/generic.j2" and "TS-20261122-0007" in customer.subject
    assert staff.template == "en/generic.j2" and "merchant_answered" in staff.subject
    assert odd.template == "zh-CN/generic.j2"  # no such language, and never a path outside the folder


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
    assert "letterhead" in message.html and "此致" in message.html
