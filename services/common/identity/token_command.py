"""`python -m services token user|service|revoke` (services/runner/cli.py): issue a token, or revoke a holder's."""

from __future__ import annotations

from datetime import timedelta

from psycopg_pool import ConnectionPool

from services.common.clock import Clock
from services.common.identity.revocation import SERVICE_PREFIX
from services.common.identity.service_tokens import ServiceTokens
from services.common.identity.staff_tokens import active_user
from services.common.identity.tokens import TokenIssuer
from services.common.identity.users import UserStore
from services.common.settings import Settings

REVOKED_BY = "command line"


def token_command(args, settings: Settings, pool: ConnectionPool) -> None:
    """Print the token, or what was revoked; an inactive user gets none (InvalidInput)."""
    issuer, mall_id = TokenIssuer(settings.auth_secret), settings.mall_id
    services = ServiceTokens(pool, issuer, Clock())
    if args.action == "user":
        user = active_user(UserStore(pool), mall_id, args.username)
        print(issuer.issue(user.identity(), timedelta(hours=args.hours)))
    elif args.action == "service":
        print(services.issue(mall_id, args.name, timedelta(hours=args.hours))[1])
    else:
        if args.subject.startswith(SERVICE_PREFIX):
            services.revoke(mall_id, args.subject.removeprefix(SERVICE_PREFIX), REVOKED_BY)
        else:
            UserStore(pool).revoke_tokens(mall_id, args.subject)
        delay = f"{settings.token_check.total_seconds():g} s (TOKEN_CHECK_SECONDS)"
        print(f"revoked every token of {args.subject}: refused everywhere within {delay}")
