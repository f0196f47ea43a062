"""The desk records a complaint with a photo of the receipt and sees its thumbnail on the case page;
a program renamed as a photo is refused there, naming the file, in Chinese. A customer sends a photo
from the web form on a phone."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.browser.conftest import screenshot
from tests.conftest import bearer

RECEIPT_PHOTO = Path(__file__).resolve().parents[1] / "data" / "attachments" / "receipt.jpg"


def test_the_desk_records_a_complaint_with_a_photo_and_sees_its_thumbnail_on_the_case_page(person):
    desk = person("desk")
    desk.click("#nav-new")
    desk.check("input[name=channel][value=on_site]")
    desk.fill("[name=customer_name]", "王女士")
    desk.fill("[name=customer_phone]", "13912345678")
    desk.select_option("#floor", "3F")
    desk.select_option("#merchant", "M-3F-001")
    desk.check("input[name=category][value=quality]")
    desk.fill("#description", "买的酸奶已过期，收据照片附上")
    desk.set_input_files("#intake-attachments", str(RECEIPT_PHOTO))
    desk.click("#record")
    desk.click("#open-case")

    thumbnail = desk.locator("#attachment-list img.thumbnail")
    thumbnail.wait_for()
    assert desk.inner_text("#attachments h2") == "附件"
    assert thumbnail.evaluate("image => image.complete && image.naturalWidth") == 320
    assert desk.inner_text("#attachment-list .attachment-name") == "receipt.jpg"
    assert "员工上传" in desk.inner_text("#attachment-list")
    screenshot(desk, "attachments-01-case-with-photo")

    desk.set_input_files(
        "#case-attachments",
        files=[{"name": "发票.jpg", "mimeType": "image/jpeg", "buffer": b"MZ\x90\x00" + b"\x00" * 300}],
    )
    desk.click("#attach")

    assert "发票.jpg：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传" in desk.inner_text("main")
    assert desk.locator("#attachment-list li.attachment").count() == 1
    screenshot(desk, "attachments-02-disguised-file-refused")


def test_a_customer_sends_a_photo_from_the_web_form_and_the_desk_sees_it_with_the_complaint(
    chromium, mall, tokens
):
    context = chromium.new_context(locale="zh-CN", viewport={"width": 420, "height": 900})  # a phone
    page = context.new_page()
    page.goto(f"{mall}/intake/form")
    assert page.get_attribute("#photos", "accept") == "image/*" and page.get_attribute("#photos", "capture")
    page.fill("[name=name]", "陈先生")
    page.fill("[name=phone]", "13700001111")
    page.select_option("[name=category]", "quality")
    page.fill("[name=description]", "酸奶过期了")
    page.set_input_files("#photos", str(RECEIPT_PHOTO))
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.locator("#upload-result").wait_for()
    assert page.inner_text("#upload-result") == "附件已上传： 1"
    number = page.inner_text(".receipt strong")
    screenshot(page, "attachments-03-web-form-photo")
    context.close()

    desk = bearer(tokens, "service_desk", subject="desk")
    recorded = httpx.get(f"{mall}/intake/complaints/by-number/{number}", headers=desk, timeout=60).json()
    listed = httpx.get(
        f"{mall}/intake/complaints/{recorded['id']}/attachments", headers=desk, timeout=60
    ).json()
    assert [(item["source"], item["file_name"], item["has_thumbnail"]) for item in listed] == [
        ("web", "receipt.jpg", True)
    ]


def test_a_file_that_is_no_photo_stops_the_web_forms_complaint_named_under_its_field(
    chromium, mall, tokens, tmp_path
):
    fake = tmp_path / "fake.png"
    fake.write_text("这不是照片", encoding="utf-8")
    context = chromium.new_context(locale="zh-CN", viewport={"width": 420, "height": 900})
    page = context.new_page()
    page.goto(f"{mall}/intake/form")
    page.fill("[name=name]", "周女士")
    page.fill("[name=phone]", "13700002222")
    page.select_option("[name=category]", "quality")
    page.fill("[name=description]", "酸奶过期了，照片是假的")
    page.set_input_files("#files", str(fake))
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.locator("#files-refused").wait_for()

    reason = "fake.png：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传"
    assert page.inner_text("#files-refused") == reason
    assert page.get_attribute("#files", "aria-invalid") == "true"
    assert (
        page.is_visible("#complaint") and page.input_value("[name=description]") == "酸奶过期了，照片是假的"
    )
    screenshot(page, "attachments-04-web-form-refused-file")
    context.close()
    desk = bearer(tokens, "service_desk", subject="desk")
    listed = httpx.get(f"{mall}/intake/complaints", params={"phone": "13700002222"}, headers=desk, timeout=60)
    assert listed.json()["items"] == []
