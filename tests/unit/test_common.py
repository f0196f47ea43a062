"""Shared parts as pure logic: settings, tokens, identity scopes, envelopes, masking, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from flask import Flask
from marshmallow import ValidationError
from psycopg_pool import PoolTimeout

from services.common.bus.envelope import Actor, Envelope, dump_envelope, load_envelope
from services.common.clock import MovableClock
from services.common.errors import ConfigurationError, Unauthorized
from services.common.identity.model import Identity
from services.common.identity.tokens import TokenIssuer
from services.common.settings import load_settings
from services.common.web.errors import nest_field_errors, register_error_handlers
from services.intake.entrypoints.presenters import mask_email, mask_name, mask_phone

SECRET = "s" * 40


def test_settings_have_the_process_md_defaults():
    settings = load_settings({})

    assert settings.policy.merchant_call_within == timedelta(hours=24)
    assert settings.policy.first_reply_after == timedelta(days=3)
    assert settings.policy.max_postponements == 2
    assert settings.policy.callback_attempts == 3
    assert settings.policy.retention == timedelta(days=730)
    assert settings.database_url is None and settings.auth_secret is None


def test_a_token_got_by_logging_in_to_the_api_lasts_an_hour_unless_set_otherwise():
    assert load_settings({}).login_token_ttl == timedelta(hours=1)
    assert load_settings({"LOGIN_TOKEN_MINUTES": "15"}).login_token_ttl == timedelta(minutes=15)


def test_policy_values_are_read_from_the_environment_and_passed_as_plain_data():
    settings = load_settings({"POLICY_FIRST_REPLY_DAYS": "5", "POLICY_MAJOR_AMOUNT": "8000.50"})

    data = settings.policy.as_workflow_data()

    assert data["first_reply_after_seconds"] == 5 * 86400
    assert data["major_amount"] == "8000.50"
    assert settings.policy.major_amount == Decimal("8000.50")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HTTP_PORT", "eighty", "HTTP_PORT='eighty' is not valid"),
        ("POLICY_CALLBACK_ATTEMPTS", "-1", "must be zero or more"),
        ("MALL_TIME_ZONE", "Mars/Olympus", "unknown time zone"),
        ("LOG_JSON", "maybe", "expected true or false"),
        ("AUTH_SECRET", "short", "at least 32 characters"),
        ("POLICY_CALLBACK_UNTIL_HOURS", "12", "must not be before"),
        ("DB_POOL_TIMEOUT_SECONDS", "0", "must be more than zero"),
        ("LOGIN_TOKEN_MINUTES", "0", "LOGIN_TOKEN_MINUTES must be more than zero"),
    ],
)
def test_a_bad_setting_is_refused_naming_the_variable(variable, value, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({variable: value})


def test_a_pool_waits_for_a_connection_as_long_as_the_setting_says():
    from services.common.db import pool_from_settings

    default = pool_from_settings(load_settings({}, database_url="postgresql://nowhere/x"), "test")
    set_ = pool_from_settings(
        load_settings({"DB_POOL_TIMEOUT_SECONDS": "2.5"}, database_url="postgresql://nowhere/x"), "test"
    )

    assert (default.timeout, set_.timeout) == (10.0, 2.5)  # not psycopg_pool's 30 s


def test_a_token_carries_roles_and_scopes_and_expires_by_the_clock():
    clock = MovableClock(datetime(2026, 11, 22, tzinfo=UTC))
    issuer = TokenIssuer(SECRET, clock, ttl=timedelta(hours=1))
    identity = Identity("zhang", frozenset({"floor_supervisor"}), "demo", floors=frozenset({"3F"}))

    token = issuer.issue(identity)

    assert issuer.verify(token) == identity
    clock.advance(timedelta(hours=2))
    with pytest.raises(Unauthorized, match="expired"):
        issuer.verify(token)


def test_a_token_signed_with_another_secret_or_tampered_with_is_refused():
    identity = Identity("zhang", frozenset({"service_desk"}), "demo")
    token = TokenIssuer("o" * 40).issue(identity)

    with pytest.raises(Unauthorized):
        TokenIssuer(SECRET).verify(token)
    with pytest.raises(Unauthorized):
        TokenIssuer(SECRET).verify(TokenIssuer(SECRET).issue(identity)[:-2] + "xx")


def test_tokens_cannot_be_issued_without_a_secret():
    with pytest.raises(ConfigurationError, match="AUTH_SECRET"):
        TokenIssuer(None)


def test_scoped_roles_see_their_floors_or_departments_and_managers_see_everything():
    supervisor = Identity("zhang", frozenset({"floor_supervisor"}), "demo", floors=frozenset({"3F"}))
    manager = Identity("liu", frozenset({"department_manager"}), "demo", departments=frozenset({"security"}))
    operations = Identity("chen", frozenset({"operations_manager"}), "demo")

    assert supervisor.can_see("3F", None) and not supervisor.can_see("2F", "security")
    assert manager.can_see(None, "security") and not manager.can_see("3F", "cleaning")
    assert operations.can_see("2F", None)


def test_an_envelope_survives_a_round_trip_and_a_bad_payload_is_refused():
    envelope = Envelope(
        type="test.happened",
        mall_id="demo",
        actor=Actor("desk", "service_desk"),
        payload={"anything": 1},
        occurred_at=datetime(2026, 11, 22, tzinfo=UTC),
    )

    assert load_envelope(dump_envelope(envelope)) == envelope
    with pytest.raises(ValidationError):
        dump_envelope(Envelope("complaint.received", "demo", Actor("x"), {"id": "1"}, envelope.occurred_at))
    with pytest.raises(ValidationError):
        load_envelope({"id": "not-a-uuid", "type": "x"})


def test_an_envelope_from_a_newer_producer_with_extra_fields_is_accepted():
    envelope = Envelope("test.happened", "demo", Actor("desk"), {}, datetime(2026, 11, 22, tzinfo=UTC))
    body = {**dump_envelope(envelope), "added_later": True}

    assert load_envelope(body).id == envelope.id


# The fields a complaint event must carry, as intake publishes them.
COMPLAINT_PAYLOAD = {
    "id": "c1",
    "number": "TS-20261122-0001",
    "channel": "phone",
    "category": "price",
    "severity": "normal",
    "status": "received",
    "customer": {},
    "description": "贵",
    "received_at": "2026-11-22T10:00:00+08:00",
    "promised_reply_date": "2026-11-25",
}


@pytest.mark.parametrize(
    ("published", "read"),
    [("exchange", ["exchange"]), (["compensation", "apology"], ["compensation", "apology"]), (None, None)],
)
def test_a_complaint_event_reads_customer_request_as_a_list_even_from_before_it_was_one(published, read):
    complaint = {**COMPLAINT_PAYLOAD, "customer_request": published}
    at = datetime(2026, 11, 22, tzinfo=UTC)
    received = Envelope("complaint.received", "demo", Actor("desk"), complaint, at)
    corrected = Envelope(
        "complaint.corrected", "demo", Actor("desk"), {"complaint": complaint, "changes": {}}, at
    )

    assert load_envelope(dump_envelope(received)).payload["customer_request"] == read
    assert load_envelope(dump_envelope(corrected)).payload["complaint"]["customer_request"] == read


def test_personal_data_is_masked_keeping_what_identifies_a_case():
    assert mask_name("王女士") == "王**"
    assert mask_phone("139 1234 5678") == "139****5678"
    assert mask_email("wang.li@example.cn") == "w***@example.cn"
    assert mask_name(None) is None and mask_phone("12") == "**"


def test_dotted_field_errors_are_nested_like_marshmallow_errors():
    flat = {"customer.phone": ["required"], "customer.email": ["bad"], "floor": ["unknown"]}

    assert nest_field_errors(flat) == {
        "customer": {"phone": ["required"], "email": ["bad"]},
        "floor": ["unknown"],
    }


@pytest.mark.parametrize("order", [("x", "x.y"), ("x.y", "x")])
def test_a_field_named_like_a_path_under_another_field_keeps_its_whole_name(order):
    """A task form's field ids are names: `x` and `x.y` both bad once answered 500 (AttributeError)."""
    flat = {name: [f"{name}: not a field of this task's form"] for name in order}

    assert nest_field_errors(flat) == {name: [f"{name}: not a field of this task's form"] for name in order}
    assert nest_field_errors({"a.b": ["1"], "a.b.c": ["2"]}) == {"a": {"b": ["1"]}, "a.b.c": ["2"]}


@pytest.mark.parametrize(
    "lost",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        PoolTimeout("couldn't get a connection after 30.00 sec"),
    ],
)
def test_a_database_lost_at_any_statement_is_503_not_500(lost):
    """A statement no repository translated (the connection cut in the middle of a request)."""
    app = Flask("t")
    register_error_handlers(app)

    @app.post("/complaints")
    def post():
        raise lost

    response = app.test_client().post("/complaints")
    assert response.status_code == 503
    assert response.json["message"].startswith("the database does not answer")


def test_an_error_of_a_subclass_answers_the_status_of_its_base_in_the_error_table():
    from services.common.identity.login import LoginRefused

    app = Flask("t")
    register_error_handlers(app)

    @app.post("/token")
    def post():
        raise LoginRefused("wrong username or password")

    response = app.test_client().post("/token")
    assert response.status_code == 401 and response.json["message"] == "wrong username or password"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="mall"'


def test_log_lines_are_json_with_the_correlation_and_complaint_ids(capsys):
    import json
    import logging

    from services.common.logging import configure_logging, log_context

    configure_logging("INFO", json_output=True, service="intake")
    with log_context("corr-123"):
        logging.getLogger("test").info("complaint recorded", extra={"complaint_id": "c-1", "number": "TS-1"})
        logging.getLogger("test").info("discarded", extra={"reason": "测试：重复的消息"})

    *_, recorded, discarded = capsys.readouterr().err.strip().splitlines()
    line = json.loads(recorded)
    assert '"reason": "测试：重复的消息"' in discarded  # as typed, not \u6d4b…: an operator greps for it
    assert line["message"] == "complaint recorded" and line["service"] == "intake"
    assert (line["correlation_id"], line["complaint_id"], line["number"]) == ("corr-123", "c-1", "TS-1")


def test_the_reference_cache_reloads_when_stale_or_invalidated_and_drops_a_load_overlapping_a_change():
    from services.intake.adapters.reference_cache import Reference, ReferenceCache

    now = [0.0]
    cache = ReferenceCache(ttl=5.0, now=lambda: now[0])
    loads = []

    def load(floors=("3F",)):
        loads.append(floors)
        return Reference(floors=frozenset(floors), departments=frozenset(), merchants={})

    assert cache.get("demo", load).floors == {"3F"}
    now[0] = 4.9
    assert cache.get("demo", load).floors == {"3F"} and len(loads) == 1  # fresh: not loaded again
    now[0] = 5.0
    cache.get("demo", load)
    assert len(loads) == 2  # stale after the TTL
    cache.invalidate("demo")
    assert cache.get("demo", lambda: load(("3F", "5F"))).floors == {"3F", "5F"}

    def load_while_changed():  # a change is committed while this load reads the old rows
        cache.invalidate("demo")
        return load(("old",))

    cache.invalidate("demo")
    assert cache.get("demo", load_while_changed).floors == {"old"}  # answered, but not kept
    assert cache.get("demo", load).floors == {"3F"}


def test_the_message_bus_takes_a_types_own_handler_before_a_topic_pattern_it_matches():
    from services.common.messagebus import MessageBus

    def own(*_):
        return "own"

    def kept(*_):
        return "kept"

    def claims(*_):
        return "claims"

    bus = MessageBus(None, None, {}, {"task.created": own, "task.*.floor_supervisor": claims, "task.#": kept})

    assert bus.handler_of("task.created") is own
    assert bus.handler_of("task.claimed.floor_supervisor") is claims
    assert bus.handler_of("task.claimed") is kept and bus.handler_of("task") is kept
    assert list(bus.consumer_handlers()) == ["task.created"] and bus.consumer_fallback() is not None
    assert MessageBus(None, None, {}, {"task.created": own}).consumer_fallback() is None
