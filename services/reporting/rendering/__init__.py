"""Reports as files people open: CSV, XLSX, a printable HTML page and a PDF, with charts."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from services.common.dates import period_name
from services.reporting.rendering.pages import report_html, report_pdf, title
from services.reporting.rendering.tables import (
    CALLBACK_LANGUAGE,
    callbacks_csv,
    callbacks_xlsx,
    report_csv,
    report_xlsx,
)
from services.reporting.rendering.words import word

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_FORMATS = {
    "csv": (report_csv, "text/csv; charset=utf-8"),
    "xlsx": (report_xlsx, XLSX),
    "html": (report_html, "text/html; charset=utf-8"),
    "pdf": (report_pdf, "application/pdf"),
}
CALLBACK_FORMATS = {"csv": (callbacks_csv, "text/csv; charset=utf-8"), "xlsx": (callbacks_xlsx, XLSX)}


def render_report(report: dict[str, Any], fmt: str, lang: str) -> tuple[bytes, str, str, str]:
    """(body, media type, file name, the name in the reader's words) of a report in `fmt`: csv,
    xlsx, html or pdf. The file is saved as 月报 2026年11月.xlsx; the plain name is for a program
    that takes no other (month-report-2026-11.xlsx)."""
    render, media_type = REPORT_FORMATS[fmt]
    plain = f"{report['period']['kind']}-report-{report['period']['label']}.{fmt}"
    return render(report, lang), media_type, plain, f"{title(report, lang)}.{fmt}"


def render_callbacks(found: dict[str, Any], fmt: str, zone: ZoneInfo) -> tuple[bytes, str, str, str]:
    """(body, media type, file names as `render_report` gives them) of the callback list in csv or
    xlsx, its times in the mall's zone; it is the desk's, so named in Chinese: 月度回访名单 2026年11月."""
    render, media_type = CALLBACK_FORMATS[fmt]
    month = {"kind": "month", "label": found["month"], "first_day": f"{found['month']}-01"}
    named = f"{word('callbacks', CALLBACK_LANGUAGE)} {period_name(month, CALLBACK_LANGUAGE)}.{fmt}"
    return render(found, zone), media_type, f"callbacks-{found['month']}.{fmt}", named
