"""Revoking bearer tokens before they expire: every token names its holder's token version.

A staff user's version (`identity.users.token_version`) moves when the user is deactivated, when
its roles, floors or departments change, when it gets a new password and when an admin revokes its
tokens; a service's (`identity.service_tokens`, subject `service:<name>`) when an admin revokes the
service's tokens. A token is good while its holder is active and still at the version the token
names: nothing about a token is stored, and a change needs no list of the tokens it kills.

Every request is checked, in every service and for every AMQP command. What a process read of a
holder is kept for TOKEN_CHECK_SECONDS (5 by default), for at most CACHE_SIZE holders, so a client
calling all day costs one indexed read of one row per holder, per process, every few seconds
(docs/security.md has the figures): a revocation reaches every process within that time. A token
naming a version newer than the one kept (issued after a change) reads the row again at once, so
a new token works at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.errors import Unauthorized
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer
from services.common.settings import Settings

SERVICE_PREFIX = "service:"
CACHE_SIZE = 4096  # holders per process; a mall has a few hundred staff and a handful of systems
FIRST_VERSION = 1  # every holder's version until its first change, and a token's that names none


@dataclass(frozen=True)
class Holder:
    """A token's subject as it stands: a staff user (with its id), or a service (no id)."""

    version: int
    active: bool = True
    user_id: str | None = None


ReadHolder = Callable[[str, str], "Holder | None"]  # (mall_id, subject) -> the holder, None if no user


def refusal(identity: Identity, holder: Holder | None) -> str | None:
    """Why a signed, unexpired token is refused now, or None when its holder still stands behind it.

    A token naming no version was issued before versions existed: it is at the first one, so the
    holder's first change revokes it. A subject that is no user (and no service) is not checked:
    only the holder of AUTH_SECRET can sign such a token (tests, benchmarks), the system issues none.
    """
    if holder is None:
        return "token revoked: its user no longer exists" if identity.user_id else None
    if identity.user_id and identity.user_id != holder.user_id:  # a new user of the same name
        return "token revoked: its user no longer exists"
    if not holder.active:
        return f"token refused: the user {identity.subject} is deactivated"
    if (identity.token_version or FIRST_VERSION) != holder.version:
        if holder.user_id is None:
            return f"token revoked: an admin revoked the tokens of {identity.subject}; ask for a new one"
        return (
            "token revoked: the user's roles, floors, departments or password changed, or an admin"
            " revoked its tokens, after it was issued; get a new token"
        )
    return None


class CachedRevocations:
    """Checks a token's holder, read through a small cache kept for `keep_for` of the clock."""

    def __init__(self, read: ReadHolder, clock: Clock, keep_for: timedelta, size: int = CACHE_SIZE):
        self._read = read
        self._clock = clock
        self._keep_for = keep_for
        self._size = size
        self._kept: OrderedDict[tuple[str, str], tuple[datetime, Holder | None]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, identity: Identity) -> None:
        reason = refusal(identity, self._holder(identity))
        if reason:
            raise Unauthorized(reason)

    def _holder(self, identity: Identity) -> Holder | None:
        key, now = (identity.mall_id, identity.subject), self._clock.now()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is not None:
            read_at, holder = kept
            if timedelta(0) <= now - read_at < self._keep_for and not _newer(identity, holder):
                return holder
        holder = self._read(*key)
        with self._lock:
            self._kept[key] = (now, holder)
            self._kept.move_to_end(key)
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return holder


def _newer(identity: Identity, kept: Holder | None) -> bool:
    """The token was issued after what is kept was read: a new user, or a version since moved on."""
    if kept is None:
        return identity.user_id is not None
    return (identity.token_version or FIRST_VERSION) > kept.version


def holders(pool: ConnectionPool) -> ReadHolder:
    """Reads a token's holder from `identity`, which every service's database role can read."""

    def read(mall_id: str, subject: str) -> Holder | None:
        with pool.connection() as conn:
            if subject.startswith(SERVICE_PREFIX):
                row = conn.execute(
                    "SELECT token_version FROM identity.service_tokens WHERE mall_id = %s AND name = %s",
                    (mall_id, subject.removeprefix(SERVICE_PREFIX)),
                ).fetchone()
                return Holder(row["token_version"] if row else FIRST_VERSION)
            row = conn.execute(
                "SELECT id, active, token_version FROM identity.users WHERE mall_id = %s AND username = %s",
                (mall_id, subject),
            ).fetchone()
        return Holder(row["token_version"], row["active"], str(row["id"])) if row else None

    return read


def verifying_tokens(settings: Settings, pool: ConnectionPool, clock: Clock) -> TokenIssuer:
    """The token issuer of a service: signature, expiry, and revocation checked on every verify."""
    revocations = CachedRevocations(holders(pool), clock, settings.token_check)
    return TokenIssuer(settings.auth_secret, clock, settings.token_ttl, revocations)
