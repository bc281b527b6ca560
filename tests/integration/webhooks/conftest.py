"""Fixtures of the webhook tests: the command application and a receiver per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from webhook_receiver import Receiver


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    application = open_reservations(db_url)
    yield application
    application.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.hold.set()
    server.stop()
