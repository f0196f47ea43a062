"""The receipt the desk prints: the mall's name, the desk's phone, the clerk who took the complaint,
and the link to the customers' status page with the number filled in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.integration.console.conftest import ConsoleClient
from tests.integration.console.test_desk_form import FORM
from tests.support.system import in_process_system


def _record(desk, form=FORM) -> tuple[str, str]:
    answer = desk.form("/console/complaints/new", form, "/console/complaints/new")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    page = desk.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.headers["Location"], page


def test_the_receipt_names_the_mall_the_desks_phone_the_clerk_and_links_the_status_page(browser, mall):
    desk = browser()
    desk.login("desk")

    _, page = _record(desk)
    number = page.split('id="receipt-number">')[1].split("<")[0]

    assert '<span id="receipt-mall">星河广场购物中心</span>' in page
    assert '<span id="receipt-phone">021-6888 1234</span>' in page
    assert '<span id="receipt-clerk">服务台 李静</span>' in page
    link = f"http://localhost/intake/status?number={number}"
    assert f'href="{link}" id="receipt-status-link"' in page
    assert "服务台电话" in page and "受理人" in page
    opened = desk.get(f"/intake/status?number={number}").get_data(as_text=True)
    assert f'value="{number}"' in opened


def test_the_receipt_asks_a_customer_with_no_phone_for_what_the_status_page_takes_from_them(browser, mall):
    desk = browser()
    desk.login("desk")
    no_phone = {key: value for key, value in FORM.items() if key != "customer_phone"}

    _, email_page = _record(desk, {**no_phone, "channel": "email", "customer_email": "wang@example.com"})
    _, letter_page = _record(
        desk, {**no_phone, "channel": "letter", "customer_address": "上海市世纪大道 1 号"}
    )
    by_email, by_letter = (page.split('id="receipt"')[1] for page in (email_page, letter_page))

    assert "您登记的电子邮箱" in by_email and "后四位" not in by_email
    assert 'id="receipt-status-link"' in by_email
    assert "请致电服务台并提供投诉编号" in by_letter and "后四位" not in by_letter
    assert 'id="receipt-status-link"' not in by_letter  # the page would show this complaint to nobody


@pytest.fixture
def configured(settings, clock, tmp_path):
    changed = replace(
        settings, desk_phone="0755-8888 0000", mall_name="海岸城", public_url="https://ts.mall.example/"
    )
    with in_process_system(changed, clock, tmp_path, secure_cookies=False) as (_, wsgi):
        yield wsgi


def test_the_mall_name_phone_and_public_address_come_from_the_settings(configured):
    desk = ConsoleClient(configured)
    desk.login("desk")

    _, page = _record(desk)
    number = page.split('id="receipt-number">')[1].split("<")[0]

    assert '<span id="receipt-mall">海岸城</span>' in page and "0755-8888 0000" in page
    assert f'href="https://ts.mall.example/intake/status?number={number}"' in page


def test_an_anonymous_suggestion_box_receipt_is_for_the_desks_file_not_for_a_customer(browser, mall):
    desk = browser()
    desk.login("desk")
    anonymous = {key: value for key, value in FORM.items() if not key.startswith("customer_")}

    _, page = _record(desk, {**anonymous, "channel": "suggestion_box", "customer_anonymous": "on"})
    receipt = page.split('id="receipt"')[1]

    assert "请保留此回执" not in receipt and "请致电服务台" not in receipt
    assert "此回执由服务台随投诉记录存档" in receipt and "不答复、不回访" in receipt
