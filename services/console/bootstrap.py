"""The console's composition root: settings, pool, clock, tokens, users, sessions, the services."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.db import pool_from_settings
from services.common.identity.login import Authenticator, LockoutPolicy
from services.common.identity.revocation import verifying_tokens
from services.common.identity.service_tokens import ServiceTokens
from services.common.identity.sessions import SessionPolicy, SessionStore
from services.common.identity.staff_tokens import StaffTokens
from services.common.identity.tokens import TokenIssuer
from services.common.identity.users import UserStore
from services.common.settings import Settings
from services.console.adapters.services import Services

log = logging.getLogger(__name__)

SCHEMA = "identity"


@dataclass
class Console:
    """Everything the console's pages and API need, built once per process."""

    settings: Settings
    pool: ConnectionPool
    clock: Clock
    tokens: TokenIssuer
    users: UserStore
    sessions: SessionStore
    authenticator: Authenticator
    staff_tokens: StaffTokens
    service_tokens: ServiceTokens
    services: Services

    def sessions_open(self):
        """Scrape-time count of the staff logged in (services/console/metrics.py)."""
        from services.console.metrics import ConsoleSessions

        return ConsoleSessions(self.pool, self.settings.mall_id, self.clock, self.settings.session_idle)


def bootstrap(settings: Settings, pool: ConnectionPool | None = None, clock: Clock | None = None) -> Console:
    pool = pool_from_settings(settings, SCHEMA, pool)
    clock = clock or Clock()
    tokens = verifying_tokens(settings, pool, clock)
    users = UserStore(pool)
    authenticator = Authenticator(
        pool, clock, LockoutPolicy(settings.login_max_failures, settings.login_lockout)
    )
    return Console(
        settings=settings,
        pool=pool,
        clock=clock,
        tokens=tokens,
        users=users,
        sessions=SessionStore(pool, clock, SessionPolicy(settings.session_lifetime, settings.session_idle)),
        authenticator=authenticator,
        staff_tokens=StaffTokens(users, authenticator, tokens, clock),
        service_tokens=ServiceTokens(pool, tokens, clock),
        services=Services(settings.services_url),
    )


class SessionPurger:
    """Deletes ended sessions now and then (they are refused anyway; this keeps the table small)."""

    def __init__(self, console: Console, interval: float = 600.0):
        self.console = console
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.console.sessions.purge_expired()
            except Exception as exc:  # the database may be restarting; try again next round
                log.warning("could not purge ended sessions: %s", exc)
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
