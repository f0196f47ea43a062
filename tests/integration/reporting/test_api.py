"""Reporting's HTTP API: the daily review, the report in every format, the callback list, who may read what."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import REFERENCE_CHANGED
from tests.support.pdf import embedded_fonts, used_fonts
from tests.support.stories import ZONE, Round, Story, events

DAY = datetime(2026, 11, 20, tzinfo=ZONE)  # the review's day, in the mall
NOW = DAY + timedelta(hours=18)


def at(hours: float) -> datetime:
    return (DAY + timedelta(hours=hours)).astimezone(UTC)


@pytest.fixture
def cases(feed, clock):
    """Cases around 2026-11-20: new that day, overdue, escalated that day, resolved that day, others."""
    clock.set(NOW)
    told = {
        "new_open": Story(received_at=at(9), merchant="M-3F-001", requests=["refund", "apology"]),
        "new_resolved": Story(received_at=at(8), merchant="M-2F-003", rounds=[Round(at(10), at(11))]),
        "overdue_reply": Story(received_at=at(-24 * 6), merchant="M-3F-001", rounds=[Round(at(-24 * 5))]),
        "escalated": Story(
            received_at=at(-30),
            merchant=None,
            floor="B1",
            department="cleaning",
            category="environment",
            escalations=[(at(3), "operations_manager")],
        ),
        "closed_long_ago": Story(
            received_at=at(-24 * 15),
            rounds=[Round(at(-24 * 14), at(-24 * 14), at(-24 * 13))],
            closed_at=at(-24 * 13),
            requests=["exchange"],
            customer={"name": "李先生", "phone": "13700001111", "email": "li@example.cn"},
        ),
        "anonymous": Story(
            received_at=at(-24 * 3),
            channel="suggestion_box",
            customer={"anonymous": True},
            requests=[],
            rounds=[Round(at(-24 * 3 + 5), at(-24 * 3 + 6))],
        ),
    }
    feed(event for story in told.values() for event in events(story))
    return told


def numbers(review_list: dict) -> set[str]:
    return {item["number"] for item in review_list["items"]}


def test_the_daily_review_lists_the_day_s_new_overdue_escalated_and_resolved_cases(cases, api, staff):
    answer = api.get("/reviews/daily?date=2026-11-20", headers=staff("operations_manager"))

    assert answer.status_code == 200, answer.json
    review = answer.json
    assert numbers(review["new"]) == {cases["new_open"].number, cases["new_resolved"].number}
    assert review["new"]["count"] == 2
    # unreplied past the reply date; and the escalated one, whose first task is past its 24 h
    assert numbers(review["overdue"]) == {cases["overdue_reply"].number, cases["escalated"].number}
    assert numbers(review["escalated"]) == {cases["escalated"].number}
    assert review["escalated"]["items"][0]["escalated_to"] == ["operations_manager"]
    assert numbers(review["resolved"]) == {cases["new_resolved"].number}
    limited = api.get("/reviews/daily?date=2026-11-20&limit=1", headers=staff("operations_manager")).json
    assert limited["new"]["count"] == 2 and len(limited["new"]["items"]) == 1
    scoped = api.get(
        "/reviews/daily?date=2026-11-20", headers=staff("department_manager", departments=["cleaning"])
    )
    assert numbers(scoped.json["overdue"]) == {cases["escalated"].number}


def test_the_monthly_report_is_served_as_csv_xlsx_html_and_pdf(cases, api, staff, feed):
    """In Chinese words in every format: floors and departments by the mall's names (intake's last
    reference.changed), dates as people write them, the month so far beside the same days before."""
    feed([places()])
    desk = staff("service_desk")
    as_json = api.get("/reports/monthly?month=2026-11", headers=desk).json
    received = str(as_json["current"]["received"])

    table = list(
        csv.reader(
            io.StringIO(
                api.get("/reports/monthly?month=2026-11&format=csv", headers=desk).data.decode("utf-8-sig")
            )
        )
    )
    book = load_workbook(io.BytesIO(api.get("/reports/monthly?month=2026-11&format=xlsx", headers=desk).data))
    page = api.get("/reports/monthly?month=2026-11&format=html", headers=desk)
    pdf = api.get("/reports/monthly?month=2026-11&format=pdf&lang=zh", headers=desk)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)

    # the clock says 20 November 18:00: the month so far, beside 1–20 October
    assert (as_json["period"]["last_day"], as_json["period"]["complete"]) == ("2026-11-20", False)
    assert as_json["previous_period"]["first_day"] == "2026-10-01"
    assert as_json["previous_period"]["last_day"] == "2026-10-20"
    assert table[0] == ["栏目", "项目", "本期 11月1日至20日", "上期 10月1日至20日"]
    assert ["概况", "受理投诉", received, "0"] in table
    floor3 = next(item["count"] for item in as_json["current"]["by_floor"] if item["key"] == "3F")
    assert ["按楼层", "三层", str(floor3), "0"] in table and ["按部门", "保洁部", "1", "0"] in table
    # what the customers asked for, each complaint once under each of its requests, in Chinese words
    assert as_json["current"]["by_request"] == [
        {"key": "refund", "count": 4},
        {"key": "apology", "count": 1},
        {"key": "exchange", "count": 1},
    ]
    assert [row for row in table if row[0] == "按顾客诉求"] == [
        ["按顾客诉求", "退货退款", "4", "0"],
        ["按顾客诉求", "道歉", "1", "0"],
        ["按顾客诉求", "换货", "1", "0"],
    ]
    requests = list(book["按顾客诉求"].iter_rows(values_only=True))
    assert requests[1:] == [("退货退款", 4, 0), ("道歉", 1, 0), ("换货", 1, 0)]
    assert book.sheetnames[0] == "概况" and book["概况"]["B2"].value == as_json["current"]["received"]
    # amounts and rates are numbers a spreadsheet adds up, shown as the page shows them
    summary = {row[0].value: row[1] for row in book["概况"].iter_rows(min_row=2)}
    cost = summary["商场承担费用（元）"]
    assert cost.value == float(as_json["current"]["cost"]) and cost.number_format == "#,##0.00"
    rate = summary["重开率"]
    assert rate.value == as_json["current"]["reopen"]["rate"] and rate.number_format == "0.0%"
    assert book["每日趋势"]._charts and book["按类别"]._charts
    assert ("三层", floor3, 0) in list(book["按楼层"].iter_rows(values_only=True))
    html = page.data.decode()
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert html.count("<svg") == 3 and 'viewBox="0 0' in html  # charts scale to their card
    clips = re.findall(r'<clipPath id="([^"]+)"', html)
    assert len(clips) == len(set(clips)) == 3  # each chart clipped by its own path, not the first chart's
    assert all(f"url(#{clip})" in html for clip in clips) and "url(#clip)" not in html
    assert html.count("<circle") >= 2 * 20  # a dot on each day of the trend
    assert html.count("月报 2026年11月") == 2  # the page's title and its one heading
    assert (
        "2026年11月1日\u2009–\u200920日（截至11月20日）" in html and "生成时间 2026年11月20日 18:00" in html
    )
    assert "2026-11-2" not in html and "T18:00" not in html  # no ISO date or time on the page
    assert pdf.mimetype == "application/pdf" and "月报 2026年11月" in text and "按楼层" in text
    assert "按顾客诉求" in text and "道歉" in text and "apology" not in text and "三层" in text
    assert embedded_fonts(pdf.data) == {"WenQuanYiZenHei"} == used_fonts(pdf.data)  # and no other font
    assert '<section id="by_request">' in html and "退货退款" in html
    english = api.get("/reports/monthly?month=2026-11&format=html&lang=en", headers=desk).data.decode()
    assert (
        "Monthly report November 2026" in english
        and "By customer request" in english
        and "Apology" in english
    )
    assert "Level 3" in english
    assert api.get("/reports/weekly?week=2026-W47&format=pdf", headers=desk).status_code == 200


def places() -> Envelope:
    """Intake's floors and departments, as it announces them when they change."""
    return Envelope(
        type=REFERENCE_CHANGED,
        mall_id="demo",
        actor=Actor("intake", "service"),
        occurred_at=NOW.astimezone(UTC),
        payload={
            "floors": [
                {"code": "3F", "name": "三层", "name_en": "Level 3"},
                {"code": "B1", "name": "地下一层", "name_en": None},
            ],
            "departments": [{"code": "cleaning", "name": "保洁部", "name_en": "Cleaning"}],
        },
    )


def test_a_scoped_reader_gets_the_figures_of_its_own_floors(cases, api, staff):
    floor3 = api.get("/reports/monthly?month=2026-11", headers=staff("floor_supervisor", floors=["3F"])).json

    assert floor3["scope"] == {"floors": ["3F"], "departments": []}
    assert [item["key"] for item in floor3["current"]["by_floor"]] == ["3F"]


def test_bad_periods_and_arguments_are_refused_naming_them(api, staff):
    ops = staff("operations_manager")

    assert api.get("/reports/monthly?month=2026-13", headers=ops).json["errors"]["query"]["month"]
    assert api.get("/reports/weekly?week=2026-48", headers=ops).json["errors"]["query"]["week"]
    assert api.get("/reports/weekly?format=doc", headers=ops).json["errors"]["query"]["format"]
    assert api.get("/reviews/daily?date=yesterday", headers=ops).json["errors"]["query"]["date"]
    assert api.get("/reviews/daily?day=2026-11-20", headers=ops).json["errors"]["query"]["day"]
    assert api.get("/reports/monthly").status_code == 401
    assert api.get("/reports/monthly", headers=staff("process_designer")).status_code == 403


def test_the_callback_list_shows_contacts_to_the_desk_and_masks_them_for_managers(cases, api, staff):
    desk = api.get("/callbacks?month=2026-11", headers=staff("service_desk")).json
    ops = api.get("/callbacks?month=2026-11", headers=staff("operations_manager")).json
    as_csv = api.get("/callbacks?month=2026-11&format=csv", headers=staff("service_desk")).data.decode(
        "utf-8-sig"
    )

    called = {item["number"]: item for item in desk["items"]}
    assert cases["anonymous"].number not in called  # nobody to call
    assert called[cases["closed_long_ago"].number]["customer_phone"] == "13700001111"
    assert called[cases["closed_long_ago"].number]["status"] == "closed"
    assert {item["customer_phone"] for item in ops["items"]} == {"139****5678", "137****1111"} and ops[
        "masked"
    ]
    assert "13700001111" in as_csv
    assert called[cases["new_open"].number]["customer_request"] == ["refund", "apology"]
    assert called[cases["closed_long_ago"].number]["customer_request"] == ["exchange"]
    assert api.get("/callbacks", headers=staff("floor_supervisor", floors=["3F"])).status_code == 403


def test_the_callback_files_name_what_each_customer_asked_for_in_chinese(cases, api, staff):
    desk = staff("service_desk")
    as_csv = api.get("/callbacks?month=2026-11&format=csv", headers=desk).data.decode("utf-8-sig")
    as_xlsx = load_workbook(io.BytesIO(api.get("/callbacks?month=2026-11&format=xlsx", headers=desk).data))

    rows = list(csv.DictReader(io.StringIO(as_csv)))
    asked = {row["编号"]: row["顾客诉求"] for row in rows}
    assert asked[cases["new_open"].number] == "退货退款、道歉"
    assert asked[cases["closed_long_ago"].number] == "换货"
    sheet = list(as_xlsx.active.iter_rows(values_only=True))
    column = sheet[0].index("顾客诉求")
    assert {row[column] for row in sheet[1:]} == {"退货退款、道歉", "退货退款", "换货"}


def test_the_openapi_document_describes_every_route_and_its_file_formats(api):
    document = api.get("/openapi.json").json

    assert set(document["paths"]) == {
        "/reviews/daily",
        "/reports/weekly",
        "/reports/monthly",
        "/callbacks",
        "/capa",
        "/capa/{capa_id}",
    }
    monthly = document["paths"]["/reports/monthly"]["get"]["responses"]
    assert {"application/json", "text/csv", "application/pdf", "text/html"} <= set(monthly["200"]["content"])
    assert {"400", "401", "403"} <= set(monthly)
    figures = document["components"]["schemas"]["Figures"]["properties"]
    assert figures["by_request"]["items"]["$ref"].endswith("/Count")
    assert "apology" in figures["by_request"]["description"]


def test_a_period_past_what_a_report_can_name_is_refused_naming_it(api, staff):
    ops = {**staff("operations_manager"), "Accept-Language": "zh-CN"}

    day = api.get("/reviews/daily?date=9999-12-31", headers=ops)
    month = api.get("/reports/monthly?month=9999-12", headers=ops)
    week = api.get("/reports/weekly?week=9999-W52&format=pdf", headers=ops)
    ancient = api.get("/reviews/daily?date=0001-01-01", headers=ops)

    assert [answer.status_code for answer in (day, month, week, ancient)] == [400, 400, 400, 400]
    assert day.json["errors"]["query"]["date"] == ["日期应在 1970年1月1日 至 2999年12月31日 之间"]
    assert "month" in month.json["errors"]["query"] and "week" in week.json["errors"]["query"]
    assert "1970" in month.json["errors"]["query"]["month"][0]
