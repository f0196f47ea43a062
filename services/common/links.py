"""Links the system hands to customers (receipts, acknowledgements, the web form's thank-you)."""

from __future__ import annotations

from urllib.parse import quote

from services.common.settings import Settings

STATUS_PATH = "/intake/status"


def public_base(settings: Settings, request_host_url: str | None = None) -> str:
    """Where customers reach the system: PUBLIC_URL, else the address the request came to, else this
    process's own address (the one-process run)."""
    base = settings.public_url or request_host_url or f"http://{settings.http_host}:{settings.http_port}"
    return base.rstrip("/")


def status_page_link(settings: Settings, number: str, request_host_url: str | None = None) -> str:
    """The customers' status page with the complaint's number filled in."""
    return f"{public_base(settings, request_host_url)}{STATUS_PATH}?number={quote(number)}"
