"""What an upload must be, decided without a server: the kind from the content, a photo's pixels
only, the name without folders, the settings of the store."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.common.errors import ConfigurationError
from services.common.objects import FolderStore, S3Store, object_store_from_settings
from services.common.settings import load_settings
from services.intake.adapters.files import Unreadable, media_type_of, prepare
from services.intake.domain.attachments import clean_name, refusal


def _jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}
    out = io.BytesIO()
    Image.new("RGB", (100, 50)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_jpeg_with_gps(), "image/jpeg"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"ID3\x03" + b"\x00" * 20, "audio/mpeg"),
        (b"MZ\x90\x00" + b"\x00" * 60, None),
        (b"<html><script>", None),
        (b"PK\x03\x04" + b"\x00" * 30, None),
    ],
)
def test_the_kind_comes_from_the_content(content, expected):
    assert media_type_of(content) == expected


def test_a_photo_keeps_its_pixels_and_loses_its_exif():
    prepared = prepare(_jpeg_with_gps(), "image/jpeg")

    kept = Image.open(io.BytesIO(prepared.data))
    assert kept.size == (100, 50) and not kept.getexif()
    assert Image.open(io.BytesIO(prepared.thumbnail)).size == (100, 50)  # never enlarged


def test_a_truncated_photo_is_unreadable():
    with pytest.raises(Unreadable):
        prepare(_jpeg_with_gps()[:100], "image/jpeg")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\王\\收据.jpg", "收据.jpg"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.pdf", "abc.pdf"),
        (None, ""),
        ("x" * 300, "x" * 200),
    ],
)
def test_a_file_name_is_kept_without_folders_or_control_characters(sent, kept):
    assert clean_name(sent) == kept


def test_a_refusal_is_in_chinese_for_a_chinese_caller_and_english_otherwise():
    assert refusal("too_large", "zh-CN", name="a.pdf", limit="10") == "a.pdf：文件超过 10 MB 的上限"
    assert (
        refusal("too_large", "en", name="a.pdf", limit="10")
        == "a.pdf: the file is larger than the 10 MB limit"
    )


def test_without_an_object_store_url_files_go_to_a_folder_under_the_data_dir(tmp_path):
    store = object_store_from_settings(load_settings({"DATA_DIR": str(tmp_path)}))

    store.put("demo/c/1", b"abc", "application/pdf")

    assert (
        isinstance(store, FolderStore) and (tmp_path / "objects" / "demo" / "c" / "1").read_bytes() == b"abc"
    )
    store.delete(["demo/c/1", "demo/c/missing"])
    assert not (tmp_path / "objects" / "demo" / "c" / "1").exists()
    with pytest.raises(ValueError):
        store.put("../escape", b"x", "text/plain")


def test_an_object_store_url_needs_both_keys_and_the_size_limit_is_read_in_megabytes():
    with pytest.raises(ConfigurationError, match="OBJECT_STORE_SECRET_KEY"):
        load_settings({"OBJECT_STORE_URL": "http://minio:9000", "OBJECT_STORE_ACCESS_KEY": "mall"})
    with pytest.raises(ConfigurationError, match="ATTACHMENT_MAX_MB"):
        load_settings({"ATTACHMENT_MAX_MB": "0"})
    settings = load_settings(
        {
            "OBJECT_STORE_URL": "http://minio:9000",
            "OBJECT_STORE_ACCESS_KEY": "mall",
            "OBJECT_STORE_SECRET_KEY": "secret-key",
            "ATTACHMENT_MAX_MB": "2.5",
        }
    )
    assert settings.attachment_max_bytes == 2_621_440
    assert isinstance(object_store_from_settings(settings), S3Store)
