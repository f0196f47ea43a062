"""Bearer tokens for staff users over HTTP: one an admin issues for a user, one a user logs in for.

Either carries the user's roles, floors and departments as they stand, exactly as the CLI's
`token user` does (`User.identity()`), so a department's own system calls the task API as that
department's manager would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.clock import Clock
from services.common.errors import InvalidInput
from services.common.identity.login import Authenticator
from services.common.identity.tokens import TokenIssuer
from services.common.identity.users import User, UserStore


@dataclass(frozen=True)
class IssuedToken:
    token: str
    user: User
    lifetime: timedelta
    expires_at: datetime


class StaffTokens:
    """Issues a staff user's token: for an active user by name, or for a password that checks out."""

    def __init__(self, users: UserStore, authenticator: Authenticator, issuer: TokenIssuer, clock: Clock):
        self.users = users
        self.authenticator = authenticator
        self.issuer = issuer
        self.clock = clock

    def for_user(self, mall_id: str, username: str, lifetime: timedelta) -> IssuedToken:
        """NotFound for an unknown user; InvalidInput naming `username` (in the path) for an inactive one."""
        return self._issue(active_user(self.users, mall_id, username), lifetime)

    def log_in(self, mall_id: str, username: str, password: str, lifetime: timedelta) -> IssuedToken:
        """The console login's check (lockout included): LoginRefused, with its message, otherwise."""
        return self._issue(self.authenticator.login(mall_id, username, password), lifetime)

    def _issue(self, user: User, lifetime: timedelta) -> IssuedToken:
        expires_at = (self.clock.now() + lifetime).replace(microsecond=0)  # as the token's `exp`
        return IssuedToken(self.issuer.issue(user.identity(), lifetime), user, lifetime, expires_at)


def active_user(users: UserStore, mall_id: str, username: str) -> User:
    """The user a token may be issued for: NotFound if unknown, InvalidInput naming `username` if inactive
    (its token would be refused anyway; services/common/identity/revocation.py)."""
    user = users.get(mall_id, username)
    if not user.active:
        raise InvalidInput(
            f"user {username!r} is inactive",
            {"username": ["the user is inactive: activate it before issuing a token"]},
            location="path",
        )
    return user
