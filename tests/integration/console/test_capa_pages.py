"""CAPA in the console: a recurring problem's record, updated by the operations manager through a
CSRF-protected form with reporting's field errors on it, read-only for everyone else."""

from __future__ import annotations

import re

import pytest

from tests.support.system import csrf_token


@pytest.fixture
def capa(mall):
    """The CAPA record three complaints about the same shop's service open; its page's path."""
    numbers = [mall.record()["number"] for _ in range(3)]
    [record] = mall.api.get("/reporting/capa", headers=mall.staff("ops")).json["items"]
    assert sorted(record["numbers"]) == sorted(numbers)
    return f"/console/capa/{record['id']}"


def _save(client, path: str, **fields):
    html = client.get(path).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    form = {"cause": "", "action": "", "owner": "", "due_date": "", "verification": "", "version": version}
    return client.post(path, data={**form, **fields, "csrf_token": csrf_token(html)})


def test_the_list_shows_the_open_record_first_with_its_three_complaints(browser, capa):
    ops = browser()
    ops.login("ops")

    html = ops.get("/console/capa").get_data(as_text=True)
    record = ops.get(capa).get_data(as_text=True)

    assert (
        html.index('id="capa-open"') < html.index('id="capa-in_progress"') < html.index('id="capa-verified"')
    )
    assert f'href="{capa}"' in html.split('id="capa-open"')[1].split("</section>")[0]
    assert record.count('class="case-link"') == 3 and 'id="capa-form"' in record


def test_the_operations_manager_records_cause_action_owner_and_due_date_then_verifies(browser, capa):
    ops = browser()
    ops.login("ops")

    planned = _save(
        ops,
        capa,
        cause="新店员未经培训",
        action="商户组织服务培训",
        owner="三楼楼管 王强",
        due_date="2026-12-05",
    )
    after_plan = ops.get(capa).get_data(as_text=True)
    verified = _save(
        ops,
        capa,
        cause="新店员未经培训",
        action="商户组织服务培训",
        owner="三楼楼管 王强",
        due_date="2026-12-05",
        verification="回访三位顾客，均满意",
        verified="1",
    )
    after_verify = ops.get(capa).get_data(as_text=True)

    assert planned.status_code == 302 and "整改中" in after_plan and "商户组织服务培训" in after_plan
    assert verified.status_code == 302 and "已验证关闭" in after_verify
    assert 'id="capa-form"' not in after_verify and "回访三位顾客，均满意" in after_verify


def test_verifying_without_a_verification_comes_back_naming_the_field(browser, capa):
    ops = browser()
    ops.login("ops")

    refused = _save(ops, capa, cause="新店员未经培训", action="培训", owner="王强", verified="1")
    html = refused.get_data(as_text=True)

    assert refused.status_code == 400
    assert 'data-field="verification"' in html and "新店员未经培训" in html  # what was typed stays
    assert "已验证关闭" not in html.split('id="capa-status"')[1].split("</small>")[0]


def test_an_update_over_someone_elses_is_refused_and_shows_the_record_as_it_is_now(browser, capa, mall):
    ops = browser()
    ops.login("ops")
    html = ops.get(capa).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    mall.api.patch(
        f"/reporting{capa.removeprefix('/console')}", json={"cause": "另一人填写"}, headers=mall.staff("ops")
    )

    clash = ops.post(capa, data={"cause": "我的原因", "version": version, "csrf_token": csrf_token(html)})

    assert clash.status_code == 409
    assert 'id="capa-conflict"' in clash.get_data(as_text=True) and "另一人填写" in clash.get_data(
        as_text=True
    )


def test_the_store_manager_reads_the_record_but_has_no_form_and_may_not_post(browser, capa):
    store = browser()
    store.login("store")

    html = store.get(capa).get_data(as_text=True)
    posted = store.post(capa, data={"cause": "x", "csrf_token": csrf_token(html)})

    assert 'id="capa-form"' not in html and 'id="capa-read-only"' in html
    assert posted.status_code == 403


def test_a_form_without_its_csrf_token_changes_nothing(browser, capa):
    ops = browser()
    ops.login("ops")

    refused = ops.post(capa, data={"cause": "伪造的原因"})

    assert refused.status_code == 400
    assert "伪造的原因" not in ops.get(capa).get_data(as_text=True)


def test_a_floor_supervisor_sees_its_floors_records_and_the_desk_none(browser, capa):
    floor3, floor2, desk = browser(), browser(), browser()
    for client, name in ((floor3, "floor3"), (floor2, "floor2"), (desk, "desk")):
        client.login(name)

    assert floor3.get(capa).status_code == 200
    assert floor2.get(capa).status_code == 404
    assert desk.get("/console/capa").status_code == 403
