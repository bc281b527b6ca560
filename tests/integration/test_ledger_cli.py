"""`berth close-day FACILITY_ID DATE`: the night audit from a shell."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from berth import cli
from berth.adapters.postgres.eventstore import open_reservations
from projection_support import cause


def test_close_day_closes_once_then_exits_1_with_a_one_line_reason(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    registered = datetime.now(UTC) - timedelta(days=3)
    app = open_reservations(db_url, clock=lambda: registered)
    facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
    app.close()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()

    cli.main(["close-day", str(facility), yesterday])
    closed = json.loads(capsys.readouterr().out)
    assert (closed["facility_id"], closed["date"]) == (str(facility), yesterday)
    assert closed["position"] > 0

    with pytest.raises(SystemExit) as refused:
        cli.main(["close-day", str(facility), yesterday])
    assert refused.value.code == 1
    assert capsys.readouterr().err == f"berth: {yesterday} is already closed at this facility\n"


def test_close_day_refuses_today_and_a_day_out_of_order_with_a_one_line_reason(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    registered = datetime.now(UTC) - timedelta(days=5)
    app = open_reservations(db_url, clock=lambda: registered)
    facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
    app.close()
    today = datetime.now(UTC).date()
    cli.main(["close-day", str(facility), (today - timedelta(days=3)).isoformat()])
    capsys.readouterr()

    for day, reason in [
        (today, f"{today} is not over: today is {today} at the facility"),
        (
            today - timedelta(days=1),
            f"the day before {today - timedelta(days=1)} is not closed yet",
        ),
    ]:
        with pytest.raises(SystemExit) as refused:
            cli.main(["close-day", str(facility), day.isoformat()])
        assert refused.value.code == 1
        assert capsys.readouterr().err == f"berth: {reason}\n"
