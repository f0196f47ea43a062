"""Every setting the services read, declared in one table and read once at start.

Each row names the environment variable, how to coerce it and its default. A bad value stops the
process with a message naming the variable; secrets have no default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.common.errors import ConfigurationError


def _hours(value: str) -> timedelta:
    return timedelta(hours=float(value))


def _days(value: str) -> timedelta:
    return timedelta(days=float(value))


def _minutes(value: str) -> timedelta:
    return timedelta(minutes=float(value))


def _zero_or_more_seconds(value: str) -> timedelta:
    return timedelta(seconds=_seconds_number(value))


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be zero or more")
    return number


def _seconds_number(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError("must be zero or more")
    return number


def _more_than_zero_seconds(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be more than zero")
    return number


def _megabytes(value: str) -> int:
    megabytes = float(value)
    if not 0 < megabytes <= 100:
        raise ValueError("must be more than 0 and at most 100")
    return int(megabytes * 1024 * 1024)


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown time zone") from exc
    return value


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true or false")


def _quiet_hours(value: str) -> str:
    value = value.strip()
    if value.lower() in {"", "none", "off"}:
        return ""
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]", value):
        raise ValueError("expected HH:MM-HH:MM (e.g. 21:00-08:00) or none")
    return value


def _pairs(value: str) -> tuple[tuple[str, str], ...]:
    """`key=value` items separated by commas or spaces, e.g. `acknowledgement=SMS_1,*=SMS_0`."""
    pairs = []
    for item in re.split(r"[,\s]+", value.strip()):
        if not item:
            continue
        key, sep, mapped = item.partition("=")
        if not sep or not key or not mapped:
            raise ValueError(f"{item!r} is not key=value")
        pairs.append((key, mapped))
    return tuple(pairs)


ROBOT_KINDS = ("wecom", "wecom-text", "dingtalk", "dingtalk-text")


def _robots(value: str) -> tuple[tuple[str, str, str], ...]:
    """`key=kind:url` items (see `_pairs`): a WeCom or DingTalk group robot's webhook address per queue,
    department or floor, e.g. `security=dingtalk:https://oapi.dingtalk.com/robot/send?access_token=…`."""
    robots = []
    for key, mapped in _pairs(value):
        kind, _, url = mapped.partition(":")
        if kind not in ROBOT_KINDS or not url.startswith(("https://", "http://")):
            raise ValueError(
                f"{key}: expected {' or '.join(ROBOT_KINDS)}, a colon and the robot's https:// address"
            )
        robots.append((key, kind, url))
    return tuple(robots)


@dataclass(frozen=True)
class Policy:
    """The mall's complaint policy (PROCESS.md "Timers and policy"); passed to workflows as data."""

    merchant_call_within: timedelta = timedelta(hours=24)
    first_reply_after: timedelta = timedelta(days=3)
    handler_acts_within: timedelta = timedelta(hours=24)
    max_postponements: int = 2
    callback_from: timedelta = timedelta(hours=24)
    callback_until: timedelta = timedelta(hours=48)
    callback_attempts: int = 3
    callback_retry_after: timedelta = timedelta(hours=2)
    major_unresolved_after: timedelta = timedelta(days=30)
    major_amount: Decimal = Decimal("5000")
    major_people_count: int = 10
    retention: timedelta = timedelta(days=730)
    capa_recurrences: int = 3
    capa_window: timedelta = timedelta(days=30)
    reply_reminder_before: timedelta = timedelta(hours=24)

    def as_workflow_data(self) -> dict[str, Any]:
        """Plain JSON values (durations in seconds) for workflow data and events."""
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, timedelta):
                data[f"{item.name}_seconds"] = int(value.total_seconds())
            elif isinstance(value, Decimal):
                data[item.name] = str(value)
            else:
                data[item.name] = value
        return data


@dataclass(frozen=True)
class NotifySettings:
    """How the notify service delivers: mail and SMS servers, webhooks, retries, limits, templates."""

    smtp_starttls: bool = False
    smtp_from: str = "complaints@localhost"
    smtp_timeout: float = 30.0
    sms_url: str | None = None
    sms_key: str | None = None
    sms_templates: tuple[tuple[str, str], ...] = ()
    webhooks: tuple[tuple[str, str], ...] = ()
    webhook_secret: str | None = None
    quiet_hours: str = "21:00-08:00"
    recipient_limit: int = 5
    recipient_window: timedelta = timedelta(hours=1)
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(hours=1)
    max_attempts: int = 8
    workers: int = 2
    templates_dir: str | None = None
    hold_for: timedelta = timedelta(hours=24)
    robots: tuple[tuple[str, str, str], ...] = ()  # (key, kind, url): WeCom / DingTalk group robots
    robot_secrets: tuple[tuple[str, str], ...] = ()  # (key, secret): DingTalk robots' signing secrets
    robot_timeout: float = 10.0
    # The mall's floors and departments with their names (intake's seed file); None: the demo mall's.
    reference_file: str | None = None


def _tls(value: str) -> str:
    value = value.strip().lower()
    if value not in {"ssl", "starttls", "none"}:
        raise ValueError("expected ssl, starttls or none")
    return value


@dataclass(frozen=True)
class MailboxSettings:
    """The mall's complaint mailbox, read over IMAP by intake's mail worker (off while host is unset)."""

    host: str | None = None
    port: int | None = None  # 993 with ssl, 143 otherwise
    user: str | None = None
    secret: str | None = None
    folder: str = "INBOX"
    tls: str = "ssl"
    poll_seconds: float = 60.0  # between looks when the server offers no IDLE
    idle_seconds: float = 300.0  # longest IDLE before looking again anyway
    retry_max_seconds: float = 300.0  # the longest wait between attempts while the mailbox is away

    @property
    def name(self) -> str:
        """The mailbox as its messages are deduplicated: user@host/folder."""
        return f"{self.user}@{self.host}/{self.folder}"


@dataclass(frozen=True)
class Settings:
    """The typed settings of one process."""

    database_url: str | None = None
    amqp_url: str | None = None
    smtp_url: str | None = None
    auth_secret: str | None = None
    token_ttl: timedelta = timedelta(hours=12)
    # How long a process keeps what it read of a token's holder (active, token version): a
    # deactivation, a changed role or scope or a revoked token is refused everywhere within this.
    token_check: timedelta = timedelta(seconds=5)
    mall_id: str = "demo"
    mall_time_zone: str = "Asia/Shanghai"
    complaint_process: str = (
        "complaint"  # the process (its BPMN id) whose active version starts complaint cases
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    data_dir: str = ".data"
    db_pool_min: int = 1
    db_pool_max: int = 10
    # How long a request or worker waits for a pooled connection before answering 503 (or putting
    # its message back): long enough for a busy pool, short enough that a desk clerk's form does not
    # hang for half a minute while the database is down (psycopg_pool's own default is 30 s).
    db_pool_timeout: float = 10.0
    public_rate_limit: str = "10 per minute;100 per day"
    # The customers' status page, per client address (misses slow it down further: intake/adapters/misses.py).
    status_rate_limit: str = "20 per minute;200 per day"
    rate_limit_storage_url: str = "memory://"
    trusted_proxies: int = 0
    consumer_max_retries: int = 5
    # Deliveries a consumer applies in one transaction, of those already in hand (1: each alone).
    consumer_batch_size: int = 50
    # While events are flowing, how long a consumer waits after the delivery that woke it for more
    # to join its batch: a few milliseconds later for each, one transaction (its inbox, its locks,
    # its commit) for several where they come close together. After a quiet second: no wait.
    consumer_linger_ms: int = 50
    relay_batch_size: int = 100
    # While events are flowing, how long an outbox relay woken by a commit waits for the commits
    # close behind it, so that one round (its statement, its commit, its confirms) publishes them all.
    relay_linger_ms: int = 20
    log_level: str = "INFO"
    log_json: bool = True
    migrate_on_start: bool = True
    login_max_failures: int = 5
    login_lockout: timedelta = timedelta(minutes=15)
    login_rate_limit: str = "10 per minute;100 per hour"
    # A token got by logging in to the API (POST /console/api/token): a script's, for an hour or so.
    login_token_ttl: timedelta = timedelta(hours=1)
    session_lifetime: timedelta = timedelta(hours=12)
    session_idle: timedelta = timedelta(hours=1)
    secure_cookies: bool = True
    services_url: str | None = None
    retention_interval: timedelta = timedelta(hours=24)
    routing_step_processes: int = 2
    policy: Policy = field(default_factory=Policy)
    metrics_port: int | None = None
    prometheus_multiproc_dir: str | None = None
    shutdown_grace_seconds: float = 20.0
    mall_name: str = "星河广场购物中心"
    mall_name_en: str = "Galaxy Plaza Shopping Centre"
    # The service desk's phone number, printed on the receipt (and said in the status page's answers).
    desk_phone: str = "021-6888 1234"
    # Where customers reach the status page (the gateway's address of /intake/status), for the links in
    # receipts and acknowledgements; a path on this site when not set.
    public_url: str | None = None
    notify: NotifySettings = field(default_factory=NotifySettings)
    mailbox: MailboxSettings = field(default_factory=MailboxSettings)
    # Attachments: an S3-compatible object store (MinIO), or a folder under data_dir when no URL is set.
    object_store_url: str | None = None
    object_store_bucket: str = "mall-attachments"
    object_store_access_key: str | None = None
    object_store_secret_key: str | None = None
    object_store_region: str = "us-east-1"
    attachment_max_bytes: int = 10 * 1024 * 1024

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.mall_time_zone)


# (attribute, environment variable, coercer); defaults come from the dataclasses above.
SETTINGS_TABLE: list[tuple[str, str, Callable[[str], Any]]] = [
    ("database_url", "DATABASE_URL", str),
    ("amqp_url", "AMQP_URL", str),
    ("smtp_url", "SMTP_URL", str),
    ("auth_secret", "AUTH_SECRET", str),
    ("token_ttl", "TOKEN_TTL_HOURS", _hours),
    ("token_check", "TOKEN_CHECK_SECONDS", _zero_or_more_seconds),
    ("mall_id", "MALL_ID", str),
    ("mall_time_zone", "MALL_TIME_ZONE", _zone),
    ("complaint_process", "COMPLAINT_PROCESS", str),
    ("http_host", "HTTP_HOST", str),
    ("http_port", "HTTP_PORT", _positive_int),
    ("data_dir", "DATA_DIR", str),
    ("db_pool_min", "DB_POOL_MIN", _positive_int),
    ("db_pool_max", "DB_POOL_MAX", _positive_int),
    ("db_pool_timeout", "DB_POOL_TIMEOUT_SECONDS", _more_than_zero_seconds),
    ("public_rate_limit", "PUBLIC_RATE_LIMIT", str),
    ("status_rate_limit", "STATUS_RATE_LIMIT", str),
    ("rate_limit_storage_url", "RATE_LIMIT_STORAGE_URL", str),
    ("trusted_proxies", "TRUSTED_PROXIES", _positive_int),
    ("consumer_max_retries", "CONSUMER_MAX_RETRIES", _positive_int),
    ("consumer_batch_size", "CONSUMER_BATCH_SIZE", _positive_int),
    ("consumer_linger_ms", "CONSUMER_LINGER_MS", _positive_int),
    ("relay_batch_size", "RELAY_BATCH_SIZE", _positive_int),
    ("relay_linger_ms", "RELAY_LINGER_MS", _positive_int),
    ("log_level", "LOG_LEVEL", str.upper),
    ("log_json", "LOG_JSON", _bool),
    ("migrate_on_start", "MIGRATE_ON_START", _bool),
    ("login_max_failures", "LOGIN_MAX_FAILURES", _positive_int),
    ("login_lockout", "LOGIN_LOCKOUT_MINUTES", _minutes),
    ("login_rate_limit", "LOGIN_RATE_LIMIT", str),
    ("login_token_ttl", "LOGIN_TOKEN_MINUTES", _minutes),
    ("session_lifetime", "SESSION_HOURS", _hours),
    ("session_idle", "SESSION_IDLE_MINUTES", _minutes),
    ("secure_cookies", "SECURE_COOKIES", _bool),
    ("services_url", "SERVICES_URL", str),
    ("metrics_port", "METRICS_PORT", _positive_int),
    ("prometheus_multiproc_dir", "PROMETHEUS_MULTIPROC_DIR", str),
    ("shutdown_grace_seconds", "SHUTDOWN_GRACE_SECONDS", _seconds_number),
    ("mall_name", "MALL_NAME", str),
    ("mall_name_en", "MALL_NAME_EN", str),
    ("desk_phone", "DESK_PHONE", str),
    ("public_url", "PUBLIC_URL", str),
    ("retention_interval", "RETENTION_INTERVAL_HOURS", _hours),
    ("routing_step_processes", "ROUTING_STEP_PROCESSES", _positive_int),
    ("object_store_url", "OBJECT_STORE_URL", str),
    ("object_store_bucket", "OBJECT_STORE_BUCKET", str),
    ("object_store_access_key", "OBJECT_STORE_ACCESS_KEY", str),
    ("object_store_secret_key", "OBJECT_STORE_SECRET_KEY", str),
    ("object_store_region", "OBJECT_STORE_REGION", str),
    ("attachment_max_bytes", "ATTACHMENT_MAX_MB", _megabytes),
]

POLICY_TABLE: list[tuple[str, str, Callable[[str], Any]]] = [
    ("merchant_call_within", "POLICY_MERCHANT_CALL_HOURS", _hours),
    ("first_reply_after", "POLICY_FIRST_REPLY_DAYS", _days),
    ("handler_acts_within", "POLICY_HANDLER_ACTS_HOURS", _hours),
    ("max_postponements", "POLICY_MAX_POSTPONEMENTS", _positive_int),
    ("callback_from", "POLICY_CALLBACK_FROM_HOURS", _hours),
    ("callback_until", "POLICY_CALLBACK_UNTIL_HOURS", _hours),
    ("callback_attempts", "POLICY_CALLBACK_ATTEMPTS", _positive_int),
    ("callback_retry_after", "POLICY_CALLBACK_RETRY_HOURS", _hours),
    ("major_unresolved_after", "POLICY_MAJOR_UNRESOLVED_DAYS", _days),
    ("major_amount", "POLICY_MAJOR_AMOUNT", _decimal),
    ("major_people_count", "POLICY_MAJOR_PEOPLE_COUNT", _positive_int),
    ("retention", "POLICY_RETENTION_DAYS", _days),
    ("capa_recurrences", "POLICY_CAPA_RECURRENCES", _positive_int),
    ("capa_window", "POLICY_CAPA_WINDOW_DAYS", _days),
    ("reply_reminder_before", "POLICY_REPLY_REMINDER_HOURS", _hours),
]


def _seconds(value: str) -> timedelta:
    return timedelta(seconds=float(value))


def _at_least_one(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError("must be at least 1")
    return number


NOTIFY_TABLE: list[tuple[str, str, Callable[[str], Any]]] = [
    ("smtp_starttls", "SMTP_STARTTLS", _bool),
    ("smtp_from", "SMTP_FROM", str),
    ("smtp_timeout", "SMTP_TIMEOUT_SECONDS", float),
    ("sms_url", "NOTIFY_SMS_URL", str),
    ("sms_key", "NOTIFY_SMS_KEY", str),
    ("sms_templates", "NOTIFY_SMS_TEMPLATES", _pairs),
    ("webhooks", "NOTIFY_WEBHOOKS", _pairs),
    ("webhook_secret", "NOTIFY_WEBHOOK_SECRET", str),
    ("quiet_hours", "NOTIFY_QUIET_HOURS", _quiet_hours),
    ("recipient_limit", "NOTIFY_RECIPIENT_LIMIT", _positive_int),
    ("recipient_window", "NOTIFY_RECIPIENT_WINDOW_MINUTES", _minutes),
    ("retry_base", "NOTIFY_RETRY_BASE_SECONDS", _seconds),
    ("retry_max", "NOTIFY_RETRY_MAX_SECONDS", _seconds),
    ("max_attempts", "NOTIFY_MAX_ATTEMPTS", _at_least_one),
    ("workers", "NOTIFY_WORKERS", _at_least_one),
    ("templates_dir", "NOTIFY_TEMPLATES_DIR", str),
    ("hold_for", "NOTIFY_HOLD_HOURS", _hours),
    ("robots", "NOTIFY_ROBOTS", _robots),
    ("robot_secrets", "NOTIFY_ROBOT_SECRETS", _pairs),
    ("robot_timeout", "NOTIFY_ROBOT_TIMEOUT_SECONDS", _more_than_zero_seconds),
    ("reference_file", "NOTIFY_REFERENCE_FILE", str),
]


MAILBOX_TABLE: list[tuple[str, str, Callable[[str], Any]]] = [
    ("host", "IMAP_HOST", str),
    ("port", "IMAP_PORT", _positive_int),
    ("user", "IMAP_USER", str),
    ("secret", "IMAP_SECRET", str),
    ("folder", "IMAP_FOLDER", str),
    ("tls", "IMAP_TLS", _tls),
    ("poll_seconds", "IMAP_POLL_SECONDS", _more_than_zero_seconds),
    ("idle_seconds", "IMAP_IDLE_SECONDS", _more_than_zero_seconds),
    ("retry_max_seconds", "IMAP_RETRY_MAX_SECONDS", _more_than_zero_seconds),
]


def _read(table, environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for attribute, variable, coerce in table:
        raw = environ.get(variable)
        if raw is None or raw == "":
            continue
        try:
            values[attribute] = coerce(raw)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"{variable}={raw!r} is not valid: {exc}") from exc
    return values


def _check(settings: Settings) -> None:
    policy = settings.policy
    if policy.callback_until < policy.callback_from:
        raise ConfigurationError("POLICY_CALLBACK_UNTIL_HOURS must not be before POLICY_CALLBACK_FROM_HOURS")
    if settings.db_pool_max < max(settings.db_pool_min, 1):
        raise ConfigurationError("DB_POOL_MAX must be at least DB_POOL_MIN and at least 1")
    if settings.login_max_failures < 1:
        raise ConfigurationError("LOGIN_MAX_FAILURES must be at least 1")
    if settings.login_token_ttl <= timedelta(0):
        raise ConfigurationError("LOGIN_TOKEN_MINUTES must be more than zero")
    if settings.auth_secret is not None and len(settings.auth_secret) < 32:
        raise ConfigurationError("AUTH_SECRET must be at least 32 characters")
    if settings.prometheus_multiproc_dir and not os.path.isdir(settings.prometheus_multiproc_dir):
        raise ConfigurationError("PROMETHEUS_MULTIPROC_DIR must name an existing directory")
    if settings.object_store_url and not (
        settings.object_store_access_key and settings.object_store_secret_key
    ):
        raise ConfigurationError(
            "OBJECT_STORE_ACCESS_KEY and OBJECT_STORE_SECRET_KEY are required when OBJECT_STORE_URL is set"
        )
    if settings.notify.webhooks and not settings.notify.webhook_secret:
        raise ConfigurationError("NOTIFY_WEBHOOK_SECRET is required when NOTIFY_WEBHOOKS is set")
    if settings.notify.webhook_secret is not None and len(settings.notify.webhook_secret) < 16:
        raise ConfigurationError("NOTIFY_WEBHOOK_SECRET must be at least 16 characters")
    unknown = {key for key, _ in settings.notify.robot_secrets} - {key for key, *_ in settings.notify.robots}
    if unknown:
        raise ConfigurationError(
            f"NOTIFY_ROBOT_SECRETS names no robot of NOTIFY_ROBOTS: {', '.join(sorted(unknown))}"
        )
    if settings.mailbox.host and not (settings.mailbox.user and settings.mailbox.secret):
        raise ConfigurationError("IMAP_USER and IMAP_SECRET are required when IMAP_HOST is set")


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the settings from the environment; raise ConfigurationError naming a bad variable."""
    environ = os.environ if environ is None else environ
    policy = Policy(**_read(POLICY_TABLE, environ))
    notify = NotifySettings(**_read(NOTIFY_TABLE, environ))
    mailbox = MailboxSettings(**_read(MAILBOX_TABLE, environ))
    values = {
        **_read(SETTINGS_TABLE, environ),
        "policy": policy,
        "notify": notify,
        "mailbox": mailbox,
        **overrides,
    }
    settings = Settings(**values)
    _check(settings)
    return settings
