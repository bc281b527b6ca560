"""Fixtures for the Kafka relay tests: a broker per test and the command application."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from kafka_broker import KafkaBroker


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    server = KafkaBroker(tmp_path / "broker.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    application = open_reservations(db_url)
    yield application
    application.close()
