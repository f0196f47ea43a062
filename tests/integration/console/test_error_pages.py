"""What staff read when something cannot be done: a plain sentence of what happened and what to do,
a way back, no status code and no record id; a refused form leaves no address that posts again."""

from __future__ import annotations

import re
import uuid

from tests.support.system import csrf_token

RECORD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


def test_a_case_that_does_not_exist_is_told_in_plain_words_with_a_way_back(browser):
    desk = browser()
    desk.login("desk")

    answer = desk.get(f"/console/cases/{uuid.uuid4()}")
    shown = _main(answer.get_data(as_text=True))

    assert answer.status_code == 404
    assert "找不到要打开的内容。" in shown and "请从「我的待办」或「投诉记录」重新查找" in shown
    assert 'id="error-back"' in shown and 'href="/console/queue"' in shown
    assert not RECORD_ID.search(shown), shown
    assert "404" not in re.sub(r'data-status="\d+"', "", shown)


def test_a_refused_form_redirects_to_its_explanation_so_a_reload_posts_nothing(browser):
    floor3 = browser()
    floor3.login("floor3")
    html = floor3.get("/console/queue").get_data(as_text=True)

    posted = floor3.post(
        f"/console/tasks/{uuid.uuid4()}/complete", data={"csrf_token": csrf_token(html), "action": "complete"}
    )
    reloaded = floor3.get(posted.headers["Location"])
    again = floor3.get(posted.headers["Location"])

    assert posted.status_code == 302 and posted.headers["Location"].endswith("/console/problem")
    for page in (reloaded, again):
        shown = _main(page.get_data(as_text=True))
        assert page.status_code == 404 and "找不到要打开的内容。" in shown
        assert not RECORD_ID.search(shown), shown
