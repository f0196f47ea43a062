"""What the customer asks for (`customer_request`): one or more codes, through intake's API and its
events, against the real PostgreSQL."""

from __future__ import annotations

import re

import pytest

from tests.integration.conftest import complaint, outbox_rows
from tests.integration.test_intake_api import WEB_COMPLAINT, post


def test_several_requests_are_recorded_read_back_and_announced_in_the_order_given(client, desk, intake):
    asked = ["compensation", "apology"]

    recorded = post(client, desk, complaint(customer_request=asked))
    read = client.get(f"/complaints/{recorded.json['id']}", headers=desk)

    assert recorded.status_code == 201, recorded.json
    assert recorded.json["customer_request"] == read.json["customer_request"] == asked
    [event] = outbox_rows(intake)
    assert event["envelope"]["payload"]["customer_request"] == asked
    with intake.pool.connection() as conn:
        stored = conn.execute("SELECT customer_request FROM intake.complaints").fetchone()["customer_request"]
    assert stored == asked


def test_one_code_alone_is_still_read_as_a_list_of_one(client, desk):
    response = post(client, desk, complaint(customer_request="refund"))

    assert response.status_code == 201, response.json
    assert response.json["customer_request"] == ["refund"]


@pytest.mark.parametrize("absent", [{"customer_request": None}, {}])
def test_a_complaint_asking_for_nothing_named_shows_null(client, desk, intake, absent):
    body = {**complaint(customer_request=None), **absent}

    response = post(client, desk, body)

    assert response.status_code == 201, response.json
    assert response.json["customer_request"] is None
    assert outbox_rows(intake)[0]["envelope"]["payload"]["customer_request"] is None


@pytest.mark.parametrize(
    ("asked", "said"),
    [
        ([], "at least one"),
        (["refund", "fax"], "'fax'"),
        ("fax", "'fax'"),
        (["apology", "refund", "apology"], "apology given more than once"),
    ],
)
def test_an_empty_unknown_or_repeated_request_is_refused_naming_the_field(client, desk, intake, asked, said):
    response = post(client, desk, complaint(customer_request=asked))

    assert response.status_code == 400
    [message] = response.json["errors"]["json"]["customer_request"]
    assert said in message
    assert "customer_request" in response.json["message"]
    assert outbox_rows(intake) == []


def test_the_public_web_form_sends_several_requests(client, intake):
    response = client.post(
        "/public/complaints", json={**WEB_COMPLAINT, "customer_request": ["repair", "other"]}
    )
    refused = client.post("/public/complaints", json={**WEB_COMPLAINT, "customer_request": []})

    assert response.status_code == 201, response.json
    [event] = outbox_rows(intake)
    assert event["envelope"]["payload"]["customer_request"] == ["repair", "other"]
    assert refused.status_code == 400 and "customer_request" in refused.json["errors"]["json"]


def test_a_correction_replaces_the_requests_or_clears_them_and_refuses_an_empty_list(client, desk):
    record = post(client, desk, complaint(customer_request=["exchange"])).json
    url = f"/complaints/{record['id']}"

    added = client.patch(
        url, json={"reason": "顾客还要求道歉", "customer_request": ["exchange", "apology"]}, headers=desk
    )
    emptied = client.patch(url, json={"reason": "清空", "customer_request": []}, headers=desk)
    cleared = client.patch(url, json={"reason": "顾客撤回诉求", "customer_request": None}, headers=desk)
    history = client.get(f"{url}/history", headers=desk).json

    assert added.status_code == 200, added.json
    assert added.json["customer_request"] == ["exchange", "apology"]
    assert emptied.status_code == 400 and "customer_request" in emptied.json["errors"]["json"]
    assert cleared.status_code == 200 and cleared.json["customer_request"] is None
    assert [entry["changes"]["customer_request"] for entry in history] == [
        {"old": ["exchange"], "new": ["exchange", "apology"]},
        {"old": ["exchange", "apology"], "new": []},
    ]


LIST_OF_ONE_OR_MORE = {"type": "array", "minItems": 1, "uniqueItems": True}
CODES = ["refund", "exchange", "repair", "compensation", "apology", "other"]


def test_the_openapi_document_describes_the_requests_as_a_list_of_known_codes_each_once_or_one_alone(client):
    schemas = client.get("/openapi.json").json["components"]["schemas"]

    for name in ("ComplaintIn", "PublicComplaintIn", "CorrectionIn"):
        field = schemas[name]["properties"]["customer_request"]
        listed, alone = field["oneOf"]
        assert field["nullable"] is True, name
        assert LIST_OF_ONE_OR_MORE.items() <= listed.items(), name
        assert listed["items"] == alone == {"type": "string", "enum": CODES}, name
    shown = schemas["ComplaintOut"]["properties"]["customer_request"]
    assert (shown["type"], shown["nullable"]) == ("array", True)


def test_the_customers_web_form_offers_a_checkbox_per_request(client):
    page = client.get("/form").get_data(as_text=True)

    boxes = re.findall(r'<input type="checkbox" name="customer_request" value="([a-z]+)">', page)
    assert boxes == ["refund", "exchange", "repair", "compensation", "apology", "other"]
    assert '<select name="customer_request"' not in page
