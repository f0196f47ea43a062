"""Attachments through the console: a department attaches a photo while completing its task; a
program named as a photo keeps the task open with the reason naming the file; the case page shows
the thumbnail, passed on from intake."""

from __future__ import annotations

import io
import re

from PIL import Image

from tests.support.system import csrf_token


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def _floor_task(mall) -> dict:
    [task] = mall.api.get("/routing/tasks", headers=mall.staff("floor3")).json["items"]
    return task


def _complete(client, task: dict, name: str, content: bytes):
    page = f"/console/tasks/{task['id']}"
    html = client.get(page).get_data(as_text=True)
    return client.post(
        f"{page}/complete",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(html),
            "action": "complete",
            "f_outcome": "resolved",
            "f_resolution": "已为顾客换货并致歉",
            "attachments": (io.BytesIO(content), name),
        },
    )


def test_a_disguised_file_keeps_the_task_open_naming_it_and_a_photo_is_attached_as_the_task_completes(
    browser, mall
):
    recorded = mall.record()
    task = _floor_task(mall)
    floor3 = browser()
    floor3.login("floor3")

    refused = _complete(floor3, task, "现场.jpg", b"MZ\x90\x00" + b"\x00" * 300)
    done = _complete(floor3, task, "现场.jpg", _photo())

    assert refused.status_code == 400
    assert "现场.jpg：文件内容不是照片（JPEG、PNG、HEIC）、PDF 或录音，不能上传" in refused.get_data(
        as_text=True
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    [kept] = mall.api.get(f"/intake/complaints/{recorded['id']}/attachments", headers=mall.staff("desk")).json
    assert (kept["source"], kept["task_id"], kept["file_name"]) == ("task", task["id"], "现场.jpg")

    case = floor3.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)
    [thumbnail] = re.findall(r'<img src="([^"]+/thumbnail)"', case)
    answer = floor3.get(thumbnail)
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(answer.data)).size == (320, 240)
    assert answer.headers["Cache-Control"] == "private, no-store"


def test_the_hint_states_the_size_limit_and_a_small_photo_is_not_shown_as_0_kb(browser, mall):
    recorded = mall.record()
    task = _floor_task(mall)
    floor3 = browser()
    floor3.login("floor3")
    tiny = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 200)).save(tiny, format="JPEG")
    form = floor3.get(f"/console/tasks/{task['id']}").get_data(as_text=True)

    assert _complete(floor3, task, "小票.jpg", tiny.getvalue()).status_code == 302
    mall.settle()
    desk = browser()
    desk.login("desk")
    case = desk.get(f"/console/cases/{recorded['id']}").get_data(as_text=True)

    assert len(tiny.getvalue()) < 1024
    assert "每个文件不超过 10 MB" in form and "不超过上限" not in form
    assert re.findall(r'<span class="keep file-size">([^<]+)</span>', case) == ["不足 1 KB"]
