"""The case page's timeline shows an operator's timer action in the reader's language: which timer,
the due times in the mall's clock (never ISO text), and the reason."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.support.pdf import embedded_fonts, used_fonts


def _fire(mall, complaint_id: str, element: str, reason: str):
    """Fire the case's pending timer at `element` as the operations manager does on its case page."""
    case = f"/routing/cases/{complaint_id}"
    timers = {
        item["element_id"]: item for item in mall.api.get(f"{case}/timers", headers=mall.staff("ops")).json
    }
    return mall.api.post(
        f"{case}/timers/{timers[element]['id']}/fire", json={"reason": reason}, headers=mall.staff("ops")
    )


def _task(mall, who: str, complaint_id: str, element: str) -> dict:
    """The open task at `element` of the complaint's case, as `who` lists it."""
    [task] = [
        item
        for item in mall.api.get("/routing/tasks", headers=mall.staff(who)).json["items"]
        if item["element_id"] == element and item["case_id"] == complaint_id
    ]
    return task


def _complete(mall, who: str, complaint_id: str, element: str, data: dict) -> None:
    """Complete that task as `who` with `data`, and let the services hear of it."""
    task = _task(mall, who, complaint_id, element)
    done = mall.api.post(
        f"/routing/tasks/{task['id']}/complete", json={"data": data}, headers=mall.staff(who)
    )
    assert done.status_code == 200, done.json
    mall.settle()


def test_a_fired_and_a_moved_timer_show_who_when_and_why_on_the_case_page(browser, mall):
    recorded = mall.record(merchant_code="M-3F-001")
    case = f"/routing/cases/{recorded['id']}"
    timers = {
        item["element_id"]: item for item in mall.api.get(f"{case}/timers", headers=mall.staff("ops")).json
    }
    fired = _fire(mall, recorded["id"], "merchant_call_overdue", "商户电话无人接听")
    moved = mall.api.patch(
        f"{case}/timers/{timers['handle_floor_timeout']['id']}",
        json={"due_at": "2026-11-22T20:00:00", "reason": "顾客情绪激动，今晚须处理"},
        headers=mall.staff("store"),
    )
    assert (fired.status_code, moved.status_code) == (200, 200)
    ops = browser()
    ops.login("ops")

    html = ops.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    rows = re.findall(r'<tr data-kind="(timer_\w+)" data-element="(\w+)">(.*?)</tr>', html, re.S)
    assert [(kind, element) for kind, element, _ in rows] == [
        ("timer_fired", "merchant_call_overdue"),
        ("timer_moved", "handle_floor_timeout"),
    ]
    fired_row, moved_row = (re.sub(r"<[^>]+>", "", row) for _, _, row in rows)
    assert (
        "定时提前触发" in fired_row and "24小时内未致电商户" in fired_row and "商户电话无人接听" in fired_row
    )
    assert "营运部经理" in fired_row
    assert "原到期时间：2026年11月23日 10:00" in " ".join(fired_row.split())
    assert "新到期时间：2026年11月22日 20:00" in " ".join(moved_row.split()) and "店总" in moved_row
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", fired_row + moved_row)  # no ISO text


def test_the_printed_form_is_the_paper_form_by_name_with_signature_lines_and_a_pdf_that_carries_its_font(
    browser, mall
):
    recorded = mall.record(merchant_code="M-3F-001")
    desk = browser()
    desk.login("desk")

    html = desk.get(f"/console/cases/{recorded['id']}/print").get_data(as_text=True)
    pdf = desk.get(f"/console/cases/{recorded['id']}/print.pdf")

    fields = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]*)</td></tr>', html))
    assert fields["楼层"] == "三层" and fields["商户"].startswith("型男工坊（3F-001）")
    assert fields["投诉编号"] == recorded["number"] and "2026年11月" in fields["受理时间"]
    assert all(
        name in html for name in ("顾客签字", "商户负责人签字", "营运部经理签字", "处理经过", "下载 PDF")
    )
    assert "3F" not in fields["楼层"] and "M-3F-001" not in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}", re.sub(r"<[^>]+>", " ", html))  # no ISO dates on the paper
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert recorded["number"] in text and "营运部经理签字" in text and "三层" in text
    assert embedded_fonts(pdf.data) == {"WenQuanYiZenHei"} == used_fonts(pdf.data)


def test_a_date_typed_into_a_task_form_reads_as_a_day_on_the_timeline_and_the_paper(browser, mall):
    recorded = mall.record(merchant_code="M-3F-001")
    signed = {"called": True, "merchant_signed_by": "何勇", "signed_at": "2026-11-21"}
    _complete(mall, "desk", recorded["id"], "merchant_call", signed)
    desk = browser()
    desk.login("desk")

    page = re.sub(r"<[^>]+>", " ", desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True))
    paper = re.sub(r"<[^>]+>", " ", desk.get(f"/console/cases/{recorded['id']}/print").get_data(as_text=True))

    assert "2026年11月21日" in page and "2026年11月21日" in paper
    assert "2026-11-21" not in page and "2026-11-21" not in paper


def test_an_anonymous_case_says_why_it_has_no_history_and_a_timer_that_moves_the_case_says_so(browser, mall):
    recorded = mall.record(channel="suggestion_box", customer={"anonymous": True}, merchant_code="M-3F-001")
    ops = browser()
    ops.login("ops")

    page = ops.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    assert "没有留下电话或邮箱，无法查询该顾客的历史投诉。" in page and "此号码没有历史投诉" not in page
    assert "结束当前任务（如上报上一级）" in page  # the handlers' escalation timers end their task
    # the acknowledgement it could not send says why in words, not its code
    [row] = re.findall(r'<td class="recipient"[^>]*>(.*?)</td>', page, re.S)[:1]
    shown = re.sub(r"<script.*?</script>", "", page, flags=re.S)  # the diagram's own XML names its elements
    assert row.strip() == "无可用联系方式" and "no_contact" not in shown


def test_the_paper_names_who_claimed_a_task_as_the_case_page_does(browser, mall):
    recorded = mall.record(merchant_code="M-3F-001")
    [handle] = [
        item
        for item in mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
        if item["case_id"] == recorded["id"]
    ]
    assert (
        mall.api.post(f"/routing/tasks/{handle['id']}/claim", headers=mall.staff("floor3")).status_code == 200
    )
    desk = browser()
    desk.login("desk")

    paper = re.sub(r"<[^>]+>", " ", desk.get(f"/console/cases/{recorded['id']}/print").get_data(as_text=True))

    assert "三楼楼管 王强" in paper and "floor3" not in paper


def test_a_completion_that_stopped_its_case_is_kept_named_on_the_incident_and_applied_by_the_retry(
    browser, mall, monkeypatch
):
    from services.routing.engine import EngineError

    recorded = mall.record(merchant_code="M-3F-001")
    call = _task(mall, "desk", recorded["id"], "merchant_call")

    def failing(source, step, now):
        raise EngineError("NameError: name 'deadlin' is not defined", "merchant_call")

    with monkeypatch.context() as patched:
        patched.setattr(mall.runtimes["routing"].context.sandbox, "run", failing)
        stopped = mall.api.post(
            f"/routing/tasks/{call['id']}/complete",
            json={"data": {"called": True, "merchant_signed_by": "何勇", "signed_at": "2026-11-22"}},
            headers={**mall.staff("desk"), "Accept-Language": "zh-CN"},
        )
    ops = browser()
    ops.login("ops")
    incident = ops.get(f"/console/incidents?case={recorded['id']}").get_data(as_text=True)
    ops.form(
        f"/console/incidents/{recorded['id']}/retry", {}, page=f"/console/incidents?case={recorded['id']}"
    )
    page = ops.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    assert stopped.status_code == 409 and "无需再次提交" in stopped.json["message"]
    held = re.search(r'<p id="incident-held">(.*?)</p>', incident).group(1)
    # the handler by name, not login
    assert held == "服务台 李静 提交的任务结果已保存，重试成功时随之生效，无需其再次提交。"
    [row] = re.findall(r'<tr data-kind="task_completed" data-element="merchant_call">(.*?)</tr>', page, re.S)
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert "修复后重试生效，重试人" in text and "何勇" in text
    assert 'id="case-stopped"' not in page


def test_a_postponed_reply_date_is_the_one_the_case_page_the_list_and_the_paper_show(browser, mall):
    recorded = mall.record()
    fired = _fire(mall, recorded["id"], "handle_floor_reply_due", "演示：约定反馈时间已到")
    assert fired.status_code == 200, fired.json
    mall.settle()
    agreed = {
        "progress_told": "商户仍在核实",
        "customer_agreed": True,
        "new_reply_date": "2026-11-28",
        "postpone_reason": "商户负责人出差",
    }
    _complete(mall, "desk", recorded["id"], "agree_reply_date", agreed)
    desk = browser()
    desk.login("desk")

    page = re.sub(r"<[^>]+>", "", desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True))
    listed = re.sub(r"<[^>]+>", " ", desk.get("/console/complaints").get_data(as_text=True))
    paper = re.sub(r"<[^>]+>", " ", desk.get(f"/console/cases/{recorded['id']}/print").get_data(as_text=True))

    assert "约定反馈时间2026年11月28日 （已延期，原定 2026年11月25日）" in " ".join(page.split())
    assert "2026年11月28日" in listed and "2026年11月28日" in paper


def test_the_postponement_task_shows_the_date_in_force_and_the_postponements_left_and_none_left_asks_no_date(
    browser, mall
):
    recorded = mall.record()  # promised reply date: 2026-11-25
    desk = browser()
    desk.login("desk")
    headers = []
    for new_date in ("2026-11-28", "2026-12-01", None):
        assert (
            _fire(mall, recorded["id"], "handle_floor_reply_due", "演示：约定反馈时间已到").status_code == 200
        )
        mall.settle()
        element = "agree_reply_date" if new_date else "tell_store_manager_takes"
        task = _task(mall, "desk", recorded["id"], element)
        html = desk.get(f"/console/tasks/{task['id']}").get_data(as_text=True)
        headers.append(
            " ".join(re.sub(r"<[^>]+>", " ", re.search(r"<p data-now=.*?</p>", html, re.S).group(0)).split())
        )
        if new_date is None:
            break
        agreed = {
            "progress_told": "商户仍在核实",
            "customer_agreed": True,
            "new_reply_date": new_date,
            "postpone_reason": "商户负责人出差",
        }
        _complete(mall, "desk", recorded["id"], "agree_reply_date", agreed)

    assert (
        "约定答复日 2026年11月25日" in headers[0] and "已延期 0 次，还可延期 2 次（最多 2 次）" in headers[0]
    )
    assert (
        "约定答复日 2026年11月28日" in headers[1] and "已延期 1 次，还可延期 1 次（最多 2 次）" in headers[1]
    )
    assert "约定答复日 2026年12月1日" in headers[2]
    assert "已延期 2 次，延期次数已用完（最多 2 次）：案件转店总处理" in headers[2]
    assert 'name="f_new_reply_date"' not in html and 'name="f_customer_words"' in html


def test_the_desk_records_an_outside_route_on_the_case_page_and_then_tracks_it(browser, mall):
    recorded = mall.record(merchant_code="M-3F-001")
    desk = browser()
    desk.login("desk")
    page = f"/console/cases/{recorded['id']}"
    before = desk.get(page).get_data(as_text=True)
    form = dict(
        re.findall(
            r'name="(csrf_token|idempotency_key)" value="([^"]+)"', before.split('id="outside-route"')[1]
        )
    )

    unchosen = desk.post(f"{page}/outside-route", data={**form, "body": ""})
    sent = desk.post(
        f"{page}/outside-route", data={**form, "body": "consumer_association", "reference": "XB-118"}
    )
    again = desk.post(
        f"{page}/outside-route", data={**form, "body": "consumer_association", "reference": "XB-118"}
    )
    mall.settle()
    after = desk.get(page).get_data(as_text=True)

    assert "转外部途径" in before and "消费者协会调解" in before
    assert (unchosen.status_code, sent.status_code, again.status_code) == (302, 302, 302)
    tasks = mall.api.get("/routing/tasks", headers=mall.staff("desk")).json["items"]
    assert [t["element_id"] for t in tasks if t["case_id"] == recorded["id"]].count(
        "track_outside_route"
    ) == 1
    assert 'id="outside-route"' not in after  # taken: the form is gone, the desk's task is there
    assert "跟踪外部途径" in after


def test_the_paper_says_a_step_once_when_its_element_is_named_as_what_it_announces(browser, mall):
    recorded = mall.record()
    _complete(mall, "floor3", recorded["id"], "handle_floor", {"outcome": "resolved", "resolution": "已道歉"})
    _complete(mall, "ops", recorded["id"], "signoff_ops", {"signed_off": True})
    desk = browser()
    desk.login("desk")

    paper = " ".join(
        re.sub(
            r"<[^>]+>", " ", desk.get(f"/console/cases/{recorded['id']}/print").get_data(as_text=True)
        ).split()
    )

    assert "已解决" in paper and "已解决 · 已解决" not in paper


def test_the_case_page_says_a_step_once_when_its_element_is_named_as_what_it_announces(browser, mall):
    recorded = mall.record()
    _complete(mall, "floor3", recorded["id"], "handle_floor", {"outcome": "resolved", "resolution": "已道歉"})
    _complete(mall, "ops", recorded["id"], "signoff_ops", {"signed_off": True})
    desk = browser()
    desk.login("desk")

    html = desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)
    row = re.search(r'<tr data-kind="complaint.resolved".*?</tr>', html, re.S).group(0)

    assert re.search(r'data-label="事项">已解决</td>', row)
    assert re.search(r'data-label="环节"></td>', row), row


def _timeline(page: str) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", " ", page.split('id="timeline"', 1)[1].split("</table>", 1)[0]).split()
    )


def test_the_timeline_says_the_customer_was_told_only_when_the_acknowledgement_went(browser, mall):
    anonymous = mall.record(channel="suggestion_box", customer={"anonymous": True}, merchant_code="M-3F-001")
    by_phone = mall.record()
    mall.settle()
    desk = browser()
    desk.login("desk")

    untold = _timeline(desk.get(f"/console/cases/{anonymous['id']}").get_data(as_text=True))
    told = _timeline(desk.get(f"/console/cases/{by_phone['id']}").get_data(as_text=True))

    assert "已受理，未能告知顾客" in untold and "已告知顾客受理" not in untold
    assert "已告知顾客受理" in told
