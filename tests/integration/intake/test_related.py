"""Related complaints: suggested by shop (or floor) and category in the recent window, linked by the
desk, and merged into one collective complaint (people counted, major from ten, the others closing)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.conftest import bearer
from tests.integration.conftest import complaint, outbox_rows


def test_complaints_about_the_same_shop_and_category_in_the_window_are_suggested(client, tokens, clock):
    desk = bearer(tokens, "service_desk", subject="desk")
    old = client.post("/complaints", json=complaint(), headers=desk).json
    clock.advance(timedelta(days=40))
    desk = bearer(tokens, "service_desk", subject="desk")  # tokens last 30 days of the test clock
    same = client.post("/complaints", json=complaint(), headers=desk).json
    other_category = client.post("/complaints", json=complaint(category="price"), headers=desk).json
    other_shop = client.post("/complaints", json=complaint(merchant_code="M-3F-002"), headers=desk).json
    clock.advance(timedelta(days=1))
    this = client.post("/complaints", json=complaint(), headers=desk).json

    related = client.get(f"/complaints/{this['id']}/related", headers=desk).json

    suggested = [item["number"] for item in related["suggested"]]
    assert suggested == [same["number"]]
    assert old["number"] not in suggested and other_category["number"] not in suggested
    assert other_shop["number"] not in suggested and related["linked"] == []


def test_the_desk_links_two_complaints_and_both_show_the_other(client, desk, tokens):
    first = client.post("/complaints", json=complaint(), headers=desk).json
    second = client.post("/complaints", json=complaint(), headers=desk).json

    linked = client.post(f"/complaints/{second['id']}/links", json={"related_id": first["id"]}, headers=desk)
    again = client.post(f"/complaints/{second['id']}/links", json={"related_id": first["id"]}, headers=desk)
    from_first = client.get(f"/complaints/{first['id']}/related", headers=desk).json

    assert linked.status_code == 201, linked.json
    assert [(item["number"], item["link"]) for item in linked.json["linked"]] == [
        (first["number"], "related")
    ]
    assert linked.json["suggested"] == [] and again.status_code == 201
    assert [item["number"] for item in from_first["linked"]] == [second["number"]]
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")
    refused = client.post(
        f"/complaints/{second['id']}/links", json={"related_id": first["id"]}, headers=floor3
    )
    assert refused.status_code == 403


def test_linking_to_itself_or_to_nothing_is_refused_naming_the_field(client, desk):
    first = client.post("/complaints", json=complaint(), headers=desk).json

    to_itself = client.post(
        f"/complaints/{first['id']}/links", json={"related_id": first["id"]}, headers=desk
    )
    to_nothing = client.post(
        f"/complaints/{first['id']}/links", json={"related_id": str(uuid.uuid4())}, headers=desk
    )
    not_an_id = client.post(f"/complaints/{first['id']}/links", json={"related_id": "x"}, headers=desk)

    assert to_itself.status_code == 400 and "related_id" in str(to_itself.json)
    assert to_nothing.status_code == 404
    assert not_an_id.status_code == 400 and "related_id" in str(not_an_id.json)


def test_merging_sums_the_people_makes_ten_or_more_major_and_closes_the_others_pointing_to_it(
    client, desk, intake
):
    collective = client.post("/complaints", json=complaint(people_count=4), headers=desk).json
    others = [client.post("/complaints", json=complaint(people_count=3), headers=desk).json for _ in range(2)]

    merged = client.post(
        f"/complaints/{collective['id']}/merge",
        json={"merged_ids": [item["id"] for item in others], "reason": "同一批顾客，同一事件"},
        headers=desk,
    )

    assert merged.status_code == 200, merged.json
    assert merged.json["people_count"] == 10 and merged.json["severity"] == "major"
    assert "collective" in merged.json["major_reasons"]
    events = [(row["routing_key"], row["envelope"]) for row in outbox_rows(intake)]
    corrected = [body for key, body in events if key == "complaint.corrected"]
    announced = [body for key, body in events if key == "complaint.merged"]
    assert corrected[-1]["payload"]["complaint"]["severity"] == "major"
    assert sorted(body["complaint_id"] for body in announced) == sorted(item["id"] for item in others)
    assert {body["payload"]["into_number"] for body in announced} == {collective["number"]}
    related = client.get(f"/complaints/{others[0]['id']}/related", headers=desk).json
    assert related["merged_into"]["number"] == collective["number"]
    history = client.get(
        "/complaints/customer-history", query_string={"phone": "13912345678"}, headers=desk
    ).json
    assert {item["merged_into"] for item in history["items"]} == {None, collective["number"]}
    again = client.post(
        f"/complaints/{collective['id']}/merge",
        json={"merged_ids": [others[0]["id"]], "reason": "再合并"},
        headers=desk,
    )
    assert again.status_code == 409


def test_a_complaint_cannot_be_merged_into_itself_and_a_merge_needs_a_reason(client, desk):
    first = client.post("/complaints", json=complaint(), headers=desk).json

    itself = client.post(
        f"/complaints/{first['id']}/merge", json={"merged_ids": [first["id"]], "reason": "x"}, headers=desk
    )
    no_reason = client.post(
        f"/complaints/{first['id']}/merge", json={"merged_ids": [str(uuid.uuid4())]}, headers=desk
    )

    assert itself.status_code == 400 and "merged_ids" in str(itself.json)
    assert no_reason.status_code == 400 and "reason" in str(no_reason.json)
