"""Token revocation as pure logic: a token names its holder's version, and a process keeps what it
read of a holder for TOKEN_CHECK_SECONDS of its clock (the database is faked by a dictionary)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.clock import MovableClock
from services.common.errors import Unauthorized
from services.common.identity.model import Identity
from services.common.identity.revocation import CachedRevocations, Holder, refusal
from services.common.identity.tokens import TokenIssuer
from services.common.settings import load_settings

SECRET = "s" * 40
FIVE_SECONDS = timedelta(seconds=5)


def _user(version: int | None = 1, user_id: str | None = "u-1", subject: str = "floor3") -> Identity:
    return Identity(
        subject,
        frozenset({"floor_supervisor"}),
        "demo",
        frozenset({"3F"}),
        user_id=user_id,
        token_version=version,
    )


class Holders:
    """identity.users and identity.service_tokens as a dictionary; counts the reads."""

    def __init__(self, **holders: Holder | None):
        self.holders = holders
        self.reads = 0

    def __call__(self, mall_id: str, subject: str) -> Holder | None:
        self.reads += 1
        return self.holders.get(subject)


def test_a_token_is_good_while_its_user_is_active_and_at_the_version_it_names():
    assert refusal(_user(3), Holder(3, True, "u-1")) is None


@pytest.mark.parametrize(
    ("token", "holder", "says"),
    [
        (_user(3), Holder(4, False, "u-1"), "the user floor3 is deactivated"),
        (_user(3), Holder(4, True, "u-1"), "roles, floors, departments or password changed"),
        (_user(None, None), Holder(2, True, "u-1"), "roles, floors, departments or password changed"),
        (_user(1), None, "its user no longer exists"),
        (_user(1), Holder(1, True, "u-2"), "its user no longer exists"),
        (_user(2, None, "service:parking"), Holder(3), "an admin revoked the tokens of service:parking"),
    ],
    ids=["deactivated", "changed", "older-than-versions", "deleted", "recreated", "service-revoked"],
)
def test_a_token_its_holder_no_longer_stands_behind_is_refused_saying_why(token, holder, says):
    assert says in refusal(token, holder)


def test_a_token_from_before_versions_is_at_the_first_one_and_a_token_of_no_user_is_not_checked():
    assert refusal(_user(None, None), Holder(1, True, "u-1")) is None
    assert refusal(_user(None, None, "tester"), None) is None
    assert refusal(_user(None, None, "service:parking"), Holder(1)) is None


def test_a_holder_read_is_kept_for_the_check_time_then_read_again():
    clock, holders = MovableClock(), Holders(floor3=Holder(1, True, "u-1"))
    revocations = CachedRevocations(holders, clock, FIVE_SECONDS)

    revocations.check(_user(1))
    holders.holders["floor3"] = Holder(2, False, "u-1")  # deactivated
    revocations.check(_user(1))  # what was read stands for five seconds
    clock.advance(FIVE_SECONDS)
    with pytest.raises(Unauthorized, match="deactivated"):
        revocations.check(_user(1))

    assert holders.reads == 2


def test_a_token_newer_than_what_was_read_reads_again_at_once():
    clock, holders = MovableClock(), Holders(floor3=Holder(1, True, "u-1"))
    revocations = CachedRevocations(holders, clock, FIVE_SECONDS)
    revocations.check(_user(1))

    holders.holders["floor3"] = Holder(2, True, "u-1")  # roles changed, a new token issued
    revocations.check(_user(2))
    with pytest.raises(Unauthorized, match="changed"):
        revocations.check(_user(1))

    assert holders.reads == 2


def test_at_most_size_holders_are_kept_the_least_recently_used_go_first():
    holders = Holders(a=None, b=None, c=None)
    revocations = CachedRevocations(holders, MovableClock(), FIVE_SECONDS, size=2)

    for subject in ["a", "b", "a", "c", "a", "b"]:
        revocations.check(_user(None, None, subject))

    assert holders.reads == 4  # a, b, c, then b again: c pushed it out


def test_a_check_time_of_zero_reads_the_holder_on_every_request():
    holders = Holders(floor3=Holder(1, True, "u-1"))
    revocations = CachedRevocations(holders, MovableClock(), timedelta(0))

    for _ in range(3):
        revocations.check(_user(1))

    assert holders.reads == 3


def test_the_issuer_checks_revocation_after_signature_and_expiry_and_a_token_carries_its_version():
    clock, holders = MovableClock(), Holders(floor3=Holder(7, False, "u-1"))
    issuer = TokenIssuer(SECRET, clock, revocations=CachedRevocations(holders, clock, FIVE_SECONDS))
    token = issuer.issue(_user(7))

    with pytest.raises(Unauthorized, match="deactivated"):
        issuer.verify(token)
    assert TokenIssuer(SECRET, clock).verify(token) == _user(7)  # the CLI's issuer checks no holder
    with pytest.raises(Unauthorized, match="expired"):
        clock.advance(timedelta(days=1))
        issuer.verify(token)
    assert holders.reads == 1


def test_the_check_time_is_five_seconds_unless_set_otherwise():
    assert load_settings({}).token_check == FIVE_SECONDS
    assert load_settings({"TOKEN_CHECK_SECONDS": "0.5"}).token_check == timedelta(milliseconds=500)
