"""The console's pages for designers and operators: versions and rollback, the dry run, incidents,
migration, a case's timers; each calls routing as the logged-in user and refuses the roles routing
refuses with the console's forbidden page."""

from __future__ import annotations

import html
import re

import pytest

from services.runner.allinone import MALL_DIAGRAM

META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TRIAGE = MALL_DIAGRAM.with_name("triage.dmn").read_text(encoding="utf-8")


def _deploy_version_2(mall) -> None:
    bpmn = MALL_DIAGRAM.read_text(encoding="utf-8").replace(
        "</bpmn:definitions>", "<!-- v2 -->\n</bpmn:definitions>"
    )
    body = {"bpmn": bpmn, "dmn": {"triage.dmn": TRIAGE}, "bpmn_name": "complaint.bpmn", "note": "第二版"}
    answer = mall.api.post("/routing/processes", json=body, headers=mall.staff("designer"))
    assert answer.status_code == 201, answer.json


def _active(mall) -> list[int]:
    versions = mall.api.get("/routing/processes", headers=mall.staff("designer")).json
    return [version["version"] for version in versions if version["active"]]


def test_the_versions_page_marks_the_active_version_and_an_earlier_one_is_activated_again_with_a_reason(
    browser, mall
):
    _deploy_version_2(mall)
    designer = browser()
    designer.login("designer")

    page = designer.get("/console/processes").get_data(as_text=True)
    blank = designer.form(
        "/console/processes/complaint/1/activate", {"reason": "  "}, page="/console/processes"
    )
    refused = designer.get("/console/processes").get_data(as_text=True)
    assert _active(mall) == [2]
    done = designer.form(
        "/console/processes/complaint/1/activate", {"reason": "第二版待复核"}, page="/console/processes"
    )
    after = designer.get("/console/processes").get_data(as_text=True)

    assert 'id="active-2"' in page and "当前生效" in page
    assert blank.status_code == 302 and "请填写原因" in refused
    assert done.status_code == 302 and _active(mall) == [1]
    assert 'id="active-1"' in after and "第二版待复核" in after


@pytest.mark.parametrize(
    ("username", "method", "path"),
    [
        ("desk", "GET", "/console/incidents"),
        ("deputy", "GET", "/console/incidents"),
        ("store", "GET", "/console/processes/migrate"),
        ("floor3", "GET", "/console/processes/migrate"),
        ("ops", "POST", "/console/processes/complaint/1/activate"),
        ("ops", "GET", "/console/processes/modeler"),
        ("floor3", "POST", "/console/cases/{case}/timers/{timer}/fire"),
        ("deputy", "POST", "/console/cases/{case}/timers/{timer}/due"),
        ("designer", "POST", "/console/cases/{case}/timers/{timer}/fire"),
    ],
)
def test_a_page_for_a_role_the_user_lacks_answers_the_forbidden_page(browser, mall, username, method, path):
    case = mall.record()
    timers = mall.api.get(f"/routing/cases/{case['id']}/timers", headers=mall.staff("ops")).json
    path = path.format(case=case["id"], timer=timers[0]["id"])
    person = browser()
    person.login(username)

    if method == "GET":
        answer = person.get(path)
    else:
        answer = person.form(path, {"reason": "试一试", "due_at": "2026-11-23T10:00"}, page="/console/inbox")

    assert answer.status_code == 403
    assert "您没有权限查看此页面" in answer.get_data(as_text=True)


def test_the_dry_run_answers_the_proof_with_its_coverage_and_a_refusal_with_every_problem(browser):
    designer = browser()
    designer.login("designer")
    page = designer.get("/console/processes/modeler").get_data(as_text=True)
    headers = {"X-CSRFToken": META_CSRF.search(page).group(1)}

    proved = designer.post(
        "/console/processes/proof",
        json={"bpmn": MALL_DIAGRAM.read_text(encoding="utf-8"), "base_version": 1},
        headers=headers,
    )
    broken = MALL_DIAGRAM.read_text(encoding="utf-8").replace(
        '<bpmn:script>last_resolver = ""', '<bpmn:script>import os\nlast_resolver = ""', 1
    )
    refused = designer.post(
        "/console/processes/proof", json={"bpmn": broken, "base_version": 1}, headers=headers
    )

    assert proved.status_code == 200 and proved.json["passed"] is True
    assert proved.json["reached"] == proved.json["elements"] and proved.json["problems"] == []
    assert refused.status_code == 200 and refused.json["refused"] is True
    assert any(
        problem["sentence"].startswith("元素 “立案”（open_case）") and problem["element"] == "open_case"
        for problem in refused.json["problems"]
    )


def test_an_administrator_opens_a_case_without_the_complaint_intake_keeps_from_it(browser, mall):
    case = mall.record()
    admin = browser()
    admin.login("admin")

    answer = admin.get(f"/console/cases/{case['id']}")

    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and 'id="facts-hidden"' in text
    assert case["number"] in text and 'id="timer-list"' in text and "立即触发" in text


def test_an_operations_manager_fires_a_timer_with_a_reason_and_the_case_escalates(browser, mall):
    case = mall.record()
    timers = mall.api.get(f"/routing/cases/{case['id']}/timers", headers=mall.staff("ops")).json
    timer = next(timer for timer in timers if timer["element_id"] == "handle_floor_timeout")
    ops = browser()
    ops.login("ops")
    page = f"/console/cases/{case['id']}"

    without = ops.form(f"{page}/timers/{timer['id']}/fire", {"reason": ""}, page=page)
    still = mall.api.get(f"/routing/cases/{case['id']}/timers", headers=mall.staff("ops")).json
    fired = ops.form(f"{page}/timers/{timer['id']}/fire", {"reason": "商户拒不配合"}, page=page)
    mall.settle()
    after = ops.get(page).get_data(as_text=True)

    assert without.status_code == 302 and timer["id"] in {each["id"] for each in still}
    assert fired.status_code == 302 and "定时器已触发" in after
    tasks = mall.api.get(f"/routing/cases/{case['id']}", headers=mall.staff("ops")).json["open_tasks"]
    assert "handle_ops" in {task["element_id"] for task in tasks}


def test_the_incidents_and_migration_pages_list_nothing_to_repair_on_a_healthy_mall(browser, mall):
    mall.record()
    store, ops = browser(), browser()
    store.login("store")
    ops.login("ops")

    incidents = store.get("/console/incidents").get_data(as_text=True)
    dry_run = ops.form(
        "/console/processes/migrate",
        {"from_version": "1", "to_version": "1", "reason": "核对", "action": "dry_run"},
        page="/console/processes/migrate",
    )

    assert 'id="no-incidents"' in incidents
    text = dry_run.get_data(as_text=True)
    assert dry_run.status_code == 200 and 'data-dry-run="true"' in text
    assert re.search(r'id="count-cases">1<', text) and re.search(r'id="count-moved">0<', text)


def test_an_operations_manager_moves_a_timers_due_time_with_a_reason(browser, mall):
    case = mall.record()
    timers = mall.api.get(f"/routing/cases/{case['id']}/timers", headers=mall.staff("ops")).json
    timer = next(timer for timer in timers if timer["element_id"] == "handle_floor_timeout")
    ops = browser()
    ops.login("ops")
    page = f"/console/cases/{case['id']}"

    moved = ops.form(
        f"{page}/timers/{timer['id']}/due",
        {"due_at": "2026-11-30T18:00", "reason": "商户周末休息"},
        page=page,
    )
    after = ops.get(page).get_data(as_text=True)
    bad = ops.form(f"{page}/timers/{timer['id']}/due", {"due_at": "明天", "reason": "试"}, page=page)

    assert moved.status_code == 302 and "到期时间已调整" in after and "2026年11月30日 18:00" in after
    assert 'data-kind="timer_moved"' in after and "商户周末休息" in after
    assert bad.status_code == 302 and "到期时间格式不正确" in ops.get(page).get_data(as_text=True)


def test_moving_a_versions_cases_lists_those_that_cannot_move_with_the_elements_the_target_lacks(
    browser, mall
):
    case = mall.record()
    renamed = re.sub(r"\bhandle_floor\b", "handle_floor_v2", MALL_DIAGRAM.read_text(encoding="utf-8"))
    body = {
        "bpmn": renamed,
        "dmn": {"triage.dmn": TRIAGE},
        "bpmn_name": "complaint.bpmn",
        "note": "楼层任务改标识",
    }
    assert mall.api.post("/routing/processes", json=body, headers=mall.staff("designer")).status_code == 201
    ops = browser()
    ops.login("ops")
    form = {"from_version": "1", "to_version": "2", "reason": "迁到第二版"}

    dry_run = ops.form(
        "/console/processes/migrate", {**form, "action": "dry_run"}, page="/console/processes/migrate"
    )
    moved = ops.form(
        "/console/processes/migrate", {**form, "action": "migrate"}, page="/console/processes/migrate"
    )

    for answer in (dry_run, moved):
        text = answer.get_data(as_text=True)
        assert answer.status_code == 200 and re.search(r'id="count-refused">1<', text)
        assert f'data-case="{case["id"]}"' in text and 'data-element="handle_floor"' in text
        assert "楼层主管处理商户投诉" in text  # the element by its Chinese name, not its id
    assert 'data-dry-run="false"' in moved.get_data(as_text=True)
    assert mall.api.get(f"/routing/cases/{case['id']}", headers=mall.staff("ops")).json["version"] == 1


def test_the_diff_of_two_versions_shows_a_changed_triage_rule(browser, mall):
    """Version 2 sends price complaints to the operations manager: the diagrams are alike, the rule is not."""
    changed = TRIAGE.replace('"floor_supervisor"', '"operations_manager"', 1)
    body = {
        "bpmn": MALL_DIAGRAM.read_text(encoding="utf-8"),
        "dmn": {"triage.dmn": changed},
        "note": "价格投诉先给营运部",
    }
    assert mall.api.post("/routing/processes", json=body, headers=mall.staff("designer")).status_code == 201
    designer = browser()
    designer.login("designer")

    page = designer.get("/console/processes/diff?old=1&new=2").get_data(as_text=True)

    assert "决策表有变化" in page
    rows = re.findall(r'<tr class="diff-changed" data-rule="([^"]+)">(.*?)</tr>', page, re.S)
    assert [rule for rule, _ in rows] == ["Rule_merchant_category"]
    assert "楼层主管" in rows[0][1] and "营运部经理" in rows[0][1]


def test_the_bundle_travels_gzipd_to_a_browser_that_accepts_it(browser):
    import gzip

    client = browser()
    packed = client.get("/console/bundle/modeler.js", headers={"Accept-Encoding": "gzip, deflate"})
    plain = client.get("/console/bundle/modeler.js", headers={"Accept-Encoding": "identity"})

    assert packed.status_code == plain.status_code == 200
    assert packed.headers["Content-Encoding"] == "gzip" and "javascript" in packed.headers["Content-Type"]
    assert gzip.decompress(packed.get_data()) == plain.get_data() and "Content-Encoding" not in plain.headers
    assert len(packed.get_data()) < len(plain.get_data()) / 3


def test_the_diff_of_two_versions_says_what_changed_in_each_element(browser, mall):
    """A timer shortened, a condition edited, a field added, a script edited: each row says which and how."""
    text = MALL_DIAGRAM.read_text(encoding="utf-8")
    changed = (
        text.replace('"PT" + str(policy["handler_acts_within_seconds"]) + "S"', '"PT12H"', 1)
        .replace(
            'complaint.get("merchant") is not None</bpmn:conditionExpression>',
            'complaint.get("merchant") is not None and True</bpmn:conditionExpression>',
            1,
        )
        .replace(
            '<camunda:formField id="call_note"',
            '<camunda:formField id="receipt_no" label="Receipt number" type="string">'
            '<camunda:properties><camunda:property id="label.zh-CN" value="小票号"/></camunda:properties>'
            '</camunda:formField><camunda:formField id="call_note"',
            1,
        )
        .replace(
            "postponements_made = postponements_made + 1\npostponed_to = new_reply_date",
            "postponements_made += 1\npostponed_to = new_reply_date",
            1,
        )
    )
    body = {"bpmn": changed, "dmn": {"triage.dmn": TRIAGE}, "note": "商户电话时限改为12小时"}
    answer = mall.api.post("/routing/processes", json=body, headers=mall.staff("designer"))
    assert answer.status_code == 201, answer.json
    designer = browser()
    designer.login("designer")

    page = designer.get("/console/processes/diff?old=1&new=2").get_data(as_text=True)

    rows = {
        element: " ".join(re.sub(r"<[^>]+>", "", html.unescape(row.replace("</td>", " "))).split())
        for element, row in re.findall(
            r'<tr class="diff-changed" data-element="([^"]+)">(.*?)</tr>', page, re.S
        )
    }
    assert set(rows) == {"handle_desk_timeout", "Flow_fork_merchant_call", "merchant_call", "postpone"}
    # a script's changed lines, the line around them kept
    assert rows["postpone"].startswith("修改 延期反馈时间 脚本任务 脚本（改动的行）")
    script = re.search(r'<pre class="diff script-diff">(.*?)</pre>', page, re.S).group(1)
    assert re.findall(r'<span class="(\w+)">([^<]*)</span>', script) == [
        ("out", "- postponements_made = postponements_made + 1"),
        ("in", "+ postponements_made += 1"),
        ("same", "  postponed_to = new_reply_date"),
    ]
    assert (
        '定时："PT" + str(policy["handler_acts_within_seconds"]) + "S" → "PT12H"'
        in rows["handle_desk_timeout"]
    )
    assert (
        '条件：complaint.get("merchant") is not None → complaint.get("merchant") is not None and True'
        in rows["Flow_fork_merchant_call"]
    )
    assert "表单：新增字段 小票号" in rows["merchant_call"]
