"""The one scrubber of personal data in free text (services/common/scrubber.py): what it masks, how,
and what it must leave as written."""

from __future__ import annotations

import pytest

from services.common.identity.holders import Holder, sees_customer
from services.common.identity.model import Identity
from services.common.personal import customers_in, erase_personal, scrub_text
from services.common.scrubber import customer_masks, scrub, scrub_data

CUSTOMER = {"name": "王女士", "phone": "13912345678", "email": "wang@example.com", "address": None}


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("13912345678", "139****5678"),
        ("139-1234-5678", "139****5678"),
        ("139 1234 5678", "139****5678"),
        ("+86 139 1234 5678", "+86 139****5678"),
        ("+8613912345678", "+86139****5678"),
        ("021-65432100", "021****2100"),
        ("0755-1234567", "075****4567"),
        ("(021) 6543 2100", "021****2100"),
        ("010 6543 2100", "010****2100"),
    ],
)
def test_phone_numbers_are_masked_however_they_are_separated(written, shown):
    assert scrub(f"请回电{written}，谢谢") == f"请回电{shown}，谢谢"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("wang@example.com", "w***@example.com"),
        ("wang.li+shop@mail.example.com.cn", "w***@mail.example.com.cn"),
    ],
)
def test_e_mail_addresses_are_masked_even_between_chinese_words(written, shown):
    assert scrub(f"请发邮件到{written}谢谢") == f"请发邮件到{shown}谢谢"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("11010119900307123X", "110***********123X"),
        ("110101199003071234", "110***********1234"),
        ("110101 19900307 123x", "110***********123x"),
        ("110101900307123", "110********7123"),  # the old 15-digit card
    ],
)
def test_id_card_numbers_are_masked_with_an_x_and_the_old_fifteen_digits(written, shown):
    assert scrub(f"身份证号{written}。") == f"身份证号{shown}。"


def test_bank_card_numbers_are_masked_only_when_they_pass_the_luhn_check():
    text = "退款到6222021234567890128，或 4111 1111 1111 1111；订单号1234567890123456"

    assert scrub(text) == "退款到6222***********0128，或 4111********1111；订单号1234567890123456"


def test_the_customers_name_is_masked_inside_chinese_text_as_the_customer_field_is():
    known = customer_masks(CUSTOMER)

    assert scrub("已致电王女士 13912345678 同意退款", known) == "已致电王** 139****5678 同意退款"
    assert scrub("王女士来电，其丈夫王先生也在场", known) == "王**来电，其丈夫王**也在场"
    assert scrub("顾客王芳说", customer_masks({"name": "王芳"})) == "顾客王*说"
    assert scrub("顾客王芳说", {}) == "顾客王芳说"  # a name is known only when given


def test_a_customers_own_details_are_found_even_where_no_pattern_would():
    known = customer_masks({"name": "Li Na", "phone": "+852 9123 4567", "address": "浦东新区世纪大道100号"})

    assert (
        scrub("Li Na 留了 +852 9123 4567，住浦东新区世纪大道100号", known) == "L**** 留了 +85*****4567，住***"
    )
    assert scrub("Linas and Li Nan", known) == "Linas and Li Nan"  # a Latin name only as a whole word
    assert scrub("王府井店", customer_masks({"name": "王"})) == "王府井店"  # one character alone: not masked


@pytest.mark.parametrize(
    "text",
    [
        "投诉单号 TS-20261122-0007",
        "退款¥399.00，赔偿 1,200.50 元",
        "约定 2026-11-22 回复，2026/11/22 10:30:00 来电",
        "店铺 M-3F-001，3F 电梯旁",
        "共 12 人，第 3 次，编号 20261122，分机 8001",
    ],
)
def test_complaint_numbers_amounts_dates_times_shop_codes_and_short_numbers_stay_as_written(text):
    assert scrub(text, customer_masks(CUSTOMER)) == text
    assert scrub_text(text) == text


def test_with_a_marker_everything_found_is_replaced_by_it_as_retention_and_notify_want():
    known = {"王女士": "王**"}

    assert scrub("已致电王女士 139-1234-5678，wang@example.com", known, "***") == "已致电*** ***，***"
    assert scrub_text("身份证11010119900307123X") == "身份证[已删除]"


def test_every_string_in_task_data_is_scrubbed_and_the_rest_stays():
    data = {
        "resolution": "已致电王女士 13912345678",
        "cost": 0,
        "agreed": True,
        "notes": ["wang@example.com"],
    }

    assert scrub_data(data, customer_masks(CUSTOMER)) == {
        "resolution": "已致电王** 139****5678",
        "cost": 0,
        "agreed": True,
        "notes": ["w***@example.com"],
    }


def test_the_customers_are_found_wherever_the_workflow_data_keeps_them():
    state = {
        "tasks": {
            "a": {"data": {"complaint": {"customer": CUSTOMER}}},
            "b": {"data": {"complaint": {"customer": {"name": "王芳"}}}},
        }
    }

    assert customers_in(state) == [CUSTOMER, {"name": "王芳"}]


def _viewer(*roles, subject="someone", floors=()) -> Identity:
    return Identity(subject=subject, roles=frozenset(roles), mall_id="demo", floors=frozenset(floors))


def test_the_desk_and_the_holders_of_a_case_see_it_as_written_and_nobody_else():
    holders = [Holder("floor_supervisor", "3F", None, None)]

    assert sees_customer(_viewer("service_desk"), [])
    assert sees_customer(_viewer("floor_supervisor", floors=["3F"]), holders)
    assert not sees_customer(_viewer("floor_supervisor", floors=["2F"]), holders)
    assert not sees_customer(_viewer("operations_manager"), holders)
    assert not sees_customer(_viewer("process_designer"), holders)


# Ids whose groups of digits read as a phone or an ID card number (found among random ids): an
# erasure that scrubbed them broke the workflow state it kept (a task's children named by id).
DIGIT_HEAVY_IDS = [
    "cf9730a1-0848-4412-8674-16c76c4c69fb",
    "3fd0bdfb-5940-4510-b5e1-018260312543",
    "04448216-8728-4112-9ede-5dd75c6280ea",
    "00000000-0000-4000-8000-013912345678",
]


@pytest.mark.parametrize("task_id", DIGIT_HEAVY_IDS)
def test_an_id_is_never_taken_for_personal_data_alone_in_a_list_or_in_text(task_id):
    state = {
        "tasks": {task_id: {"children": [task_id], "data": {"note": f"任务 {task_id} 已致电 13912345678"}}}
    }
    erased = erase_personal(state)
    assert erased["tasks"][task_id]["children"] == [task_id]
    assert erased["tasks"][task_id]["data"]["note"] == f"任务 {task_id} 已致电 [已删除]"
    assert scrub(task_id) == task_id
