"""The printable report: an HTML page (Jinja, SVG charts) and a PDF (reportlab, vector charts, the
Chinese font embedded: services/common/pdffonts.py)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.common.dates import period_name
from services.common.pdffonts import register_cjk_font
from services.reporting.rendering.charts import charts, svg
from services.reporting.rendering.sections import Section, sections
from services.reporting.rendering.words import listed, place, short_span, span, word, words

_PAGES = Environment(
    loader=PackageLoader("services.reporting.rendering", "templates"), autoescape=select_autoescape(["html"])
)


def title(report: dict[str, Any], lang: str) -> str:
    """The report's one title: 月报 2026年12月, 工作周报 2026年第49周."""
    return f"{word(report['period']['kind'], lang)} {period_name(report['period'], lang)}"


def subtitle(report: dict[str, Any], lang: str) -> str:
    """The days it counts (so far), the previous span beside it, whose, and when it was made."""
    period, previous = report["period"], report["previous_period"]
    days = _span(period, lang)
    if not period.get("complete", True):
        last = date.fromisoformat(period["last_day"])
        days += word("so_far", lang, day=short_span(last, last, lang))
    parts = [
        days,
        f"{word('previous', lang)} {_span(previous, lang)}",
        word("scope", lang) + scope(report, lang),
    ]
    if report.get("generated_local"):
        parts.append(f"{word('generated', lang)} {report['generated_local']}")
    return " · ".join(parts)


def scope(report: dict[str, Any], lang: str) -> str:
    """全商场, or the reader's floors and departments by name (三层、保安部)."""
    found = report["scope"]
    if found is None:
        return word("whole_mall", lang)
    names = [place(report, "floors", code, lang) for code in found["floors"]] + [
        place(report, "departments", code, lang) for code in found["departments"]
    ]
    return listed(names, lang) or word("none", lang)


def report_html(report: dict[str, Any], lang: str) -> bytes:
    page = _PAGES.get_template("report.html").render(
        lang=lang,
        words=words(lang),
        title=title(report, lang),
        subtitle=subtitle(report, lang),
        charts=[svg(drawing) for drawing in charts(report, lang)],
        sections=sections(report, lang),  # summary first
    )
    return page.encode("utf-8")


def report_pdf(report: dict[str, Any], lang: str) -> bytes:
    font = register_cjk_font()
    styles = _styles(font)
    out = io.BytesIO()
    story: list[Any] = [
        Paragraph(escape(title(report, lang)), styles["title"]),
        Paragraph(escape(subtitle(report, lang)), styles["meta"]),
        Spacer(1, 4 * mm),
    ]
    summary, *details = sections(report, lang)  # the key figures first, then the charts, then the detail
    story.append(_table(summary, lang, font, styles))
    story += [KeepTogether([Spacer(1, 5 * mm), drawing]) for drawing in charts(report, lang)]
    story += [_table(section, lang, font, styles) for section in details]
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        initialFontName=font,  # no page names a font it does not carry (reportlab starts in Helvetica)
        title=title(report, lang),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    document.build(story)
    return out.getvalue()


def _styles(font: str) -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=font, fontSize=18, leading=24, spaceAfter=4),
        "meta": ParagraphStyle(
            "meta", fontName=font, fontSize=9, leading=13, textColor=colors.grey, wordWrap="CJK"
        ),
        "heading": ParagraphStyle(
            "heading", fontName=font, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4
        ),
        "cell": ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK"),
    }


def _table(section: Section, lang: str, font: str, styles: dict[str, ParagraphStyle]) -> KeepTogether:
    rows = [list(section.columns)] + [
        [Paragraph(escape(str(row[0])), styles["cell"]), *("-" if cell is None else cell for cell in row[1:])]
        for row in section.rows
    ]
    if len(rows) == 1:
        rows.append([word("none", lang), "", ""])
    table = Table(rows, colWidths=[90 * mm, 45 * mm, 45 * mm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f6f9")),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
            ]
        )
    )
    return KeepTogether([Paragraph(escape(section.title), styles["heading"]), table])


def _span(period: dict[str, Any], lang: str) -> str:
    return span(date.fromisoformat(period["first_day"]), date.fromisoformat(period["last_day"]), lang)
