"""The Chinese font every PDF of the mall is set in, embedded (as a subset) in the file itself.

A PDF that only names a font (reportlab's CID font STSong-Light) shows its Chinese text only where the
reader has an Asian font pack; a printed report or 处理单 must read the same on any machine. So the
PDFs embed the glyphs they use from a TrueType font file: WenQuanYi Zen Hei, Debian's
``fonts-wqy-zenhei`` (a TTC whose first face is the proportional one; TrueType outlines, which
reportlab's TTFont reads and subsets; Noto Sans CJK's CFF outlines it cannot). The images install the
package (deploy/Dockerfile) and ``./dev`` says how to when it is missing
(docs/decisions/0009-embedded-pdf-font.md).
"""

from __future__ import annotations

import functools
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from services.common.errors import ConfigurationError

CJK_FONT = "WenQuanYiZenHei"
# Where Debian's package puts it (and the older name some releases used).
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy-zenhei/wqy-zenhei.ttc"),
)
MISSING = (
    "PDF files need the Chinese font WenQuanYi Zen Hei, which is not installed:"
    " apt-get install fonts-wqy-zenhei (Debian), then start again"
)


def font_file() -> Path | None:
    """The font file found on this machine, or None."""
    return next((path for path in FONT_FILES if path.is_file()), None)


@functools.cache
def register_cjk_font() -> str:
    """Register the font with reportlab once per process; its name for ParagraphStyle and friends.

    Raises ConfigurationError, naming the package to install, when the font file is missing.
    """
    found = font_file()
    if found is None:
        raise ConfigurationError(MISSING)
    pdfmetrics.registerFont(TTFont(CJK_FONT, str(found), subfontIndex=0))
    return CJK_FONT
