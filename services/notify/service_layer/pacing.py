"""Holding back what was claimed: quiet hours and the per-recipient rate limit.

Both apply to customers and merchants, people outside the mall; staff alerts go at once: an alert
held back is a deadline missed. Quiet hours hold only what rings a phone (an SMS), never an e-mail
or a letter (`domain.model.quiet_hours_hold`). Nothing is dropped: a delivery held back waits for
its time.
"""

from __future__ import annotations

from datetime import datetime

from services.notify.adapters.deliveries import Delivery
from services.notify.domain.model import Audience, quiet_hours_hold
from services.notify.service_layer.context import Context
from services.notify.service_layer.unit_of_work import UnitOfWork


def hold_back(uow: UnitOfWork, context: Context, claimed: list[Delivery], now: datetime) -> list[Delivery]:
    """The claimed deliveries that may go now; the others are put back until they may."""
    external = [delivery for delivery in claimed if delivery.audience != Audience.STAFF]
    if not external:
        return claimed
    keys = [(delivery.channel, delivery.address) for delivery in external]
    uow.deliveries.lock_addresses(keys)  # another worker's claims to these addresses wait for ours
    since = now - context.rate_limit.window
    recent = uow.deliveries.recent_sends(keys, since, [delivery.id for delivery in external])
    held: set[str] = set()
    for delivery in external:
        quiet = quiet_hours_hold(delivery.audience, delivery.channel)
        wait = _wait(context, now, recent.setdefault((delivery.channel, delivery.address), []), quiet)
        if wait is None:
            recent[(delivery.channel, delivery.address)].append(now)
        else:
            _put_back(uow, delivery, *wait, now)
            held.add(delivery.id)
    return [delivery for delivery in claimed if delivery.id not in held]


def _wait(
    context: Context, now: datetime, recent: list[datetime], quiet: bool
) -> tuple[datetime, str] | None:
    """Until when and why a message to an address with these recent sends must wait (`quiet`: one
    the quiet hours hold); None: go."""
    quiet_until = context.quiet_hours.release(now, context.zone) if quiet else now
    if quiet_until > now:
        return quiet_until, f"quiet hours until {_local(quiet_until, context)}"
    free_at = context.rate_limit.next_free(now, recent)
    if free_at is not None:
        limit = context.rate_limit
        return (
            free_at,
            f"rate limit: {limit.limit} per {limit.window} reached, until {_local(free_at, context)}",
        )
    return None


def _put_back(uow: UnitOfWork, delivery: Delivery, at: datetime, why: str, now: datetime) -> None:
    uow.deliveries.again_at(delivery, at, None, undo_attempt=True)
    uow.deliveries.attempt(delivery.id, now, "deferred", why)


def _local(moment: datetime, context: Context) -> str:
    return moment.astimezone(context.zone).strftime("%Y-%m-%d %H:%M")
