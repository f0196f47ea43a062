"""The console's report pages: the daily review, the monthly report with reporting's charts and its
exports (downloaded through the console, never with a token in the browser), the callback list."""

from __future__ import annotations

import io
from urllib.parse import quote

import openpyxl


def test_the_daily_review_lists_todays_new_complaint_with_a_link_to_its_case(browser, mall):
    recorded = mall.record()
    ops = browser()
    ops.login("ops")

    page = ops.get("/console/reports/daily")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "2026-11-22" in html and recorded["number"] in html
    assert f'href="/console/cases/{recorded["id"]}"' in html
    assert '<b id="count-new">1</b>' in html


def test_a_bad_day_comes_back_on_the_form_naming_the_field(browser, mall):
    ops = browser()
    ops.login("ops")

    page = ops.get("/console/reports/daily?date=2026-13-45")

    assert page.status_code == 400
    assert 'data-field="date"' in page.get_data(as_text=True)


def test_the_monthly_report_shows_the_month_beside_the_one_before_with_reportings_charts(browser, mall):
    mall.record()
    ops = browser()
    ops.login("ops")

    page = ops.get("/console/reports/monthly?month=2026-11").get_data(as_text=True)
    framed = ops.get("/console/reports/monthly.html?month=2026-11")

    assert (
        '<span id="period-label">2026年11月</span>' in page and "report-period" not in page
    )  # said once, in the frame
    assert 'src="/console/reports/monthly.html?month=2026-11"' in page
    for fmt in ("xlsx", "csv", "pdf"):
        assert f'href="/console/reports/monthly.{fmt}?month=2026-11"' in page
    assert framed.status_code == 200 and framed.mimetype == "text/html"
    assert framed.get_data(as_text=True).count("<svg") == 3  # reporting's three charts, drawn by reporting
    assert "script-src" not in framed.headers["Content-Security-Policy"]  # default-src 'none': no script
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]


def test_the_exports_download_through_the_console_with_the_session_alone(browser, mall):
    mall.record()
    ops = browser()
    ops.login("ops")
    page = ops.get("/console/reports/monthly?month=2026-11").get_data(as_text=True)

    xlsx = ops.get("/console/reports/monthly.xlsx?month=2026-11")
    pdf = ops.get("/console/reports/monthly.pdf?month=2026-11")
    csv = ops.get("/console/reports/monthly.csv?month=2026-11")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))

    assert "Bearer" not in page and "Authorization" not in page
    assert (
        xlsx.status_code == 200
        and 'filename="month-report-2026-11.xlsx"' in xlsx.headers["Content-Disposition"]
    )
    # saved under the report's own title: 月报 2026年11月.xlsx
    assert f"filename*=UTF-8''{quote('月报 2026年11月.xlsx')}" in xlsx.headers["Content-Disposition"]
    assert book.sheetnames and any(sheet.title for sheet in book.worksheets)
    assert pdf.data.startswith(b"%PDF") and csv.data.decode("utf-8-sig").startswith("栏目,项目,本期")
    assert xlsx.headers["Cache-Control"] == "private, no-store"


def test_the_report_files_follow_the_consoles_language(browser, mall):
    ops = browser()
    ops.login("ops")

    chinese = ops.get("/console/reports/weekly.html?week=2026-W47").get_data(as_text=True)
    ops.get("/console/lang/en")
    english = ops.get("/console/reports/weekly.html?week=2026-W47").get_data(as_text=True)

    assert "工作周报" in chinese and "Weekly report" in english


def test_a_floor_supervisor_gets_its_floors_report_and_a_designer_no_report_at_all(browser, mall):
    floor3, designer = browser(), browser()
    floor3.login("floor3")
    designer.login("designer")

    mall.settle()  # reporting hears the floors' names
    scoped = floor3.get("/console/reports/monthly.html?month=2026-11").get_data(as_text=True)

    assert "三层" in scoped  # the report's scope line: its floors by name
    assert designer.get("/console/reports/daily").status_code == 403
    assert designer.get("/console/reports/monthly.xlsx?month=2026-11").status_code == 403


def test_a_bad_month_is_refused_naming_it(browser, mall):
    ops = browser()
    ops.login("ops")

    page = ops.get("/console/reports/monthly?month=november")

    assert page.status_code == 400 and 'data-field="month"' in page.get_data(as_text=True)


def test_the_callback_list_shows_the_desk_the_contacts_and_the_managers_them_masked(browser, mall):
    recorded = mall.record(customer_request=["compensation", "apology"])
    desk, ops, floor3 = browser(), browser(), browser()
    for client, name in ((desk, "desk"), (ops, "ops"), (floor3, "floor3")):
        client.login(name)

    for_desk = desk.get("/console/reports/callbacks?month=2026-11").get_data(as_text=True)
    for_ops = ops.get("/console/reports/callbacks?month=2026-11").get_data(as_text=True)
    exported = desk.get("/console/reports/callbacks.xlsx?month=2026-11")

    assert "13912345678" in for_desk and f'href="/console/cases/{recorded["id"]}"' in for_desk
    assert "13912345678" not in for_ops and "139****5678" in for_ops and 'id="callbacks-masked"' in for_ops
    assert '<td class="requests">赔偿、道歉</td>' in for_desk  # what the customer asks for, in its words
    sheet = openpyxl.load_workbook(io.BytesIO(exported.data)).active
    assert sheet.max_row >= 2 and "赔偿、道歉" in [cell.value for row in sheet.iter_rows() for cell in row]
    assert floor3.get("/console/reports/callbacks").status_code == 403
