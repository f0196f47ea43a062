"""Files the services answer (reports, letters), handed to the browser through the console.

The browser never holds a bearer token: it asks the console with its session cookie, and the
console fetches the file as the logged-in user and passes it on unchanged.
"""

from __future__ import annotations

from flask import Response

from services.console.adapters.services import Download

# A page another service rendered (reporting's printable report) is shown in a frame of the console:
# it may style itself and draw its inline SVG charts, but it runs no script and loads nothing.
FRAMED_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def passed_on(download: Download) -> Response:
    """The service's file as it came: body, media type and file name."""
    response = Response(download.content, content_type=download.media_type)
    if download.disposition:
        response.headers["Content-Disposition"] = download.disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"  # personal data stays off shared caches
    return response


def framed_page(download: Download) -> Response:
    """A service's HTML page to show inside a console page's frame, with its scripts shut off."""
    response = passed_on(download)
    response.headers["Content-Security-Policy"] = FRAMED_PAGE_POLICY
    response.headers.pop("Content-Disposition", None)
    return response
