"""Reports: the daily review, the weekly and monthly reports with reporting's charts, the callback list.

Reporting computes and draws everything. The console shows its JSON (the review, the callback list,
a report's period) and frames its printable page (the figures of both periods and its SVG charts);
the export buttons download reporting's files through the console as the logged-in user.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from services.common.errors import InvalidInput
from services.console.auth.guard import api, login_required
from services.console.i18n import language
from services.console.pages import html_errors
from services.console.pages.access import CALLBACK_READERS, REPORT_READERS
from services.console.pages.files import framed_page, passed_on

blueprint = html_errors(Blueprint("reports", __name__, url_prefix="/reports"))

# Each report's path under /reporting/reports and the query argument naming its period.
PERIOD_ARGUMENT = {"weekly": "week", "monthly": "month"}
REVIEW_LISTS = ("new", "overdue", "escalated", "resolved")
REVIEW_LIMIT = 200


def report_language() -> str:
    """Reporting's `lang` for the console's language: its files are labelled as the page is."""
    return "en" if language() == "en" else "zh"


def _chosen(name: str) -> str | None:
    return request.args.get(name, "").strip()[:20] or None


@blueprint.get("/daily")
@login_required(*REPORT_READERS)
def daily():
    """The operations manager's daily review: the day's new, overdue, escalated and resolved cases."""
    chosen = _chosen("date")
    try:
        review = api().get("/reporting/reviews/daily", date=chosen, limit=REVIEW_LIMIT)
    except InvalidInput as refused:
        page = render_template("review.html", review=None, chosen=chosen, errors=refused.fields, lists=())
        return page, 400
    return render_template("review.html", review=review, chosen=review["date"], errors={}, lists=REVIEW_LISTS)


@blueprint.get("/<any(weekly, monthly):kind>")
@login_required(*REPORT_READERS)
def report(kind):
    """A week's or month's report beside the period before: reporting's page with its charts, and exports."""
    argument = PERIOD_ARGUMENT[kind]
    chosen = _chosen(argument)
    try:
        found = api().get(f"/reporting/reports/{kind}", **{argument: chosen})
    except InvalidInput as refused:
        page = render_template(
            "report.html", kind=kind, argument=argument, chosen=chosen, report=None, errors=refused.fields
        )
        return page, 400
    return render_template(
        "report.html", kind=kind, argument=argument, chosen=found["period"]["label"], report=found, errors={}
    )


@blueprint.get("/<any(weekly, monthly):kind>.<any(html, csv, xlsx, pdf):fmt>")
@login_required(*REPORT_READERS)
def report_file(kind, fmt):
    """Reporting's file of the report: the printable page (framed by the report page), CSV, XLSX, PDF."""
    argument = PERIOD_ARGUMENT[kind]
    found = api().download(
        f"/reporting/reports/{kind}", format=fmt, lang=report_language(), **{argument: _chosen(argument)}
    )
    return framed_page(found) if fmt == "html" else passed_on(found)


@blueprint.get("/callbacks")
@login_required(*CALLBACK_READERS)
def callbacks():
    """The month's callback list for the desk, contacts as reporting shows them to the caller's role."""
    chosen = _chosen("month")
    try:
        found = api().get("/reporting/callbacks", month=chosen)
    except InvalidInput as refused:
        return render_template("callbacks.html", found=None, chosen=chosen, errors=refused.fields), 400
    return render_template("callbacks.html", found=found, chosen=found["month"], errors={})


@blueprint.get("/callbacks.<any(csv, xlsx):fmt>")
@login_required(*CALLBACK_READERS)
def callbacks_file(fmt):
    """The callback list as CSV or XLSX."""
    return passed_on(api().download("/reporting/callbacks", format=fmt, month=_chosen("month")))
