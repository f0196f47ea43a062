"""Reporting's unit of work: one transaction holding its repositories and the outbox
(services/common/unit_of_work.py). An event's unit of work joins the consumer's transaction, and
keeps the batch's events for its end (see projection.py)."""

from __future__ import annotations

import psycopg

from services.common.unit_of_work import PostgresUnitOfWork
from services.reporting.adapters.callbacks import CallbackQueries
from services.reporting.adapters.capa import CapaStore
from services.reporting.adapters.cases import CaseStore
from services.reporting.adapters.events import DecodedEvents, EventStore
from services.reporting.adapters.places import PlaceNames
from services.reporting.adapters.report_queries import ReportQueries
from services.reporting.adapters.retention import RetentionLog
from services.reporting.adapters.review_queries import ReviewQueries


class UnitOfWork(PostgresUnitOfWork):
    events: EventStore
    cases: CaseStore
    capa: CapaStore
    retention: RetentionLog
    places: PlaceNames
    reports: ReportQueries
    reviews: ReviewQueries
    callbacks: CallbackQueries

    def __init__(self, *args, decoded: DecodedEvents | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.decoded = decoded  # the process's decoded events, shared by its units of work

    def open_repositories(self, conn: psycopg.Connection) -> None:
        self.events = EventStore(conn, self.decoded)
        self.cases = CaseStore(conn)
        self.capa = CapaStore(conn)
        self.retention = RetentionLog(conn)
        self.places = PlaceNames(conn)
        self.reports = ReportQueries(conn)
        self.reviews = ReviewQueries(conn)
        self.callbacks = CallbackQueries(conn)
