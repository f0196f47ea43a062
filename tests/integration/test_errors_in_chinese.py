"""A service answers bad input in the caller's language (Accept-Language), naming fields by their
form labels; a caller that names no language reads the messages as before."""

from __future__ import annotations

from tests.integration.conftest import complaint


def test_a_complaint_missing_its_category_is_refused_in_chinese_naming_the_field_by_its_label(client, desk):
    answer = client.post(
        "/complaints",
        json=complaint(category=None, customer={"name": "王女士", "phone": "x"}),
        headers={**desk, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"},
    )

    assert answer.status_code == 400
    assert answer.json["message"] == "请检查以下内容：投诉类别、顾客·电话"
    assert answer.json["errors"]["json"]["category"] == ["必填。"]
    assert answer.json["errors"]["json"]["customer"]["phone"][0].startswith("不是有效的电话号码")


def test_the_same_refusal_reads_in_english_for_an_english_caller_and_as_written_for_one_naming_none(
    client, desk
):
    body = complaint(category=None)
    english = client.post("/complaints", json=body, headers={**desk, "Accept-Language": "en-GB"})
    plain = client.post("/complaints", json=body, headers=desk)

    assert (
        english.json["errors"]
        == plain.json["errors"]
        == {"json": {"category": ["Missing data for required field."]}}
    )
    assert english.json["message"] == plain.json["message"] == "the request has invalid fields: category"


def test_an_unknown_complaint_number_is_not_found_in_chinese(client, desk):
    answer = client.get(
        "/complaints/by-number/TS-20991231-9999", headers={**desk, "Accept-Language": "zh-CN"}
    )

    assert answer.status_code == 404
    assert answer.json["message"] == "找不到投诉 TS-20991231-9999"


def test_a_caller_without_a_valid_token_is_told_in_chinese_to_log_in(client):
    none = client.get("/complaints", headers={"Accept-Language": "zh-CN"})
    forged = client.get("/complaints", headers={"Authorization": "Bearer x.y.z", "Accept-Language": "zh-CN"})
    english = client.get("/complaints", headers={"Authorization": "Bearer x.y.z"})

    assert none.status_code == forged.status_code == english.status_code == 401
    assert none.json["message"] == "请先登录：请求没有带登录凭证"
    assert forged.json["message"] == "登录凭证无效，请重新登录"
    assert english.json["message"] == "invalid token"
