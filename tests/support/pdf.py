"""What a PDF carries: the fonts it embeds (pdffonts' "emb yes"), read with pypdf."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader


def embedded_fonts(pdf: bytes) -> set[str]:
    """The fonts a PDF carries in itself (a FontFile2 stream: TrueType), without the subsets' tags
    (reportlab writes a subset per 256 characters: ABCDEF+WenQuanYiZenHei-0, …-1)."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object().get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    found.add(re.sub(r"-\d+$", "", str(descendant.get_object()["/BaseFont"]).split("+")[-1]))
    return found


def used_fonts(pdf: bytes) -> set[str]:
    """Every font a PDF's pages name, embedded or not (Helvetica: a reader's own), as embedded_fonts names them."""
    return {
        re.sub(r"-\d+$", "", str(font.get_object()["/BaseFont"]).split("+")[-1])
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
