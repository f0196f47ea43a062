"""A case page names the complaint's status as the complaint list and the customer's status page do
(已答复 once the customer was answered), and what the case waits for while no task is open."""

from __future__ import annotations

import re

from services.common.bus.envelope import Actor, Envelope


def _replied(mall, recorded: dict, at) -> None:
    intake = mall.runtimes["intake"]
    envelope = Envelope(
        type="complaint.replied",
        mall_id=intake.settings.mall_id,
        actor=Actor(id="routing", role="service"),
        payload={},
        occurred_at=at,
        complaint_id=recorded["id"],
    )
    with intake.pool.connection() as conn:
        intake.bus.handle_event(conn, envelope)


def test_after_the_reply_the_case_page_says_what_the_list_says(browser, mall, clock):
    recorded = mall.record()
    _replied(mall, recorded, clock.now())
    desk = browser()
    desk.login("desk")

    page = desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)
    listed = desk.get(f"/console/complaints?q={recorded['number']}").get_data(as_text=True)

    status = re.search(r'<small class="status" id="case-status">([^<]+)</small>', page).group(1)
    assert status == "已答复"
    assert re.search(r'class="stage-replied"[^>]*>已答复<', listed)
