"""The printable report: an HTML page (Jinja, SVG charts) and a PDF (reportlab, vector charts)."""

from __future__ import annotations

import io
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from services.reporting.rendering.charts import charts, svg
from services.reporting.rendering.fonts import CJK_FONT, register_fonts
from services.reporting.rendering.labels import labels
from services.reporting.rendering.sections import Section, sections

_PAGES = Environment(loader=PackageLoader("services.reporting.rendering", "templates"),
                     autoescape=select_autoescape(["html"]))  # fmt: skip
TITLE = ParagraphStyle("title", fontName=CJK_FONT, fontSize=18, leading=24, spaceAfter=4)
META = ParagraphStyle("meta", fontName=CJK_FONT, fontSize=9, leading=12, textColor=colors.grey)
HEADING = ParagraphStyle("heading", fontName=CJK_FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)


def _title(report: dict[str, Any], lang: str) -> str:
    return labels(lang)["week" if report["period"]["kind"] == "week" else "month"]


def _scope(report: dict[str, Any], lang: str) -> str:
    scope = report["scope"]
    if scope is None:
        return labels(lang)["whole_mall"]
    return ", ".join(scope["floors"] + scope["departments"]) or labels(lang)["none"]


def report_html(report: dict[str, Any], lang: str) -> bytes:
    page = _PAGES.get_template("report.html").render(
        report=report, lang=lang, words=labels(lang), title=_title(report, lang), scope=_scope(report, lang),
        charts=[svg(drawing) for drawing in charts(report, lang)], sections=sections(report, lang),  # summary first
    )  # fmt: skip
    return page.encode("utf-8")


def report_pdf(report: dict[str, Any], lang: str) -> bytes:
    register_fonts()
    words, out = labels(lang), io.BytesIO()
    period = report["period"]
    story: list[Any] = [
        Paragraph(f"{_title(report, lang)} {period['label']}", TITLE),
        Paragraph(
            f"{period['first_day']} – {period['last_day']} · {words['previous']} "
            f"{report['previous_period']['label']} · {words['scope']}: {_scope(report, lang)} · "
            f"{words['generated']} {report.get('generated_local') or report['generated_at']}",
            META,
        ),
        Spacer(1, 4 * mm),
    ]
    summary, *details = sections(report, lang)  # the key figures first, then the charts, then the detail
    story.append(_table(summary, words))
    story += [KeepTogether([Spacer(1, 3 * mm), drawing]) for drawing in charts(report, lang)]
    story += [_table(section, words) for section in details]
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"{_title(report, lang)} {period['label']}",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    document.build(story)  # fmt: skip
    return out.getvalue()


def _table(section: Section, words: dict[str, str]) -> KeepTogether:
    rows = [list(section.columns)] + [
        ["-" if cell is None else str(cell) for cell in row] for row in section.rows
    ]
    if len(rows) == 1:
        rows.append([words["none"], "", ""])
    table = Table(rows, colWidths=[90 * mm, 45 * mm, 45 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), CJK_FONT), ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f3f6f9")), ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
    ]))  # fmt: skip
    return KeepTogether([Paragraph(section.title, HEADING), table])
