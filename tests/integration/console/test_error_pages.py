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


def test_a_service_message_the_catalogue_has_no_wording_for_shows_the_page_s_own_words(
    browser, monkeypatch, caplog
):
    from services.common.errors import Conflict
    from services.console.pages import queue

    def refused(*_args, **_kwargs):
        raise Conflict("the ledger shard is rebalancing")  # no zh-CN wording anywhere

    monkeypatch.setattr(queue, "overdue_first", refused)
    desk = browser()
    desk.login("desk")

    answer = desk.get("/console/queue")
    shown = _main(answer.get_data(as_text=True))
    as_json = desk.get(
        "/console/queue", headers={"Accept": "application/json", "Content-Type": "application/json"}
    )

    assert answer.status_code == 409
    assert "操作没有完成：案件或任务已经有了变化。" in shown and 'id="error-message"' not in shown
    assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]+>", "", shown)), shown
    assert "the ledger shard is rebalancing" in caplog.text  # for whoever adds the wording
    assert as_json.status_code == 409 and as_json.json["error"] == "操作没有完成：案件或任务已经有了变化。"


def test_a_service_message_already_in_the_readers_language_is_shown_as_it_came(browser, monkeypatch):
    from services.common.errors import Conflict
    from services.console.pages import queue

    def refused(*_args, **_kwargs):
        raise Conflict("投诉 TS-20261122-0001 已由同事合并")

    monkeypatch.setattr(queue, "overdue_first", refused)
    desk = browser()
    desk.login("desk")

    shown = _main(desk.get("/console/queue").get_data(as_text=True))

    assert '<p class="error" id="error-message">投诉 TS-20261122-0001 已由同事合并</p>' in shown
