"""The daily review, the weekly and monthly reports and the monthly callback list, over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from flask import Response, current_app

from services.common.dates import moment
from services.common.errors import InvalidInput
from services.common.web import Blueprint, current_identity, require_roles
from services.reporting.domain.periods import (
    BadPeriod,
    Period,
    current,
    last_complete,
    parse_month,
    parse_week,
)
from services.reporting.entrypoints import answers, schemas
from services.reporting.entrypoints.access import CALLBACK_READERS, REPORT_READERS, UNMASKED
from services.reporting.rendering import render_callbacks, render_report
from services.reporting.service_layer.callbacks import callback_list
from services.reporting.service_layer.reports import build_report
from services.reporting.service_layer.review import daily_review

reports = Blueprint(
    "reports", __name__, description="The managers' review, reports and callback list (记录与报表)."
)

FILE_FORMATS = {
    "text/csv": "csv (one row per figure: section, item, current, previous)",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "a printable page with charts",
    "application/pdf": "pdf with charts",
}
FILES = {
    200: {
        "content": {
            kind: {"schema": {"type": "string", "format": "binary", "description": text}}
            for kind, text in FILE_FORMATS.items()
        }
    }
}


def _reporting():
    return current_app.extensions["reporting"]


def _today():
    runtime = _reporting()
    return runtime.clock.now().astimezone(runtime.settings.zone).date()


def _period(args: dict, name: str, parse: Callable[[str], Period], kind: str, default=current) -> Period:
    """The period asked for, up to today while it runs; by default the current one so far."""
    if name not in args:
        return default(kind, _today())
    try:
        return parse(args[name]).so_far(_today())
    except BadPeriod as exc:
        raise InvalidInput(f"bad {name}: {exc}", {name: [str(exc)]}, "query") from exc


def _report(period: Period, args: dict):
    runtime, identity = _reporting(), current_identity()
    with runtime.uow() as uow:
        report = build_report(
            uow, identity.mall_id, period, runtime.settings.zone, runtime.clock.now(), identity.scope
        )
        names = uow.places.latest(identity.mall_id) if args["format"] != "json" else {}
    if args["format"] == "json":
        return report
    # a printed report gives its time in the mall's zone and the reader's words (2026年12月6日 17:05),
    # and names floors and departments as the mall does
    printed = moment(runtime.clock.now(), runtime.settings.zone, args["lang"])
    return _file(
        *render_report({**report, "generated_local": printed, "names": names}, args["format"], args["lang"])
    )


def _file(body: bytes, mimetype: str, filename: str, named: str) -> Response:
    """The file, saved under `named` (the reader's words, RFC 6266's filename*), or `filename` by a
    program that takes no other."""
    response = Response(body, mimetype=mimetype)
    disposition = "inline" if mimetype.startswith(("text/html", "application/pdf")) else "attachment"
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{filename}\"; filename*=UTF-8''{quote(named)}"
    )
    return response


@reports.route("/reviews/daily")
@require_roles(*REPORT_READERS)
@reports.arguments(schemas.DailyArgs(), location="query")
@reports.response(200, answers.DailyOut)
def get_daily_review(args):
    """The operations manager's daily review: the day's new, overdue, escalated and resolved cases.

    Counts are whole; each list holds its first `limit` items, oldest first. Overdue is judged now
    (or at the end of a past day) from what is known of each case now.
    """
    runtime, identity = _reporting(), current_identity()
    with runtime.uow() as uow:
        return daily_review(
            uow,
            identity.mall_id,
            args.get("date") or _today(),
            runtime.settings.zone,
            runtime.clock.now(),
            args["limit"],
            identity.scope,
        )


@reports.route("/reports/weekly")
@require_roles(*REPORT_READERS)
@reports.arguments(schemas.WeeklyArgs(), location="query")
@reports.response(200, answers.ReportOut)
@reports.doc(responses=FILES)
def get_weekly_report(args):
    """The weekly report (工作周报) of an ISO week, with the week before beside it."""
    return _report(_period(args, "week", parse_week, "week"), args)


@reports.route("/reports/monthly")
@require_roles(*REPORT_READERS)
@reports.arguments(schemas.MonthlyArgs(), location="query")
@reports.response(200, answers.ReportOut)
@reports.doc(responses=FILES)
def get_monthly_report(args):
    """The monthly report (月报) of a month, with the month before beside it."""
    return _report(_period(args, "month", parse_month, "month"), args)


@reports.route("/callbacks")
@require_roles(*CALLBACK_READERS)
@reports.arguments(schemas.CallbackArgs(), location="query")
@reports.response(200, answers.CallbackListOut)
@reports.doc(
    responses={200: {"content": {kind: FILES[200]["content"][kind] for kind in list(FILE_FORMATS)[:2]}}}
)
def get_callbacks(args):
    """The monthly callback list: the month's complainants who can be called back (default: last month).

    Contact details are shown in full to the service desk, masked to the managers.
    """
    runtime, identity = _reporting(), current_identity()
    month = _period(args, "month", parse_month, "month", default=last_complete)
    with runtime.uow() as uow:
        names = uow.places.latest(identity.mall_id)
        found = callback_list(
            uow, identity.mall_id, month, runtime.settings.zone, masked=not identity.has_any(*UNMASKED)
        )
    if args["format"] == "json":
        return found
    return _file(*render_callbacks({**found, "names": names}, args["format"], runtime.settings.zone))
