"""The console's search box and filters, the customer's history beside the desk's form and on a case,
and related complaints linked and merged from a case page."""

from __future__ import annotations

import re
from datetime import timedelta


def _page(client, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return answer.get_data(as_text=True)


def test_the_top_bar_finds_by_words_phone_and_number_and_the_filters_stay_in_the_url(browser, mall):
    yogurt = mall.record(category="quality", description="买的酸奶过期了")
    other = mall.record(customer={"name": "李先生", "phone": "13700001111"}, channel="web")
    desk = browser()
    desk.login("desk")

    by_word = _page(desk, "/console/complaints?q=酸奶")
    found = desk.get("/console/find?q=酸奶")
    by_number = desk.get(f"/console/find?q={yogurt['number'].lower()}")
    without_prefix = desk.get(f"/console/find?q={yogurt['number'].removeprefix('TS-')}")
    filtered = _page(desk, "/console/complaints?channel=web&phone=137-0000-1111")

    assert found.status_code == 302 and "q=" in found.headers["Location"]
    assert yogurt["number"] in by_word and other["number"] not in by_word
    assert by_number.headers["Location"].endswith(f"/console/cases/{yogurt['id']}")
    assert without_prefix.headers["Location"].endswith(f"/console/cases/{yogurt['id']}")
    assert other["number"] in filtered and yogurt["number"] not in filtered
    assert re.search(r'<option value="web" selected', filtered) and 'value="137-0000-1111"' in filtered
    assert "最相关的在前" in _page(desk, "/console/complaints?q=酸奶")
    closed = _page(desk, "/console/complaints?q=酸奶&stage=closed")
    assert yogurt["number"] not in closed and re.search(r'<option value="closed" selected>已结案', closed)


def test_the_last_four_digits_a_customer_quotes_find_the_complaint_in_the_search_box_and_the_phone_filter(
    browser, mall
):
    quoted = mall.record(customer={"name": "李先生", "phone": "137-0000-1111"})
    other = mall.record()  # 13912345678
    desk = browser()
    desk.login("desk")

    searched = _page(desk, "/console/complaints?q=1111")
    filtered = _page(desk, "/console/complaints?phone=1111")

    for page in (searched, filtered):
        assert quoted["number"] in page and other["number"] not in page
    assert 'placeholder="号码或后四位"' in filtered


def test_a_refused_filter_is_named_in_chinese_not_a_server_error(browser, mall):
    desk = browser()
    desk.login("desk")
    page = _page(desk, "/console/complaints?received_from=not-a-date")
    assert "筛选条件有误" in page and "受理日期自" in page


def test_the_desk_sees_a_phones_earlier_complaints_beside_the_form_and_on_the_case(browser, mall):
    first = mall.record(description="买的酸奶过期了")
    second = mall.record()
    desk = browser()
    desk.login("desk")

    form = _page(desk, "/console/complaints/new")
    fragment = _page(desk, "/console/complaints/customer-history?phone=139 1234 5678")
    case = _page(desk, f"/console/cases/{second['id']}")

    assert 'id="customer-history"' in form and "输入电话号码后" in form
    assert "共 2 件" in fragment and first["number"] in fragment and second["number"] in fragment
    assert "该客户的历史投诉" in case and first["number"] in case and "共 1 件" in case


def test_earlier_and_related_complaints_show_the_day_they_were_received_in_the_malls_time_zone(
    browser, mall, clock
):
    clock.advance(timedelta(hours=16, minutes=44))  # 18:44 UTC: 02:44 the next day in Shanghai
    first = mall.record(description="买的酸奶过期了")
    second = mall.record()
    desk = browser()
    desk.login("desk")

    fragment = _page(desk, "/console/complaints/customer-history?phone=13912345678")
    related = _page(desk, f"/console/cases/{second['id']}").split('id="related"', 1)[1]

    assert first["number"].startswith("TS-20261123-")
    assert "最近一次 2026年11月23日" in fragment and f"{first['number']}</a> · 2026年11月23日" in fragment
    assert f"{first['number']}</a> · 2026年11月23日" in related
    assert "2026年11月22日" not in fragment + related


def test_the_desk_links_a_suggested_complaint_and_merges_into_a_collective_one(browser, mall):
    first = mall.record(people_count=5)
    second = mall.record(people_count=5)
    desk = browser()
    desk.login("desk")
    case_path = f"/console/cases/{second['id']}"

    suggested = _page(desk, case_path)
    linked = desk.form(f"/console/cases/{second['id']}/links", {"related_id": first["id"]}, case_path)
    after_link = _page(desk, case_path)
    merged = desk.form(
        f"/console/cases/{second['id']}/merge", {"merged_ids": first["id"], "reason": "同一事件"}, case_path
    )
    mall.settle()
    after_merge = _page(desk, case_path)
    merged_case = _page(desk, f"/console/cases/{first['id']}")

    assert 'id="related-suggested"' in suggested and first["number"] in suggested
    assert linked.status_code == 302 and "已关联投诉" in after_link and 'id="related-linked"' in after_link
    assert merged.status_code == 302 and "已合并为群体投诉" in after_merge
    assert "重大" in after_merge  # ten people: major
    assert f"本投诉已并入 {second['number']}" in merged_case


def test_a_merged_complaints_case_closes_pointing_to_the_collective_one_and_its_tasks_are_cancelled(mall):
    first = mall.record()
    second = mall.record()
    desk = mall.staff("desk")
    before = mall.api.get(f"/routing/cases/{first['id']}", headers=desk).json

    merged = mall.api.post(
        f"/intake/complaints/{second['id']}/merge",
        json={"merged_ids": [first["id"]], "reason": "同一事件"},
        headers=desk,
    )
    mall.settle()
    case = mall.api.get(f"/routing/cases/{first['id']}", headers=desk).json
    timeline = mall.api.get(f"/routing/cases/{first['id']}/timeline", headers=desk).json
    with mall.runtimes["reporting"].pool.connection() as conn:
        counted = conn.execute(
            "SELECT closed_as, closed_at FROM reporting.cases WHERE complaint_id = %s", (first["id"],)
        ).fetchone()

    assert merged.status_code == 200 and before["status"] == "running" and before["open_tasks"]
    assert case["status"] == "completed" and case["open_tasks"] == []
    line = next(entry for entry in timeline if entry["kind"] == "complaint_merged")
    assert line["detail"] == {"into_number": second["number"], "reason": "同一事件"}
    assert counted["closed_as"] == "merged" and counted["closed_at"] is not None
