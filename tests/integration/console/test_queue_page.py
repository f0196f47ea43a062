"""The queue's cards say which complaint each task is about: its shop and the start of its
description, masked on the card (a phone on the shop floor lists many customers at once)."""

from __future__ import annotations

import re

DESCRIPTION = "王女士说店员态度恶劣，拒绝换货，请回电13912345678"


def _card(html: str, number: str) -> str:
    return re.search(rf'<tr data-number="{number}".*?</tr>', html, re.S).group(0)


def test_a_card_shows_the_shop_and_the_start_of_the_description_masked(browser, mall):
    recorded = mall.record(description=DESCRIPTION)
    floor3 = browser()
    floor3.login("floor3")

    card = _card(floor3.get("/console/queue").get_data(as_text=True), recorded["number"])
    [task] = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    page = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    shop = re.search(r'<td class="shop"[^>]*>(.*?)</td>', card, re.S).group(1)
    excerpt = re.search(r'<td class="excerpt"[^>]*>(.*?)</td>', card, re.S).group(1)
    assert "型男工坊" in shop
    assert excerpt == "王**说店员态度恶劣，拒绝换货，请回电139****5678"
    assert "13912345678" in page  # the task's own page: to its handler, as written


def test_a_card_of_a_complaint_about_no_shop_leaves_the_shop_out(browser, mall):
    recorded = mall.record(
        category="environment",
        merchant_code=None,
        floor="B1",
        department="security",
        description="地下车库很脏",
    )
    security = browser()
    security.login("security")

    card = _card(security.get("/console/queue").get_data(as_text=True), recorded["number"])

    assert re.search(r'<td class="shop"[^>]*></td>', card)
    assert "地下车库很脏" in card
