"""Every ``BERTH_*`` setting, in one place: read from the environment, validated, masked.

`Config` holds one field per variable: the field ``read_pool_size`` is
``BERTH_READ_POOL_SIZE``. Its type (``str``, ``int``, ``float``, ``bool``,
``Path``, or one of these ``| None``) says how the text is read, and
`setting` gives its default, its bounds and its one-line description (the
README table and `berth config` both come from these). Adding a setting is one
field here; its callers read ``config.load().the_field``.

`load` reads the environment afresh each call (a few dozen lookups), so a test
that sets a variable sees it at once. Every bad value is reported together,
each naming its variable and what it accepts, before anything starts.

Why a stdlib dataclass and not pydantic-settings or environs: the whole job is
parsing two dozen scalars with bounds, which is forty lines here; either library
would add a dependency (and pydantic a compiled one) to every install for it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PREFIX = "BERTH_"
MASK = "****"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
# The longest a camera's previous secret may stay valid: the setting's bound and a re-key's.
MAX_CAMERA_GRACE_SECONDS = 30 * 24 * 3600


class ConfigError(ValueError):
    """One or more settings are invalid; the message names each variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings: " + "; ".join(problems))


def setting(
    default: Any,
    description: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[str, ...] = (),
    secret: bool = False,
) -> Any:
    """A `Config` field: its default, description, bounds and whether it is a secret."""
    meta = {
        "description": description,
        "minimum": minimum,
        "maximum": maximum,
        "choices": choices,
        "secret": secret,
    }
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
    # -- database
    database_url: str = setting(
        "",
        "PostgreSQL URL of the application role; unset: the embedded server"
        " (only under `berth up` or `--embedded`)",
        secret=True,
    )
    migrate_database_url: str = setting(
        "", "PostgreSQL URL of the owner, for `berth migrate` (default: BERTH_DATABASE_URL)",
        secret=True,
    )  # fmt: skip
    embedded: bool = setting(False, "use the embedded PostgreSQL (set by `berth up`, `--embedded`)")
    # (A Path is immutable: RUF009 only knows str, int, float and bool to be.)
    data_dir: Path = setting(Path("var"), "the embedded PostgreSQL's data (pgdata/)")  # noqa: RUF009
    migrations_dir: Path | None = setting(None, "SQL files (default: the package's)")  # noqa: RUF009
    db_connect_timeout: int = setting(3, "seconds for each new connection (libpq)", minimum=2)
    db_pool_timeout: int = setting(3, "seconds a request waits for a pooled connection", minimum=1)
    db_statement_timeout: float = setting(
        15.0, "seconds each statement of a request may run (server side)", minimum=0.001
    )
    read_pool_size: int = setting(8, "connections in each API process's read pool", minimum=1)
    group_commit: bool = setting(
        False, "concurrent commands of a process share one transaction and COMMIT"
    )
    group_commit_batches: int = setting(
        1, "with group commit: batches a process runs at once", minimum=1, maximum=16
    )
    # -- HTTP
    host: str = setting("127.0.0.1", "the address the API listens on (the Procfile's web line)")
    port: int = setting(8000, "the API's port (the Procfile's web line)", minimum=1, maximum=65535)
    max_body_bytes: int = setting(64 * 1024, "largest request body accepted", minimum=1)
    consistency_timeout: float = setting(
        5.0, "seconds a query waits for its projection to reach min_position", minimum=0
    )
    key_cache_seconds: float = setting(10.0, "seconds a verified API key is trusted", minimum=0)
    signature_tolerance_seconds: int = setting(
        300, "largest skew of a camera signature's timestamp, seconds", minimum=1
    )
    camera_secret_grace_seconds: int = setting(
        24 * 3600,
        "seconds a camera's previous secret stays valid after a re-key (a re-key may ask for less)",
        minimum=0,
        maximum=MAX_CAMERA_GRACE_SECONDS,
    )
    # -- projections
    projection_page_size: int = setting(5000, "events a projection reads per page", minimum=1)
    projection_retry_seconds: float = setting(
        1.0, "first wait before a failed event is retried (doubling)", minimum=0.001
    )
    projection_max_lag_seconds: float = setting(
        300.0,
        "/health/projections is red (and /health degraded) once a projection lags this much",
        minimum=0.001,
    )
    # -- Kafka
    kafka_bootstrap: str = setting("", "comma-separated brokers; unset: no Kafka (workers idle)")
    kafka_topic_prefix: str = setting("berth.", "prefix of the event topics")
    kafka_request_timeout_ms: int = setting(10_000, "producer request timeout", minimum=1)
    kafka_delivery_timeout_ms: int | None = setting(
        None, "producer delivery timeout (default: the larger of 60000 and 2 x request)", minimum=1
    )
    kafka_relay_page_size: int = setting(2000, "events the relay publishes per batch", minimum=1)
    kafka_gate_reads_topic: str = setting("berth.gate-reads", "topic of plate reads to consume")
    # -- partner mail (README "Partner mail")
    smtp_host: str = setting(
        "127.0.0.1", "the address the SMTP inlet (`berth worker mail-smtp`) listens on"
    )
    smtp_port: int = setting(2525, "the SMTP inlet's port", minimum=1, maximum=65535)
    smtp_domain: str = setting("bookings.invalid", "the domain the SMTP inlet accepts mail for")
    smtp_relay: str = setting(
        "127.0.0.1:25", "host:port of the SMTP server replies are sent through"
    )
    mail_from: str = setting("", "the replies' sender (default: bookings@BERTH_SMTP_DOMAIN)")
    mail_max_bytes: int = setting(
        1024 * 1024, "largest partner mail accepted", minimum=1, maximum=64 * 1024 * 1024
    )
    mail_poll_seconds: float = setting(
        30.0, "seconds between looks for unprocessed mail and replies to send", minimum=0.001
    )
    mail_processors: int = setting(
        2, "threads each mail worker processes mail with", minimum=1, maximum=16
    )
    imap_host: str = setting("127.0.0.1", "the IMAP server `berth worker mail-imap` reads")
    imap_port: int | None = setting(
        None, "the IMAP server's port (default: 993 with SSL, else 143)", minimum=1, maximum=65535
    )
    imap_ssl: bool = setting(True, "connect to the IMAP server over SSL")
    imap_user: str = setting("", "the IMAP login; unset: the IMAP worker idles")
    imap_password: str = setting("", "the IMAP password", secret=True)
    imap_mailbox: str = setting("INBOX", "the IMAP mailbox read")
    # -- webhooks (README "Webhooks")
    webhooks_timeout_seconds: float = setting(
        10.0, "seconds for each of a webhook's connect, send and answer", minimum=0.001
    )
    webhooks_concurrency: int = setting(
        4, "webhook requests in flight per subscription", minimum=1, maximum=64
    )
    webhooks_first_retry_seconds: float = setting(
        5.0, "first wait before a failed webhook is sent again (doubling)", minimum=0.001
    )
    webhooks_max_retry_seconds: float = setting(
        3600.0, "longest wait between a webhook's attempts", minimum=0.001
    )
    webhooks_retry_for_seconds: float = setting(
        3 * 24 * 3600.0, "seconds a subscription may fail before it is disabled", minimum=0.001
    )
    webhooks_page_size: int = setting(
        1000, "events the webhook planner reads per page", minimum=1, maximum=100_000
    )
    webhooks_keep_seconds: float = setting(
        30 * 24 * 3600.0, "seconds delivered and failed webhooks stay in the log", minimum=0.001
    )
    webhooks_allow_private: bool = setting(
        False, "webhook URLs may name private and loopback addresses (tests, own network)"
    )
    # -- staff screen (README "The staff screen")
    screen_secure_cookies: bool = setting(
        False, "mark the screen's cookies Secure on plain HTTP too (behind a TLS proxy)"
    )
    screen_session_hours: float = setting(
        12.0, "hours a staff session lasts", minimum=0.001, maximum=24 * 366
    )
    screen_poll_seconds: float = setting(
        2.0, "seconds between the live panels' looks for news", minimum=0.001
    )
    # -- operations
    log_level: str = setting(
        "INFO", "logging level", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    )
    log_format: str = setting(
        "auto", "log lines: json, text, or auto (text on a terminal, else JSON)",
        choices=("auto", "json", "text"),
    )  # fmt: skip
    process: str = setting("", "the process's name in log lines (`berth up` sets the Procfile's)")
    metrics_port: int = setting(
        0, "a worker's /metrics port (0: none); `berth up` gives each worker the next one",
        minimum=0, maximum=65535,
    )  # fmt: skip

    @classmethod
    def fields(cls) -> Iterator[dataclasses.Field[Any]]:
        yield from dataclasses.fields(cls)

    def masked(self) -> dict[str, Any]:
        """Every setting by variable name, secrets masked, as `berth config` prints them."""
        shown: dict[str, Any] = {}
        for field in self.fields():
            value = getattr(self, field.name)
            if field.metadata["secret"] and value:
                value = mask_url(str(value))
            shown[variable(field.name)] = str(value) if isinstance(value, Path) else value
        return shown


def variable(name: str) -> str:
    """The environment variable of the field ``name``."""
    return PREFIX + name.upper()


def load(environ: Mapping[str, str] | None = None) -> Config:
    """The settings in ``environ`` (default: the process environment), or `ConfigError`."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(Config)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for field in Config.fields():
        name = variable(field.name)
        text = environ.get(name)
        if text is None or (not text.strip() and field.default != ""):
            continue
        try:
            values[field.name] = _parse(text.strip(), hints[field.name], field.metadata)
        except ValueError as error:
            problems.append(f"{name}={text!r}: {error}")
    if problems:
        raise ConfigError(problems)
    return Config(**values)


def _parse(text: str, kind: Any, meta: Mapping[str, Any]) -> Any:
    kinds = typing.get_args(kind) if isinstance(kind, types.UnionType) else (kind,)
    kind = next(k for k in kinds if k is not type(None))
    parser: Callable[[str], Any] = _PARSERS[kind]
    value = parser(text)
    choices = meta["choices"]
    if choices:
        value = value.upper() if choices[0].isupper() else value.lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
    low, high = meta["minimum"], meta["maximum"]
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"expected {_describe(kind)} {_range(low, high)}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _text(text: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("expected text without control characters")
    return text


_PARSERS: dict[Any, Callable[[str], Any]] = {
    int: _integer,
    float: _number,
    bool: _boolean,
    str: _text,
    Path: lambda text: Path(_text(text)),
}


def _describe(kind: Any) -> str:
    return "a whole number" if kind is int else "a number"


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"from {low:g} to {high:g}"
    return f"of at least {low:g}" if low is not None else f"of at most {high:g}"


def mask_url(url: str) -> str:
    """``url`` with its password (URL or ``key=value`` form) replaced by a mask."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
    words = [f"password={MASK}" if word.startswith("password=") else word for word in url.split()]
    return " ".join(words) if "=" in url else MASK


def table() -> str:
    """The README's table of every variable (kept in step by tests/unit/test_config.py)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for field in Config.fields():
        default = field.default
        shown = "" if default in ("", None) else f"`{default}`"
        rows.append(f"| `{variable(field.name)}` | {shown} | {field.metadata['description']} |")
    return "\n".join(rows)
