"""The staff inbox: the floor supervisor is reminded of a reply date and escalates; the escalation
reaches the operations manager's inbox; each sees the unread count in the top bar and marks it read.

(The diagram never sends an escalation to a floor supervisor: escalations go one level up, so the
floor supervisor's own inbox item here is the reply-date reminder.)"""

from __future__ import annotations

from datetime import timedelta

from tests.browser.conftest import reload_until, screenshot, where_it_stopped


def _unread(page) -> int:
    return int(page.get_attribute("#inbox-unread", "data-count"))


def _mark_first_read(page, kind: str) -> None:
    page.click(f"#inbox tr.unread[data-kind={kind}] button.mark-read")
    page.wait_for_selector(f"#inbox tr.read[data-kind={kind}]")


def test_a_floor_supervisor_is_reminded_escalates_and_the_operations_manager_reads_the_escalation(
    person, desk_api, mall, clock, settings
):
    recorded = desk_api(promised_reply_date="2026-11-23")  # reply due tomorrow: reminded tonight
    number = recorded["number"]
    floor3, ops = person("floor3"), person("ops")
    assert _unread(floor3) == 0 and _unread(ops) == 0

    clock.advance(timedelta(hours=14))  # 2026-11-23 00:00 in the mall: a day before the reply date
    reload_until(
        floor3,
        f"{mall}/console/inbox",
        f"#inbox tr[data-kind=reply_date_reminder][data-number='{number}']",
        explain=lambda: where_it_stopped(settings.database_url, number),
    )
    assert _unread(floor3) == 1
    screenshot(floor3, "40-floor3-inbox-reminder")
    _mark_first_read(floor3, "reply_date_reminder")
    assert _unread(floor3) == 0

    floor3.click(f"#inbox tr[data-number='{number}'] a.case-link")
    assert floor3.inner_text("#case-number") == number
    floor3.click("#nav-queue")
    floor3.click(f"#queue tr[data-number='{number}'][data-element=handle_floor] a.task-link")
    floor3.click("#escalate")  # the first press asks why
    floor3.fill("[name=f_escalation_reason]", "商户不配合，需营运部协调")
    asked = []
    floor3.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    floor3.click("#escalate")  # one level up: the operations manager, once confirmed
    assert asked and asked[0].startswith("确定上报上一级？")
    floor3.wait_for_url("**/console/queue?done=*")

    escalation = f"tr.unread[data-kind=escalated][data-number='{number}']"
    # The new task's reply-date reminder is already due (the reply date is tomorrow): it comes too.
    reminder = f"tr.unread[data-kind=reply_date_reminder][data-number='{number}']"
    both = f"#inbox {escalation} ~ {reminder}, #inbox {reminder} ~ {escalation}"
    reload_until(
        ops, f"{mall}/console/inbox", both, explain=lambda: where_it_stopped(settings.database_url, number)
    )
    assert _unread(ops) == 2 and "升级" in ops.inner_text(f"#inbox {escalation}")
    screenshot(ops, "41-ops-inbox-escalation")
    _mark_first_read(ops, "escalated")
    assert _unread(ops) == 1
    ops.click("#nav-queue")
    assert _unread(ops) == 1  # the top bar of every page
    screenshot(ops, "42-ops-queue-with-unread-count")
    ops.click("#nav-inbox")
    ops.click("#inbox-only-unread")
    assert ops.locator("#inbox tr[data-kind=escalated]").count() == 0
    screenshot(ops, "43-ops-inbox-unread-only")
