"""`berth audit verify --all-breaks`: every break, each once, not only the first.

The breaks are made as the database superuser with triggers off
(``session_replication_role = replica``): nobody else can make them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import psycopg
import pytest

from berth import cli
from berth.adapters.audit import audit_chain
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.cause import Cause
from berth.domain.stay import Stay

CAUSE = Cause(principal="auditor-test", channel="web", request_id="r", correlation_id="c")


@pytest.fixture
def stored(db_url: str) -> list[int]:
    """A store of real commands; its positions in order."""
    app = open_reservations(db_url)
    try:
        facility = app.register_facility(name="P1", time_zone="UTC", cause=CAUSE)
        pool = app.add_pool(
            facility_id=facility.id,
            name="long stay",
            capacity=10,
            nightly_price=1450,
            currency="EUR",
            cause=CAUSE,
        )
        arrival = datetime.now(UTC).date() + timedelta(days=30)
        for night in range(3):
            stay = Stay(arrival + timedelta(days=night), arrival + timedelta(days=night + 2))
            held = app.hold(
                pool_id=pool.id, stay=stay, quantity=1, guest={"name": "Ann Lee"}, cause=CAUSE
            )
            app.confirm(booking_id=held.id, cause=CAUSE)
    finally:
        app.close()
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT notification_id FROM berth_events ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def tamper(url: str, *statements: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement.encode())


def two_breaks(url: str, stored: list[int]) -> tuple[int, int]:
    altered, deleted = stored[3], stored[-4]
    tamper(
        url,
        "UPDATE berth_events SET state = state || '\\x20'::bytea"
        f" WHERE notification_id = {altered}",
        f"DELETE FROM berth_events WHERE notification_id = {deleted}",
    )
    return altered, deleted


def test_all_breaks_reports_each_of_two_separate_breaks_once(db_url: str, stored: list[int]):
    altered, deleted = two_breaks(db_url, stored)

    report = audit_chain.verify(db_url, all_breaks=True)

    assert [(b.position, b.kind) for b in report.breaks] == [
        (altered, "altered"),
        (deleted, "missing"),
    ]
    assert report.broken == report.breaks[0]
    # Every event but the altered one still holds against the stored link before it.
    assert report.verified == len(stored) - 2
    # How far the chain holds from the start: up to the event before the first break.
    assert report.last_position == stored[stored.index(altered) - 1]
    assert report.as_dict()["breaks"][1]["kind"] == "missing"


def test_without_all_breaks_verify_still_stops_at_the_first(db_url: str, stored: list[int]):
    altered, _ = two_breaks(db_url, stored)

    report = audit_chain.verify(db_url)

    assert [(b.position, b.kind) for b in report.breaks] == [(altered, "altered")]
    assert report.verified == stored.index(altered)


def test_all_breaks_also_reports_an_event_written_around_the_chain(db_url: str, stored: list[int]):
    altered, deleted = two_breaks(db_url, stored)
    tamper(
        db_url,
        "INSERT INTO berth_events (originator_id, originator_version, topic, state)"
        f" VALUES ('{uuid4()}', 1, 'forged', '\\x7b7d')",
    )
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT max(notification_id) FROM berth_events").fetchone()
    assert row is not None

    report = audit_chain.verify(db_url, all_breaks=True)

    assert [(b.position, b.kind) for b in report.breaks] == [
        (altered, "altered"),
        (deleted, "missing"),
        (row[0], "unchained"),
    ]


def test_all_breaks_on_an_intact_chain_reports_none(db_url: str, stored: list[int]):
    report = audit_chain.verify(db_url, all_breaks=True)

    assert report.ok
    assert report.breaks == ()
    assert report.verified == len(stored)


def test_the_command_lists_every_break_and_exits_non_zero(
    db_url: str,
    stored: list[int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    altered, deleted = two_breaks(db_url, stored)

    with pytest.raises(SystemExit) as exited:
        cli.main(["audit", "verify", "--all-breaks"])

    reason = str(exited.value.code)
    assert reason == f"berth: chain broken at 2 places: {altered} (altered), {deleted} (missing)"
    output = json.loads(capsys.readouterr().out)
    assert [(b["position"], b["kind"]) for b in output["breaks"]] == [
        (altered, "altered"),
        (deleted, "missing"),
    ]
