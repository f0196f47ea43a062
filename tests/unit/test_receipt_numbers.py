"""A receipt number as staff type it into the search box."""

from __future__ import annotations

import pytest

from services.common.receipts import receipt_number


@pytest.mark.parametrize(
    "typed",
    [
        "TS-20261208-0002",
        "ts-20261208-0002",
        "TS20261208-0002",
        "20261208-0002",
        "202612080002",
        " 20261208 0002 ",
    ],
)
def test_a_number_typed_with_or_without_its_prefix_and_dashes_is_the_number(typed):
    assert receipt_number(typed) == "TS-20261208-0002"


def test_the_ten_thousandth_complaint_of_a_day_has_five_digits():
    assert receipt_number("20261208-10000") == "TS-20261208-10000"


@pytest.mark.parametrize(
    "typed", ["075512345678", "20261332-0002", "0002", "13912345678", "TS-2026-0002", "酸奶"]
)
def test_a_phone_a_date_that_is_no_day_or_words_are_not_a_number(typed):
    assert receipt_number(typed) is None
