"""The staff inbox in the console (unread count on every page, mark read), letters to print through
the console, the desk's failed deliveries with retry, and a case's delivery log."""

from __future__ import annotations

import io
import re

from PIL import Image

from tests.support.system import csrf_token

UNREAD = re.compile(r'id="inbox-unread" data-count="(\d+)"')


def _unread(client, page: str = "/console/queue") -> int:
    return int(UNREAD.search(client.get(page).get_data(as_text=True)).group(1))


def _escalate_first_task(mall, complaint_id: str) -> None:
    """The floor supervisor sends its task one level up, as its task form's escalate button does."""
    floor3 = mall.staff("floor3")
    [task] = mall.api.get("/routing/tasks", headers=floor3).json["items"]
    assert task["case_id"] == complaint_id
    done = mall.api.post(
        f"/routing/tasks/{task['id']}/complete",
        json={"data": {"outcome": "escalate", "escalation_reason": "商户拒不配合"}},
        headers=floor3,
    )
    assert done.status_code == 200, done.json
    mall.settle()


def test_an_escalation_reaches_the_operations_managers_inbox_and_is_marked_read(browser, mall):
    recorded = mall.record()
    ops = browser()
    ops.login("ops")
    before = _unread(ops)
    _escalate_first_task(mall, recorded["id"])

    counted = _unread(ops, "/console/reports/daily")  # the header of every page
    html = ops.get("/console/inbox").get_data(as_text=True)
    item = re.search(r'<tr data-item="([0-9a-f-]+)" data-kind="escalated"', html).group(1)
    marked = ops.post(f"/console/inbox/{item}/read", data={"csrf_token": csrf_token(html)})

    assert before == 0 and counted == 1
    assert recorded["number"] in html and f'href="/console/inbox/{item}/case/{recorded["id"]}"' in html
    assert '<span class="kind kind-escalated">升级</span>' in html  # the name notify's messages give it
    assert marked.status_code == 302 and _unread(ops) == 0
    assert 'data-kind="escalated"' not in ops.get("/console/inbox?unread=1").get_data(as_text=True)


def test_someone_elses_notification_cannot_be_marked_read(browser, mall):
    recorded = mall.record()
    _escalate_first_task(mall, recorded["id"])
    ops, store = browser(), browser()
    ops.login("ops")
    store.login("store")
    item = re.search(r'data-item="([0-9a-f-]+)"', ops.get("/console/inbox").get_data(as_text=True)).group(1)
    html = store.get("/console/inbox").get_data(as_text=True)

    refused = store.post(f"/console/inbox/{item}/read", data={"csrf_token": csrf_token(html)})
    followed = store.get(f"/console/inbox/{item}/case/{recorded['id']}")  # its link, by someone else

    assert refused.status_code == 302 and store.get(refused.headers["Location"]).status_code == 404
    assert followed.status_code == 404 and "找不到" in followed.get_data(as_text=True)
    assert _unread(ops) == 1


def test_a_letter_to_print_opens_its_pdf_through_the_console_for_the_desk(browser, mall):
    mall.record(
        channel="letter",
        customer={"name": "王女士", "address": "上海市浦东新区世纪大道100号"},
        preferred_reply_channel=None,
    )
    desk, ops = browser(), browser()
    desk.login("desk")
    ops.login("ops")

    html = desk.get("/console/inbox").get_data(as_text=True)
    link = re.search(r'data-kind="letter_to_print".*?class="letter-link" href="([^"]+)"', html, re.S).group(1)
    letter = desk.get(link)

    assert re.fullmatch(r"/console/letters/[0-9a-f-]{36}\.pdf", link)
    assert (
        letter.status_code == 200 and letter.mimetype == "application/pdf" and letter.data.startswith(b"%PDF")
    )
    assert ops.get(link).status_code == 403


def test_the_desk_sees_a_bounced_sms_among_failed_deliveries_and_retries_it(browser, mall):
    mall.bounce_sms()
    recorded = mall.record()  # the acknowledgement goes by SMS, and bounces
    desk, store = browser(), browser()
    desk.login("desk")
    store.login("store")

    html = desk.get("/console/deliveries/failed").get_data(as_text=True)
    delivery = re.search(r'<tr data-delivery="([0-9a-f-]+)" data-state="failed"', html).group(1)
    retried = desk.post(f"/console/deliveries/{delivery}/retry", data={"csrf_token": csrf_token(html)})
    again = desk.post(f"/console/deliveries/{delivery}/retry", data={"csrf_token": csrf_token(html)})
    for_store = store.get("/console/deliveries/failed").get_data(as_text=True)

    assert "550 no such subscriber" in html and "13912345678" in html
    assert (
        f'href="/console/cases/{recorded["id"]}">{recorded["number"]}</a>' in html
    )  # the number, to read out
    assert retried.status_code == 302  # pending now: not failed any more, so the second is refused
    assert again.status_code == 302 and desk.get(again.headers["Location"]).status_code == 409
    assert 'class="retry"' not in for_store  # managers read the list; only the desk retries


def test_the_case_page_shows_its_delivery_log_to_the_desk_and_not_to_the_floor(browser, mall):
    recorded = mall.record()
    desk, floor3 = browser(), browser()
    desk.login("desk")
    floor3.login("floor3")

    for_desk = desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)
    for_floor = floor3.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    log = for_desk.split('id="delivery-log"')[1]
    assert 'data-kind="acknowledgement"' in log and 'data-state="sent"' in log and "13912345678" in log
    assert 'id="delivery-log"' not in for_floor


def test_a_department_asked_to_help_is_told_in_its_managers_inbox_and_reads_the_case_it_links_to(
    browser, mall
):
    recorded = mall.record()  # a 3F shop: no department's case
    floor3 = mall.staff("floor3")
    [task] = mall.api.get("/routing/tasks", headers=floor3).json["items"]
    asked = {
        "outcome": "ask_department",
        "department_asked": "engineering",
        "department_request": "修复试衣间门锁",
    }
    done = mall.api.post(f"/routing/tasks/{task['id']}/complete", json={"data": asked}, headers=floor3)
    assert done.status_code == 200, done.json
    mall.settle()
    engineering, cleaning = browser(), browser()
    engineering.login("engineering")
    cleaning.login("cleaning")

    html = engineering.get("/console/inbox").get_data(as_text=True)
    opened = engineering.get(f"/console/cases/{recorded['id']}")
    page = opened.get_data(as_text=True)
    listed = engineering.get("/console/complaints").get_data(as_text=True)

    assert 'data-kind="assist_requested"' in html and "请工程部协助处理" in html and "修复试衣间门锁" in html
    # following the notice's link opens the case and reads the notice
    link = re.search(rf'href="(/console/inbox/[0-9a-f-]+/case/{recorded["id"]})"', html).group(1)
    unread = _unread(engineering)
    followed = engineering.get(link)
    assert followed.status_code == 302 and followed.headers["Location"].endswith(
        f"/console/cases/{recorded['id']}"
    )
    assert _unread(engineering) == unread - 1
    # the case reads as any reader's who holds none of its tasks: the customer masked, no task to work
    assert opened.status_code == 200 and recorded["number"] in page and "修复试衣间门锁" in page
    assert "王**" in page and "13912345678" not in page and "/console/tasks/" not in page
    assert recorded["number"] in listed  # and the department finds it again in its list
    # over HTTP too, to read only: what the case waits on, not a message or a timer of its own
    told = mall.staff("engineering")
    assert mall.api.get(f"/routing/cases/{recorded['id']}/timers", headers=told).status_code == 200
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(photo, format="PNG")
    added = mall.api.post(
        f"/intake/complaints/{recorded['id']}/attachments",
        data={"file": [(io.BytesIO(photo.getvalue()), "门锁已修复.png")]},
        content_type="multipart/form-data",
        headers=told,
    )
    assert added.status_code == 201, added.json  # the photo of the repair it was asked for
    [kept] = mall.api.get(f"/intake/complaints/{recorded['id']}/attachments", headers=told).json
    assert kept["file_name"] == "门锁已修复.png"
    # the desk tracking the department sees the photo on its task, who added it, and the case's
    # timeline says so (the department acts through the desk)
    desk = browser()
    desk.login("desk")
    desks = mall.api.get("/routing/tasks", headers=mall.staff("desk")).json["items"]
    [track] = [each for each in desks if each["element_id"] == "track_department"]
    tracking = desk.get(f"/console/tasks/{track['id']}").get_data(as_text=True)
    assert (
        "门锁已修复.png" in tracking and "工程部经理 吴斌" in tracking and 'id="attach-form"' not in tracking
    )
    timeline = desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True).split('id="timeline"')[1]
    assert re.search(r"工程部经理 吴斌.*?添加附件.*?文件</b>：门锁已修复\.png", timeline, re.S)
    message = {"name": "merchant_answered", "data": {}, "idempotency_key": "engineering-1"}
    posted = mall.api.post(f"/routing/cases/{recorded['id']}/messages", json=message, headers=told)
    assert posted.status_code == 404
    # a department nobody asked still does not see it
    assert cleaning.get(f"/console/cases/{recorded['id']}").status_code == 404
    assert recorded["number"] not in cleaning.get("/console/complaints").get_data(as_text=True)
