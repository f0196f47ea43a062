"""The desk's complaint form in the console: a field the services refuse is named beside it."""

from __future__ import annotations

import io
import re

from PIL import Image

from tests.support.system import csrf_token

FORM = {
    "channel": "phone",
    "customer_name": "王女士",
    "customer_phone": "13912345678",
    "floor": "3F",
    "category": "merchant_service",
    "description": "店员态度恶劣",
    "people_count": "1",
}


def test_a_shop_not_on_the_floor_given_is_named_beside_the_shop_field(browser):
    desk = browser()
    desk.login("desk")

    answer = desk.form(
        "/console/complaints/new", {**FORM, "merchant_code": "M-2F-001"}, "/console/complaints/new"
    )

    assert answer.status_code == 400
    assert 'data-field="merchant_code"' in answer.get_data(as_text=True)


def test_one_submit_names_every_field_at_fault_beside_it_in_chinese(browser):
    desk = browser()
    desk.login("desk")
    faulty = {
        **FORM,
        "customer_phone": "123",  # not a phone number (the schema)
        "people_count": "十",  # not a whole number (the schema)
        "occurred_at": "2099-01-01T10:00",  # in the future (a rule)
        "customer_preferred_reply_channel": "letter",  # with no address (a rule)
    }

    page = desk.form("/console/complaints/new", faulty, "/console/complaints/new").get_data(as_text=True)

    beside = dict(re.findall(r'<span class="field-error" data-field="([a-z_.]+)">([^<]+)</span>', page))
    assert set(beside) == {"customer.phone", "people_count", "occurred_at", "customer.address"}
    assert beside["people_count"] == "应为整数" and beside["occurred_at"] == "不能晚于现在"
    assert not re.search(r"[A-Za-z]{3,}", "".join(beside.values()))


def test_two_messages_for_one_field_read_as_one_chinese_sentence_beside_it(browser):
    desk = browser()
    desk.login("desk")
    no_phone = {**FORM, "customer_phone": "", "customer_preferred_reply_channel": "sms"}

    page = desk.form("/console/complaints/new", no_phone, "/console/complaints/new").get_data(as_text=True)

    beside = re.search(r'data-field="customer.phone">([^<]+)<', page).group(1)
    assert beside == "电话投诉须填写电话号码；以短信答复时必填"


def test_an_anonymous_note_with_a_name_and_phone_is_refused_beside_both_fields(browser):
    desk = browser()
    desk.login("desk")
    note = {**FORM, "channel": "suggestion_box", "customer_anonymous": "on"}

    page = desk.form("/console/complaints/new", note, "/console/complaints/new")

    beside = re.findall(r'data-field="(customer\.[a-z_]+)">([^<]+)<', page.get_data(as_text=True))
    assert page.status_code == 400
    assert [name for name, _ in beside] == ["customer.name", "customer.phone"]
    assert all(message.startswith("匿名投诉不留姓名和电话") for _, message in beside)


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


def test_every_request_ticked_is_recorded_and_the_case_lists_them_in_the_readers_language(browser, mall):
    desk = browser()
    desk.login("desk")

    answer = desk.form(
        "/console/complaints/new",
        {**FORM, "customer_request": ["compensation", "apology"]},
        "/console/complaints/new",
    )
    complaint_id = answer.headers["Location"].split("/")[-2]  # …/complaints/<id>/receipt
    recorded = mall.api.get(f"/intake/complaints/{complaint_id}", headers=mall.staff("desk")).json
    chinese = desk.get(f"/console/cases/{complaint_id}").get_data(as_text=True)
    desk.get("/console/lang/en")
    english = desk.get(f"/console/cases/{complaint_id}").get_data(as_text=True)

    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert recorded["customer_request"] == ["compensation", "apology"]
    assert '<dd id="fact-request">赔偿、道歉</dd>' in chinese
    assert '<dd id="fact-request">Compensation, Apology</dd>' in english


def test_a_refused_form_keeps_the_requests_ticked_and_none_ticked_records_none(browser, mall):
    desk = browser()
    desk.login("desk")
    ticked = {**FORM, "merchant_code": "M-2F-001", "customer_request": ["refund", "other"]}

    refused = desk.form("/console/complaints/new", ticked, "/console/complaints/new").get_data(as_text=True)
    plain = desk.form("/console/complaints/new", FORM, "/console/complaints/new")
    complaint_id = plain.headers["Location"].split("/")[-2]

    checked = re.findall(r'name="customer_request" value="([a-z]+)" checked', refused)
    assert checked == ["refund", "other"]
    assert (
        mall.api.get(f"/intake/complaints/{complaint_id}", headers=mall.staff("desk")).json[
            "customer_request"
        ]
        is None
    )


def test_a_refused_form_names_the_files_to_choose_again_and_the_blank_form_is_never_kept(browser):
    desk = browser()
    desk.login("desk")
    page = desk.get("/console/complaints/new")
    html = page.get_data(as_text=True)

    refused = desk.post(
        "/console/complaints/new",
        data={
            **FORM,
            "merchant_code": "M-2F-001",
            "csrf_token": csrf_token(html),
            "attachments": (io.BytesIO(b"%PDF-1.4 receipt"), "小票.pdf"),
        },
        content_type="multipart/form-data",
    )

    assert page.headers["Cache-Control"] == "no-store"  # Back after recording fetches a new form
    again = re.search(
        r'<small class="error" id="attachments-again">([^<]+)</small>', refused.get_data(as_text=True)
    )
    assert refused.status_code == 400 and again.group(1) == "附件尚未保存，请重新选择：小票.pdf"


def test_a_people_count_out_of_range_is_named_in_chinese_in_the_summary(browser):
    desk = browser()
    desk.login("desk")

    answer = desk.form("/console/complaints/new", {**FORM, "people_count": "0"}, "/console/complaints/new")
    summary = re.search(r'<p class="error" id="form-errors">(.*?)</p>', answer.get_data(as_text=True), re.S)

    assert answer.status_code == 400
    assert "<b>人数</b>" in summary.group(1) and "people_count" not in summary.group(1)


def _record_with_file(desk, name: str, content: bytes):
    html = desk.get("/console/complaints/new").get_data(as_text=True)
    return desk.post(
        "/console/complaints/new",
        data={**FORM, "csrf_token": csrf_token(html), "attachments": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_file_that_is_no_photo_pdf_or_recording_stops_the_complaint_naming_the_file(browser, mall):
    desk = browser()
    desk.login("desk")

    refused = _record_with_file(desk, "fake.png", "这不是照片，只是文字".encode())

    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "<b>附件</b>：fake.png：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传" in page
    assert 'value="店员态度恶劣"' in page or "店员态度恶劣</textarea>" in page  # the form as typed
    assert mall.api.get("/intake/complaints", headers=mall.staff("desk")).json["items"] == []


def test_a_complaint_with_a_photo_is_recorded_with_the_photo_after_it_was_checked(browser, mall):
    desk = browser()
    desk.login("desk")
    photo = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(photo, format="PNG")

    recorded = _record_with_file(desk, "小票.png", photo.getvalue())

    assert recorded.status_code == 302, recorded.get_data(as_text=True)
    [complaint] = mall.api.get("/intake/complaints", headers=mall.staff("desk")).json["items"]
    [kept] = mall.api.get(
        f"/intake/complaints/{complaint['id']}/attachments", headers=mall.staff("desk")
    ).json
    assert (kept["file_name"], kept["media_type"]) == ("小票.png", "image/png")
