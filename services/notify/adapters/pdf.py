"""The printable letter (PDF) of a written reply, with reportlab.

Chinese text is set in the mall's PDF font, embedded as a subset (services/common/pdffonts.py), so
the letter prints the same wherever it is opened.
"""

from __future__ import annotations

import functools
import io
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer

from services.common.pdffonts import register_cjk_font
from services.notify.adapters.templates import Rendered


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    """The letter's paragraph styles, made on first use: the font is registered (or found missing)
    when a letter is drawn, not when notify starts."""
    body = ParagraphStyle(
        "body", fontName=register_cjk_font(), fontSize=12, leading=20, spaceAfter=8, wordWrap="CJK"
    )
    return {
        "body": body,
        "head": ParagraphStyle(
            "head", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4
        ),
        "right": ParagraphStyle("right", parent=body, alignment=TA_RIGHT, spaceAfter=0),
        "small": ParagraphStyle("small", parent=body, fontSize=10, leading=14, spaceAfter=0),
    }


def letter_pdf(
    message: Rendered, mall_name: str, number: str, today: str, to_lines: tuple[str, ...] = ()
) -> bytes:
    """The letter as an A4 PDF: letterhead, addressee, reference and date, body, signature."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=message.subject,
        author=mall_name,
        initialFontName=register_cjk_font(),  # no page names a font it does not carry (reportlab starts in Helvetica)
    )
    style = _styles()
    story = [
        Paragraph(_markup((mall_name,)), style["head"]),
        HRFlowable(width="100%", thickness=1.5),
        Spacer(1, 6 * mm),
    ]
    if to_lines:
        story += [Paragraph(_markup(to_lines), style["small"]), Spacer(1, 6 * mm)]
    story.append(Paragraph(_markup((number, today)), style["right"]))
    story.append(Spacer(1, 6 * mm))
    story += [Paragraph(_markup(lines), style["body"]) for lines in message.paragraphs]
    if message.signature:
        story += [Spacer(1, 10 * mm), Paragraph(_markup(message.signature), style["right"])]
    document.build(story)
    return buffer.getvalue()


def _markup(lines: tuple[str, ...]) -> str:
    """reportlab's paragraph markup: text escaped, lines joined by <br/>."""
    return "<br/>".join(escape(line) for line in lines)
