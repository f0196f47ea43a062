"""Docs that must stay true to the code."""

from pathlib import Path

from services.common.settings import MAILBOX_TABLE, NOTIFY_TABLE, POLICY_TABLE, SETTINGS_TABLE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented_in_the_configuration_page():
    page = (DOCS / "configuration.md").read_text(encoding="utf-8")

    missing = [
        variable
        for _, variable, _ in SETTINGS_TABLE + POLICY_TABLE + NOTIFY_TABLE + MAILBOX_TABLE
        if f"`{variable}`" not in page
    ]

    assert missing == []
