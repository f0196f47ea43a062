"""The desk's complaint form in the console: a field the services refuse is named beside it."""

from __future__ import annotations

FORM = {"channel": "phone", "customer_name": "王女士", "customer_phone": "13912345678", "floor": "3F",
        "category": "merchant_service", "description": "店员态度恶劣", "people_count": "1"}  # fmt: skip


def test_a_shop_not_on_the_floor_given_is_named_beside_the_shop_field(browser):
    desk = browser()
    desk.login("desk")

    answer = desk.form(
        "/console/complaints/new", {**FORM, "merchant_code": "M-2F-001"}, "/console/complaints/new"
    )

    assert answer.status_code == 400
    assert 'data-field="merchant_code"' in answer.get_data(as_text=True)


def test_the_api_names_the_merchant_code_field_it_was_sent(mall):
    from tests.integration.conftest import complaint

    unknown = mall.api.post(
        "/intake/complaints", json=complaint(merchant_code="M-9F-999"), headers=mall.staff("desk")
    )
    elsewhere = mall.api.post(
        "/intake/complaints", json=complaint(merchant_code="M-2F-001"), headers=mall.staff("desk")
    )

    assert unknown.status_code == elsewhere.status_code == 400
    assert list(unknown.json["errors"]["json"]) == list(elsewhere.json["errors"]["json"]) == ["merchant_code"]
