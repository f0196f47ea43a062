"""Signed bearer tokens (JWT, HS256 through PyJWT) for staff and for services."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta
from typing import Protocol

import jwt

from services.common.clock import Clock
from services.common.errors import ConfigurationError, Unauthorized
from services.common.identity.model import ROLES, Identity

ISSUER = "mall-complaints"
ALGORITHM = "HS256"
VERIFIED_CACHE_SIZE = 1024  # tokens; see TokenIssuer.verify


class Revocations(Protocol):
    """Whether a signed, unexpired token's holder still stands behind it (revocation.py)."""

    def check(self, identity: Identity) -> None:
        """Raise Unauthorized, saying why, when the token was revoked."""


class TokenIssuer:
    """Issues and verifies tokens with one shared secret.

    With `revocations`, verify also refuses a token its holder no longer stands behind (a user
    deactivated, or changed since the token was issued); without, as the CLI issues, only
    signature and expiry count.
    """

    def __init__(
        self,
        secret: str | None,
        clock: Clock | None = None,
        ttl: timedelta = timedelta(hours=12),
        revocations: Revocations | None = None,
    ):
        if not secret:
            raise ConfigurationError("AUTH_SECRET is required to issue or verify tokens")
        self._secret = secret
        self._clock = clock or Clock()
        self._ttl = ttl
        self._revocations = revocations
        # An exception (an invalid token) is never cached; lru_cache is safe across threads.
        self._verified = functools.lru_cache(maxsize=VERIFIED_CACHE_SIZE)(self._verify_signed)

    def issue(self, identity: Identity, ttl: timedelta | None = None) -> str:
        now: datetime = self._clock.now()
        claims = {
            "iss": ISSUER,
            "sub": identity.subject,
            "jti": uuid.uuid4().hex,
            "iat": int(now.timestamp()),
            "exp": int((now + (ttl or self._ttl)).timestamp()),
            "roles": sorted(identity.roles),
            "mall": identity.mall_id,
            "floors": sorted(identity.floors),
            "departments": sorted(identity.departments),
            "name": identity.name,
        }
        if identity.user_id is not None:
            claims["uid"], claims["ver"] = identity.user_id, identity.token_version
        elif identity.token_version is not None:  # a service's token
            claims["ver"] = identity.token_version
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Identity:
        """Return the identity in a valid token; raise Unauthorized otherwise.

        A client sends the same token with every request until it expires: its signature and claims
        are checked once and kept (only valid tokens, VERIFIED_CACHE_SIZE of them); the expiry is
        compared with the clock on every call, and so is revocation (which reads its own cache).
        """
        expires, identity = self._verified(token)
        if expires <= self._clock.now().timestamp():
            raise Unauthorized("token expired")
        if self._revocations is not None:
            self._revocations.check(identity)
        return identity

    def _verify_signed(self, token: str) -> tuple[int, Identity]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                # Expiry is checked below against our clock (movable in tests), not the wall clock.
                options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("invalid token") from exc
        roles = frozenset(role for role in claims.get("roles", []) if role in ROLES)
        user_id, version = claims.get("uid"), claims.get("ver")
        if not isinstance(user_id, str | None) or not (version is None or type(version) is int):
            raise Unauthorized("invalid token")
        return claims["exp"], Identity(
            subject=claims["sub"],
            roles=roles,
            mall_id=claims.get("mall", ""),
            floors=frozenset(claims.get("floors", [])),
            departments=frozenset(claims.get("departments", [])),
            name=claims.get("name"),
            user_id=user_id,
            token_version=version,
        )
