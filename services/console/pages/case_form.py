"""The printed 客户投诉处理单 as the paper form: its fields, the handling timeline, signature lines.

One description of the form (`paper_form`) feeds both the printable page (case_print.html) and its
PDF (`form_pdf`, the Chinese font embedded: services/common/pdffonts.py), so both say the same. Every
value is named as the console names it (terms from the vocabulary, floors, departments, shops and
people by name, times as 2026年12月6日 17:05 in the mall's zone); no code shows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.common import i18n as vocabulary
from services.common.dates import day, moment
from services.common.pdffonts import register_cjk_font
from services.console.auth.guard import console
from services.console.i18n import format_date, happening, is_day, label, labels, language, named, translate
from services.console.pages.names import department_name, floor_name, person, shop_name

# Who signs the paper form (PROCESS.md: the merchant's person signs a copy; a face-to-face reply is
# signed by the customer; the operations manager signs off resolutions).
SIGNERS = ("sign_customer", "sign_merchant", "sign_operations")


@dataclass(frozen=True)
class PaperForm:
    title: str
    number: str
    printed: str
    fields: list[tuple[str, str]]  # (label, value), in the paper form's order
    timeline: list[tuple[str, str, str, str]]  # when, who, what, detail
    columns: tuple[str, str, str, str]
    signatures: list[str]
    words: dict[str, str]


def word(key: str) -> str:
    return vocabulary.term("form", key, language())


def paper_form(complaint: dict, case: dict | None, timeline: list[dict]) -> PaperForm:
    """The form of a complaint (as intake shows it to this reader, masked or not) and its case."""
    zone = console().settings.zone
    lang = language()

    def when(value) -> str:
        return moment(_instant(value), zone, lang) if value else translate("common.none")

    merchant = complaint.get("merchant") or {}
    shop = (
        shop_name(merchant.get("code"), merchant.get("shop_name")) if merchant else translate("common.none")
    )
    if merchant.get("person_in_charge"):
        shop += f" · {word('merchant_person')}{merchant['person_in_charge']}"
    severity = label("severity", complaint.get("severity"))
    if complaint.get("major_reasons"):
        severity += word("reasons").format(reasons=labels("major_reason", complaint["major_reasons"]))
    request = labels("request", complaint.get("customer_request"))
    if complaint.get("amount"):
        request += f" · ¥{complaint['amount']}"
    customer = complaint.get("customer") or {}
    # the date agreed last: a postponement's, else intake's
    promised = complaint.get("reply_date_postponed_to") or complaint.get("promised_reply_date")
    fields = [
        (translate("receipt.number"), complaint["number"]),
        (
            translate("receipt.received"),
            f"{when(complaint.get('received_at'))} · {person(complaint.get('received_by'))}",
        ),
        (translate("intake.channel"), label("channel", complaint.get("channel"))),
        (translate("intake.category"), label("category", complaint.get("category"))),
        (translate("case.severity"), severity),
        (translate("case.status"), label("status", (case or {}).get("status") or complaint.get("status"))),
        (
            translate("intake.customer"),
            " · ".join(filter(None, (customer.get("name"), customer.get("phone"), customer.get("email"))))
            or translate("common.none"),
        ),
        (translate("intake.occurred_at"), when(complaint.get("occurred_at"))),
        (translate("intake.floor"), floor_name(complaint.get("floor")) or translate("common.none")),
        (translate("intake.merchant"), shop),
        (
            translate("intake.department"),
            department_name(complaint.get("department")) or translate("common.none"),
        ),
        (translate("intake.description"), complaint.get("description") or ""),
        (translate("intake.request"), request),
        (translate("intake.promised"), day(_day(promised), lang) if promised else translate("common.none")),
    ]
    rows = [(when(entry.get("at")), _who(entry), _what(entry), _detail(entry)) for entry in timeline]
    return PaperForm(
        title=f"{translate('app.mall')} · {translate('print.title')}",
        number=complaint["number"],
        printed=when(console().clock.now()),
        fields=fields,
        timeline=rows,
        columns=(word("when"), word("who"), word("what"), word("detail")),
        signatures=[word(key) for key in SIGNERS],
        words={key: word(key) for key in ("timeline", "date", "printed", "none", "pdf")},
    )


def _instant(value) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _who(entry: dict) -> str:
    """The person by name, with the role they acted in unless the name says it already (营运部经理 陈敏)
    or a service acted (系统)."""
    who = person(entry.get("actor"))
    role = label("role", entry["role"]) if entry.get("role") and entry["role"] != "service" else ""
    return word("with_role").format(who=who, role=role) if role and role not in who else who


def _pair(name: str, value: Any) -> str:
    return word("pair").format(name=name, value=value)


def _what(entry: dict) -> str:
    what = happening(entry)
    where = (
        named(entry.get("element_names"), "element", entry["element_id"]) if entry.get("element_id") else ""
    )
    # an element named as what it announces (已解决, announcing complaint.resolved) is said once
    return f"{what} · {where}" if where and where != what else what


def _detail(entry: dict) -> str:
    detail = entry.get("detail") or {}
    data = detail.get("data")
    if isinstance(data, dict) and data:
        return word("separator").join(
            _pair(named((entry.get("field_labels") or {}).get(key), "field", key), _value(entry, value))
            for key, value in data.items()
        )
    if entry.get("kind") == "case_migrated":  # as the case page shows it: from which version to which
        return (
            word("separator").join(
                _pair(
                    translate(f"timer.{side}_version"),
                    translate("processes.version_n", version=detail.get(side + "_version")),
                )
                for side in ("from", "to")
            )
            + word("separator")
            + _pair(translate("timer.reason"), detail.get("reason") or "")
        )
    if entry.get("kind") in ("timer_fired", "timer_moved"):
        return _pair(translate("timer.reason"), detail.get("reason") or "")
    if entry.get("kind") == "incident":  # the error itself is for the repairers' page
        return translate("case.incident_stopped")
    parts = []
    for key, value in detail.items():
        if key == "buffered" or (key == "name" and happening(entry) != label("kind", entry.get("kind"))):
            continue  # routing's bookkeeping; a message the line's name says already
        if value is None or value == {} or value == []:
            continue  # nothing to say (a task completed with no form: data {})
        if key == "name" and entry.get("kind") in ("message_delivered", "message_received"):
            value = label("message", value)
        elif key == "assignee":  # the person by name, as the case page shows them
            value = person(value)
        elif key == "queue":
            value = label("role", value)
        elif key == "process":
            value = label("process", value)
        elif key == "version":
            value = translate("processes.version_n", version=value)
        parts.append(_pair(label("detail", key), value))
    return word("separator").join(parts)


def _value(entry: dict, value: Any) -> str:
    if value is True or value is False:
        return translate("common.yes" if value else "common.no")
    if is_day(value):  # a date field's 2026-12-07, as the form prints every other day
        return format_date(value)
    if isinstance(value, str):
        return named((entry.get("option_labels") or {}).get(value), "option", value, value)
    return str(value)


def form_pdf(form: PaperForm) -> bytes:
    """The form on A4, as the desk files it: the fields, the timeline, a line for each signature."""
    font = register_cjk_font()
    text = ParagraphStyle("text", fontName=font, fontSize=10, leading=14, wordWrap="CJK")
    small = ParagraphStyle("small", parent=text, fontSize=9, leading=12)
    title = ParagraphStyle("title", parent=text, fontSize=17, leading=24, alignment=TA_CENTER, spaceAfter=2)
    heading = ParagraphStyle("heading", parent=text, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4)

    def cell(value: str, style: ParagraphStyle = text) -> Paragraph:
        return Paragraph(escape(value).replace("\n", "<br/>"), style)

    grid = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("FONTNAME", (0, 0), (-1, -1), font),
    ]
    fields = Table([[cell(name), cell(value)] for name, value in form.fields], colWidths=[34 * mm, 146 * mm])
    fields.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f0f0f0"))]))
    rows = [[cell(column, small) for column in form.columns]]
    rows += [[cell(value, small) for value in row] for row in form.timeline] or [
        [cell(form.words["none"], small)] * 4
    ]
    timeline = Table(rows, colWidths=[40 * mm, 30 * mm, 44 * mm, 66 * mm], repeatRows=1)
    timeline.setStyle(TableStyle([*grid, ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0"))]))
    blank = "_" * 18
    signatures = Table(
        [[cell(name), cell(blank), cell(form.words["date"]), cell(blank)] for name in form.signatures],
        colWidths=[42 * mm, 68 * mm, 14 * mm, 56 * mm],
        rowHeights=14 * mm,
    )
    signatures.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("FONTNAME", (0, 0), (-1, -1), font)])
    )
    story = [
        cell(form.title, title),
        cell(f"{form.fields[0][0]} {form.number} · {form.words['printed']} {form.printed}", small),
        Spacer(1, 4 * mm),
        fields,
        cell(form.words["timeline"], heading),
        timeline,
        Spacer(1, 6 * mm),
        KeepTogether(signatures),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{form.title} {form.number}",
        initialFontName=font,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    ).build(story)
    return out.getvalue()
