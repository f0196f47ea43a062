"""The staff inbox (escalations, overdue alerts, reminders, letters to print) and failed deliveries.

Notify keeps the inbox and decides who is told what; the console lists it, marks items read,
hands the desk a letter's PDF through itself and lets it retry a delivery that failed.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from services.common.errors import ServiceError
from services.console.auth.guard import api, current_user, login_required
from services.console.pages import html_errors
from services.console.pages.access import DELIVERY_LOG_READERS, DESK, INBOX_OWNERS
from services.console.pages.files import passed_on

blueprint = html_errors(Blueprint("inbox", __name__))

PAGE_SIZE = 50
# Notify links a letter to print to its own route; the browser reaches it through the console.
LETTER_LINK = re.compile(r"^/notify/deliveries/([0-9a-f-]{36})/letter\.pdf$")


def console_link(link: str | None) -> str | None:
    """Where the console shows what an inbox item links to (None: nothing the console can open)."""
    found = LETTER_LINK.match(link or "")
    return url_for("inbox.letter", delivery_id=found.group(1)) if found else None


def unread_count() -> int | None:
    """How many of my notifications are unread, for the header (None when notify does not answer)."""
    if current_user() is None:
        return None
    if "inbox_unread" not in g:
        try:
            g.inbox_unread = api().get("/notify/inbox", unread="true", limit=1)["unread"]
        except ServiceError:  # the header never breaks a page; the inbox page itself says what failed
            g.inbox_unread = None
    return g.inbox_unread


@blueprint.get("/inbox")
@login_required(*INBOX_OWNERS)
def inbox():
    """My notifications, newest first (or the unread only), each marked read with one click."""
    unread = request.args.get("unread") == "1"
    page = api().get(
        "/notify/inbox", unread="true" if unread else None, limit=PAGE_SIZE, cursor=request.args.get("cursor")
    )
    items = [{**item, "console_link": console_link(item.get("link"))} for item in page["items"]]
    return render_template(
        "inbox.html",
        items=items,
        unread=page["unread"],
        only_unread=unread,
        next_cursor=page.get("next_cursor"),
    )


@blueprint.post("/inbox/<uuid:item_id>/read")
@login_required(*INBOX_OWNERS)
def mark_read(item_id):
    """Mark one of my notifications read; back to the inbox as it was shown."""
    api().post(f"/notify/inbox/{item_id}/read")
    return redirect(url_for("inbox.inbox", unread="1" if request.form.get("unread") == "1" else None))


@blueprint.get("/inbox/<uuid:item_id>/case/<uuid:case_id>")
@login_required(*INBOX_OWNERS)
def open_case(item_id, case_id):
    """Follow a notification to its case: the notification is read now (the person went to see)."""
    api().post(f"/notify/inbox/{item_id}/read")
    return redirect(url_for("cases.case", case_id=case_id))


@blueprint.get("/letters/<uuid:delivery_id>.pdf")
@login_required(*DESK)
def letter(delivery_id):
    """The letter to print and post (notify's PDF)."""
    return passed_on(api().download(f"/notify/deliveries/{delivery_id}/letter.pdf"))


@blueprint.get("/deliveries/failed")
@login_required(*DELIVERY_LOG_READERS)
def failed():
    """Deliveries that failed for good, newest first: what the desk must follow up."""
    page = api().get("/notify/deliveries/failed", limit=PAGE_SIZE, cursor=request.args.get("cursor"))
    return render_template("deliveries_failed.html", page=page)


@blueprint.post("/deliveries/<uuid:delivery_id>/retry")
@login_required(*DESK)
def retry(delivery_id):
    """Try a failed delivery again now (a 409 page when it is not failed or has no address)."""
    api().post(f"/notify/deliveries/{delivery_id}/retry")
    flash("deliveries.retried")
    return redirect(url_for("inbox.failed"))
