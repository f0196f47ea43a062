"""Attachments: uploaded, checked by content, kept in the S3 store (moto's server), listed, opened and
thumbnailed for those who may see the case, refused with a reason naming the file, and erased with
the customer's personal data (retention and the customer's request)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image

from services.common.bus.envelope import Actor, Envelope
from services.common.bus.events import RETENTION_ERASURE_REQUESTED
from tests.conftest import bearer
from tests.integration.conftest import complaint

GPS_TAG = 0x8825  # EXIF's GPS information block
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200  # a Windows program


def photo(size=(1200, 900), gps=True, kind="JPEG") -> bytes:
    """A photo as a phone takes it: with the place it was taken in its EXIF."""
    image = Image.new("RGB", size, (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    if gps:
        exif[GPS_TAG] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format=kind, exif=exif.tobytes())
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x0f" + b"\x00" * 64


def stored(store) -> list[str]:
    """The keys in the test's bucket."""
    store.ping()  # makes the bucket, as the first upload would
    return [item["Key"] for item in store._client.list_objects_v2(Bucket=store.bucket).get("Contents", [])]


@pytest.fixture
def recorded(client, desk) -> dict:
    answer = client.post(
        "/complaints", json=complaint(customer={"name": "王芳", "phone": "13912345678"}), headers=desk
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def upload(client, headers, complaint_id, *files, language="zh-CN", **form):
    data = {"file": [(io.BytesIO(content), name) for name, content in files], **form}
    return client.post(
        f"/complaints/{complaint_id}/attachments",
        data=data,
        content_type="multipart/form-data",
        headers={**headers, "Accept-Language": language},
    )


def test_the_desk_attaches_a_photo_a_pdf_and_a_recording_and_each_is_kept_by_what_its_content_is(
    client, desk, recorded, object_store
):
    answer = upload(client, desk, recorded["id"], ("收据.jpg", photo()), ("letter.pdf", PDF), ("voice", MP3))

    assert answer.status_code == 201, answer.json
    assert [
        (item["kind"], item["media_type"], item["has_thumbnail"], item["source"]) for item in answer.json
    ] == [
        ("image", "image/jpeg", True, "staff"),
        ("pdf", "application/pdf", False, "staff"),
        ("audio", "audio/mpeg", False, "staff"),
    ]
    listed = client.get(f"/complaints/{recorded['id']}/attachments", headers=desk).json
    assert [item["file_name"] for item in listed] == ["收据.jpg", "letter.pdf", "voice"]
    pdf = client.get(f"/complaints/{recorded['id']}/attachments/{listed[1]['id']}", headers=desk)
    assert pdf.status_code == 200 and pdf.data == PDF and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "private, no-store"
    assert len(stored(object_store)) == 4


def test_a_photo_is_kept_without_its_gps_position_and_camera_and_gets_a_small_thumbnail(
    client, desk, recorded
):
    [kept] = upload(client, desk, recorded["id"], ("IMG_0001.jpg", photo())).json
    base = f"/complaints/{recorded['id']}/attachments/{kept['id']}"

    stored = Image.open(io.BytesIO(client.get(base, headers=desk).data))
    thumbnail = client.get(f"{base}/thumbnail", headers=desk)

    assert stored.size == (1200, 900) and not stored.getexif() and "exif" not in stored.info
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumbnail.data)).size == (320, 240)


def test_an_iphones_heic_photo_is_kept_as_jpeg_with_a_thumbnail(client, desk, recorded):
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 200, 10)).save(out, format="HEIF", quality=80)

    [kept] = upload(client, desk, recorded["id"], ("IMG_0002.HEIC", out.getvalue())).json

    assert (kept["kind"], kept["media_type"], kept["has_thumbnail"]) == ("image", "image/jpeg", True)
    stored = client.get(f"/complaints/{recorded['id']}/attachments/{kept['id']}", headers=desk)
    assert Image.open(io.BytesIO(stored.data)).format == "JPEG"


def test_a_png_stays_a_png_and_a_pdf_has_no_thumbnail(client, desk, recorded):
    png, pdf = upload(
        client, desk, recorded["id"], ("plan.png", photo(kind="PNG", gps=False)), ("a.pdf", PDF)
    ).json

    assert png["media_type"] == "image/png"
    answer = client.get(f"/complaints/{recorded['id']}/attachments/{pdf['id']}/thumbnail", headers=desk)
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-CN,zh;q=0.9", "setup.jpg：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传"),
        ("en", "setup.jpg: the file's content is not a photo (JPEG, PNG, HEIC), a PDF or a recording"),
    ],
)
def test_a_program_named_jpg_is_refused_naming_the_file_in_the_callers_language_and_nothing_is_kept(
    client, desk, recorded, object_store, language, expected
):
    answer = upload(
        client, desk, recorded["id"], ("fine.jpg", photo()), ("setup.jpg", EXE), language=language
    )

    assert answer.status_code == 400
    assert answer.json["message"] == expected and answer.json["errors"] == {"files": {"file": [expected]}}
    assert client.get(f"/complaints/{recorded['id']}/attachments", headers=desk).json == []
    assert stored(object_store) == []


def test_a_file_over_the_limit_is_refused_with_413_naming_it(client, desk, recorded, intake):
    limit = intake.settings.attachment_max_bytes
    too_big = PDF + b"0" * limit

    answer = upload(client, desk, recorded["id"], ("扫描件.pdf", too_big))

    assert answer.status_code == 413
    assert answer.json["errors"]["files"]["file"] == ["扫描件.pdf：文件超过 10 MB 的上限"]


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ((), "请选择要上传的文件"),
        ((("empty.jpg", b""),), "empty.jpg：文件是空的"),
        ((("broken.jpg", photo()[:200]),), "broken.jpg：照片已损坏或无法读取"),
    ],
)
def test_no_file_an_empty_file_or_a_broken_photo_is_refused_with_a_reason(
    client, desk, recorded, files, reason
):
    answer = upload(client, desk, recorded["id"], *files)

    assert answer.status_code == 400 and answer.json["errors"]["files"]["file"] == [reason]


def test_a_floor_supervisor_of_another_floor_neither_sees_nor_adds_files_and_a_designer_is_not_let_in(
    client, desk, recorded, tokens
):
    [kept] = upload(client, desk, recorded["id"], ("a.jpg", photo())).json
    other_floor = bearer(tokens, "floor_supervisor", floors=["B1"])
    designer = bearer(tokens, "process_designer")
    base = f"/complaints/{recorded['id']}/attachments"

    for headers, status in ((other_floor, 404), (designer, 403)):
        assert client.get(base, headers=headers).status_code == status
        assert client.get(f"{base}/{kept['id']}", headers=headers).status_code == status
        assert client.get(f"{base}/{kept['id']}/thumbnail", headers=headers).status_code == status
        assert upload(client, headers, recorded["id"], ("b.jpg", photo())).status_code == status
    assert client.get(base).status_code == 401


def test_a_department_attaches_a_photo_while_working_its_task_and_sees_names_scrubbed_when_masked(
    client, desk, recorded, tokens
):
    floor3 = bearer(tokens, "floor_supervisor", floors=["3F"], subject="floor3")
    task_id = str(uuid.uuid4())

    answer = upload(client, floor3, recorded["id"], ("王芳_13912345678.jpg", photo()), task_id=task_id)

    assert answer.status_code == 201, answer.json
    [kept] = answer.json
    assert (kept["source"], kept["task_id"], kept["uploaded_by"]) == ("task", task_id, "floor3")
    assert kept["file_name"] == "王*_139****5678.jpg"
    [as_desk] = client.get(f"/complaints/{recorded['id']}/attachments", headers=desk).json
    assert as_desk["file_name"] == "王芳_13912345678.jpg"
    opened = client.get(f"/complaints/{recorded['id']}/attachments/{kept['id']}", headers=floor3)
    assert "13912345678" not in opened.headers["Content-Disposition"]


def test_the_web_forms_customer_attaches_a_photo_with_the_receipts_token_and_nothing_without_it(
    client, desk, recorded
):
    body = complaint(channel=None, customer={"name": "李先生", "phone": "13700001111"}, consent=True)
    receipt = client.post("/public/complaints", json=body)
    assert receipt.status_code == 201, receipt.json
    number = receipt.json["number"]
    files = {"file": [(io.BytesIO(photo()), "camera.jpg")]}

    sent = client.post(
        "/public/attachments",
        data={**files, "upload_token": receipt.json["upload_token"]},
        content_type="multipart/form-data",
    )
    forged = client.post(
        "/public/attachments",
        data={"file": [(io.BytesIO(photo()), "x.jpg")], "upload_token": "forged"},
        content_type="multipart/form-data",
        headers={"Accept-Language": "zh-CN"},
    )

    assert sent.status_code == 201 and sent.json == {"count": 1}
    assert forged.status_code == 400 and forged.json["errors"]["files"]["upload_token"] == [
        "上传凭证无效或已过期，请重新提交投诉"
    ]
    found = client.get(f"/complaints/by-number/{number}", headers=desk).json
    [kept] = client.get(f"/complaints/{found['id']}/attachments", headers=desk).json
    assert (kept["source"], kept["uploaded_by"]) == ("web", "public-web-form")


@pytest.mark.parametrize("path", ["/complaints/attachments/check", "/public/attachments/check"])
def test_files_are_judged_before_a_complaint_is_sent_naming_a_refused_one_and_none_is_kept(
    client, desk, object_store, path
):
    def check(*files):
        return client.post(
            path,
            data={"file": [(io.BytesIO(content), name) for name, content in files]},
            content_type="multipart/form-data",
            headers={**desk, "Accept-Language": "zh-CN"},
        )

    fine = check(("收据.jpg", photo()), ("letter.pdf", PDF))
    refused = check(("收据.jpg", photo()), ("fake.png", "只是一段文字".encode()))

    assert fine.status_code == 200 and fine.json == {"count": 2}
    expected = "fake.png：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传"
    assert refused.status_code == 400 and refused.json["errors"] == {"files": {"file": [expected]}}
    assert stored(object_store) == []


def test_retention_erases_a_complaints_attachments_rows_and_objects(
    client, desk, recorded, intake, object_store
):
    upload(client, desk, recorded["id"], ("a.jpg", photo()), ("b.pdf", PDF))
    envelope = Envelope(
        type=RETENTION_ERASURE_REQUESTED,
        mall_id="demo",
        actor=Actor("reporting", "service"),
        occurred_at=datetime(2028, 12, 1, tzinfo=UTC),
        payload={"complaint_ids": [recorded["id"]], "closed_before": "2026-12-01"},
    )

    with intake.pool.connection() as conn:  # as the consumer calls it, in its transaction
        intake.bus.handle_event(conn, envelope)

    assert client.get(f"/complaints/{recorded['id']}/attachments", headers=desk).json == []
    assert stored(object_store) == []


def test_a_customers_erasure_request_erases_their_attachments(client, desk, recorded, tokens, object_store):
    upload(client, desk, recorded["id"], ("a.jpg", photo()))
    admin = bearer(tokens, "admin", subject="root")

    erased = client.post(
        "/privacy/erasures", json={"contact": "13912345678", "reason": "顾客书面要求删除"}, headers=admin
    )

    assert erased.status_code == 201, erased.json
    assert client.get(f"/complaints/{recorded['id']}/attachments", headers=desk).json == []
    assert stored(object_store) == []
