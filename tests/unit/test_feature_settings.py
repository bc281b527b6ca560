"""Partner mail, webhooks and the staff screen read their settings through `berth.config`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from berth import config
from berth.adapters.mail.settings import MailSettings
from berth.adapters.webhooks import addresses
from berth.http.settings import Settings
from berth.web.settings import ScreenSettings
from berth.workers.webhooks import WebhookSettings

Reader = Callable[[Mapping[str, str]], Any]


@pytest.mark.parametrize(
    ("read", "name", "value", "accepts"),
    [
        (MailSettings.from_environ, "BERTH_SMTP_PORT", "lots", "expected a whole number"),
        (MailSettings.from_environ, "BERTH_IMAP_PORT", "70000", "from 1 to 65535"),
        (MailSettings.from_environ, "BERTH_MAIL_PROCESSORS", "0", "from 1 to 16"),
        (MailSettings.from_environ, "BERTH_IMAP_SSL", "maybe", "true/false"),
        (MailSettings.from_environ, "BERTH_SMTP_RELAY", "relay:none", "host:port"),
        (WebhookSettings.from_environ, "BERTH_WEBHOOKS_CONCURRENCY", "0", "from 1 to 64"),
        (WebhookSettings.from_environ, "BERTH_WEBHOOKS_TIMEOUT_SECONDS", "0", "of at least"),
        (addresses.allow_private, "BERTH_WEBHOOKS_ALLOW_PRIVATE", "perhaps", "true/false"),
        (ScreenSettings.from_environ, "BERTH_SCREEN_POLL_SECONDS", "soon", "a number"),
        (ScreenSettings.from_environ, "BERTH_CONSISTENCY_TIMEOUT", "-1", "of at least 0"),
    ],
)
def test_a_bad_value_is_a_config_error_naming_its_variable(
    read: Reader, name: str, value: str, accepts: str
) -> None:
    with pytest.raises(config.ConfigError) as refused:
        read({name: value})

    assert str(refused.value).startswith(f"invalid settings: {name}={value!r}: ")
    assert accepts in str(refused.value)


def test_the_defaults_are_the_features_own() -> None:
    assert MailSettings.from_environ({}) == MailSettings()
    assert WebhookSettings.from_environ({}) == WebhookSettings()
    assert ScreenSettings.from_environ({}) == ScreenSettings()


def test_the_imap_port_follows_ssl_unless_set() -> None:
    assert MailSettings.from_environ({}).imap_port == 993
    assert MailSettings.from_environ({"BERTH_IMAP_SSL": "0"}).imap_port == 143
    assert (
        MailSettings.from_environ({"BERTH_IMAP_SSL": "0", "BERTH_IMAP_PORT": "1143"}).imap_port
        == 1143
    )


def test_values_reach_the_features() -> None:
    mail = MailSettings.from_environ(
        {"BERTH_SMTP_RELAY": "mx.example.com:587", "BERTH_SMTP_DOMAIN": "Bookings.Example"}
    )
    hooks = WebhookSettings.from_environ(
        {"BERTH_WEBHOOKS_CONCURRENCY": "9", "BERTH_WEBHOOKS_ALLOW_PRIVATE": "yes"}
    )
    screen = ScreenSettings.from_environ({"BERTH_SCREEN_SECURE_COOKIES": "1"})
    api = Settings.from_environ(config.load({"BERTH_WEBHOOKS_ALLOW_PRIVATE": "on"}))

    assert (mail.relay_host, mail.relay_port, mail.domain) == (
        "mx.example.com",
        587,
        "bookings.example",
    )
    assert MailSettings.from_environ({"BERTH_SMTP_RELAY": "mx.example.com"}).relay_port == 25
    assert (hooks.concurrency, hooks.private_ok) == (9, True)
    assert screen.secure_cookies is True
    assert api.webhooks_allow_private is True


def test_the_imap_password_is_masked() -> None:
    shown = config.load({"BERTH_IMAP_PASSWORD": "hunter2"}).masked()

    assert shown["BERTH_IMAP_PASSWORD"] == config.MASK
