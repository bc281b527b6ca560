"""`berth close-day FACILITY_ID DATE`: the night audit from a shell."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from berth import cli
from berth.adapters.eventstore import open_reservations
from projection_support import cause


def test_close_day_closes_once_then_exits_1_with_a_one_line_reason(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    app = open_reservations(db_url)
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
