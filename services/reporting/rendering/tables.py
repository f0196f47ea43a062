"""The report and the callback list as CSV and as an XLSX workbook (openpyxl)."""

from __future__ import annotations

import csv
import io
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.common import i18n as vocabulary
from services.common.dates import moment
from services.reporting.rendering.sections import Figure, columns, sections
from services.reporting.rendering.words import listed, place, shop, word
from services.reporting.rendering.words import value as named

# How a spreadsheet knows a formula: a cell that starts so is one, unless it is only a number ("-5",
# "+86 139…" is not, "-2+3" is). Customers' names come from the desk and the web form.
_FORMULA_START = ("=", "@", "\t", "\r")
_SIGNS = ("+", "-")

CALLBACK_COLUMNS = (
    "number",
    "received_at",
    "category",
    "floor",
    "merchant_name",
    "customer_request",
    "status",
    "closed_as",
    "callback_reached",
    "callback_satisfied",
    "customer_name",
    "customer_phone",
    "customer_email",
    "preferred_reply_channel",
)
# The callback list is the desk's: in Chinese, its headings and terms from the vocabulary.
CALLBACK_LANGUAGE = "zh"


def report_csv(report: dict[str, Any], lang: str) -> bytes:
    """One row per figure: section, item, this period, previous (the trend: day, received, resolved),
    the section by its title (按楼层), as every other format names it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([word("section", lang), *columns(report, lang)])
    for section in sections(report, lang):
        writer.writerows([section.title, *map(_csv_text, row)] for row in section.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # a BOM, so Excel reads the Chinese as UTF-8


def report_xlsx(report: dict[str, Any], lang: str) -> bytes:
    """A sheet per section, the trend with a line chart and the category counts with a bar chart."""
    book = Workbook()
    book.remove(book.active)
    for section in sections(report, lang):
        sheet = book.create_sheet(section.title[:31])
        _table(sheet, section.columns, section.rows)
        if section.key == "trend" and section.rows:
            _chart(sheet, LineChart(), section.title, len(section.rows))
        elif section.key in ("by_category", "by_floor") and section.rows:
            _chart(sheet, BarChart(), section.title, len(section.rows))
    return _saved(book)


def callbacks_csv(found: dict[str, Any], zone: ZoneInfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_callback_headings())
    writer.writerows(map(_csv_text, _callback_row(found, item, zone)) for item in found["items"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def callbacks_xlsx(found: dict[str, Any], zone: ZoneInfo) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"{word('callbacks', CALLBACK_LANGUAGE)} {found['month']}"[:31]
    rows = [_callback_row(found, item, zone) for item in found["items"]]
    _table(sheet, _callback_headings(), rows)
    return _saved(book)


def _callback_row(found: dict[str, Any], item: dict[str, Any], zone: ZoneInfo) -> list[Any]:
    """One complainant's cells in CALLBACK_COLUMNS' order, every term and time as the desk reads it."""
    lang = CALLBACK_LANGUAGE
    row = {name: item[name] for name in CALLBACK_COLUMNS}
    row["received_at"] = moment(item["received_at"], zone, lang) if item["received_at"] else ""
    row["customer_request"] = listed(
        [named(code, lang) for code in item["customer_request"]], lang
    )  # 退款、道歉
    for name in ("category", "status", "preferred_reply_channel"):
        row[name] = named(item[name], lang) if item[name] else ""
    row["floor"] = place(found, "floors", item["floor"], lang)
    row["merchant_name"] = shop(item["merchant_name"], item.get("merchant_unit"), None, lang)
    row["closed_as"] = vocabulary.term("closed_as", item["closed_as"], lang)
    for name in ("callback_reached", "callback_satisfied"):
        row[name] = "" if item[name] is None else word("yes" if item[name] else "no", lang)
    return list(row.values())


def _callback_headings() -> list[str]:
    return [word(name, CALLBACK_LANGUAGE) for name in CALLBACK_COLUMNS]


def _table(sheet, columns, rows) -> None:
    sheet.append(list(columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
        for cell, value in zip(sheet[sheet.max_row], row, strict=False):
            if isinstance(value, Figure):  # an amount or a rate: the number, shown as the page shows it
                cell.value, cell.number_format = value.number, value.number_format
            elif cell.data_type == "f":  # openpyxl takes text starting with "=" for a formula: keep it text
                cell.data_type = "s"
    for index, column in enumerate(columns, start=1):
        width = max([len(str(column))] + [len(str(row[index - 1] or "")) for row in rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, width * 1.6), 60)
    sheet.freeze_panes = "A2"


def _chart(sheet, chart, title: str, count: int) -> None:
    chart.title, chart.height, chart.width = title, 8, 18
    chart.add_data(
        Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=count + 1), titles_from_data=True
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=count + 1))
    sheet.add_chart(chart, "E2")


def looks_like_a_formula(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    if value.startswith(_FORMULA_START):
        return True
    if value.startswith(_SIGNS) and len(value) > 1:
        try:
            float(value.replace(" ", ""))
        except ValueError:
            return True
    return False


def _csv_text(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula starts with `'`, which it reads as "text as is"."""
    return "'" + value if looks_like_a_formula(value) else value


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
