"""Bearer tokens for other systems (role `service`, subject `service:<name>`), and revoking them.

A service has no user: its token version is a row of `identity.service_tokens`, written the first
time an admin revokes the service's tokens (no row: version 1). Revoking moves it, so every token
issued to that name so far is refused; the next one issued carries the new version.
"""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.identity.model import Identity, Role
from services.common.identity.revocation import FIRST_VERSION, SERVICE_PREFIX
from services.common.identity.tokens import TokenIssuer


class ServiceTokens:
    """Issues a service's token at its current version; revokes all of a service's tokens."""

    def __init__(self, pool: ConnectionPool, issuer: TokenIssuer, clock: Clock):
        self.pool = pool
        self.issuer = issuer
        self.clock = clock

    def issue(self, mall_id: str, name: str, lifetime: timedelta) -> tuple[Identity, str]:
        """(the identity the token carries, the token)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT token_version FROM identity.service_tokens WHERE mall_id = %s AND name = %s",
                (mall_id, name),
            ).fetchone()
        identity = Identity(
            subject=SERVICE_PREFIX + name,
            roles=frozenset({Role.SERVICE}),
            mall_id=mall_id,
            token_version=row["token_version"] if row else FIRST_VERSION,
        )
        return identity, self.issuer.issue(identity, lifetime)

    def revoke(self, mall_id: str, name: str, revoked_by: str) -> int:
        """Every token of `service:<name>` issued so far stops working; the service's new version."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "INSERT INTO identity.service_tokens (mall_id, name, token_version, revoked_at, revoked_by)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (mall_id, name) DO UPDATE SET"
                " token_version = service_tokens.token_version + 1, revoked_at = excluded.revoked_at,"
                " revoked_by = excluded.revoked_by RETURNING token_version",
                (mall_id, name, FIRST_VERSION + 1, self.clock.now(), revoked_by),
            ).fetchone()
        return row["token_version"]
