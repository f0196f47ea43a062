"""The operations manager's morning: the daily review, then the monthly report, downloaded as XLSX."""

from __future__ import annotations

import re

import openpyxl

from tests.browser.conftest import ARTIFACTS, reload_until, screenshot


def test_the_operations_manager_opens_the_daily_review_and_the_monthly_report_and_downloads_the_xlsx(
    person, desk_api, mall
):
    recorded = desk_api()
    ops = person("ops")

    ops.click("#nav-reports")
    reload_until(ops, f"{mall}/console/reports/daily", f"#review-new tr[data-number='{recorded['number']}']")
    assert ops.inner_text("#review-date") == "2026年11月22日" and ops.inner_text("#count-new") == "1"
    screenshot(ops, "20-ops-daily-review")
    ops.click(f"#review-new tr[data-number='{recorded['number']}'] a.case-link")
    assert ops.inner_text("#case-number") == recorded["number"]

    ops.goto(f"{mall}/console/reports/daily")
    ops.click("#reports-nav a:text('月报')")
    ops.fill("#period-form input[name=month]", "2026-11")
    ops.click("#period-form button")
    ops.wait_for_selector("#report-frame[data-ready=true]")
    assert ops.inner_text("#period-label") == "2026年11月"  # the days and the previous month: in the frame
    report = ops.frame_locator("#report-frame")
    assert report.locator("svg").count() == 3  # reporting's charts: trend, by category, by floor
    body = report.locator("body").inner_text()
    # one title; November so far beside the same days of October; no ISO date or time
    assert report.locator("h1").count() == 1 and report.locator("h1").inner_text() == "月报 2026年11月"
    assert "上期 2026年10月1日" in body and not re.search(r"\d{4}-\d{2}-\d{2}", body)
    screenshot(ops, "21-ops-monthly-report")

    with ops.expect_download() as started:
        ops.click("#export-xlsx")
    download = started.value
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)
    book = openpyxl.load_workbook(saved)
    cells = [str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert download.suggested_filename == "月报 2026年11月.xlsx"  # in the reader's words
    assert len(book.worksheets) > 1 and "本期 11月1日至" in " ".join(cells)
