"""Fonts for Chinese text: reportlab's built-in CID font, so no font file needs to be installed."""

from __future__ import annotations

import functools

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

# A CID font the PDF viewer supplies (Adobe's Song for simplified Chinese); it also covers Latin text.
CJK_FONT = "STSong-Light"


@functools.cache
def register_fonts() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
