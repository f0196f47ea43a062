"""Reports as files people open: CSV, XLSX, a printable HTML page and a PDF, with charts."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from services.reporting.rendering.pages import report_html, report_pdf
from services.reporting.rendering.tables import callbacks_csv, callbacks_xlsx, report_csv, report_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_FORMATS = {
    "csv": (report_csv, "text/csv; charset=utf-8"),
    "xlsx": (report_xlsx, XLSX),
    "html": (report_html, "text/html; charset=utf-8"),
    "pdf": (report_pdf, "application/pdf"),
}
CALLBACK_FORMATS = {"csv": (callbacks_csv, "text/csv; charset=utf-8"), "xlsx": (callbacks_xlsx, XLSX)}


def render_report(report: dict[str, Any], fmt: str, lang: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of a report in `fmt`: csv, xlsx, html or pdf."""
    render, media_type = REPORT_FORMATS[fmt]
    return (
        render(report, lang),
        media_type,
        f"{report['period']['kind']}-report-{report['period']['label']}.{fmt}",
    )


def render_callbacks(found: dict[str, Any], fmt: str, zone: ZoneInfo) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the callback list in csv or xlsx, its times in the mall's zone."""
    render, media_type = CALLBACK_FORMATS[fmt]
    return render(found, zone), media_type, f"callbacks-{found['month']}.{fmt}"
