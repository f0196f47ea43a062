"""The printable letter (PDF) of a written reply, with reportlab.

Chinese text is set in reportlab's built-in CID font STSong-Light, which every PDF reader has, so
no font file is needed on the server.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer

from services.notify.adapters.templates import Rendered

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))  # registering twice is harmless

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=12, leading=20, spaceAfter=8, wordWrap="CJK")
_HEAD = ParagraphStyle("head", parent=_BODY, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=4)
_RIGHT = ParagraphStyle("right", parent=_BODY, alignment=TA_RIGHT, spaceAfter=0)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=10, leading=14, spaceAfter=0)


def letter_pdf(
    message: Rendered, mall_name: str, number: str, today: str, to_lines: tuple[str, ...] = ()
) -> bytes:
    """The letter as an A4 PDF: letterhead, addressee, reference and date, body, signature."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=20 * mm, bottomMargin=20 * mm,
        title=message.subject, author=mall_name,
    )  # fmt: skip
    story = [
        Paragraph(_markup((mall_name,)), _HEAD),
        HRFlowable(width="100%", thickness=1.5),
        Spacer(1, 6 * mm),
    ]
    if to_lines:
        story += [Paragraph(_markup(to_lines), _SMALL), Spacer(1, 6 * mm)]
    story.append(Paragraph(_markup((number, today)), _RIGHT))
    story.append(Spacer(1, 6 * mm))
    story += [Paragraph(_markup(lines), _BODY) for lines in message.paragraphs]
    if message.signature:
        story += [Spacer(1, 10 * mm), Paragraph(_markup(message.signature), _RIGHT)]
    document.build(story)
    return buffer.getvalue()


def _markup(lines: tuple[str, ...]) -> str:
    """reportlab's paragraph markup: text escaped, lines joined by <br/>."""
    return "<br/>".join(escape(line) for line in lines)
