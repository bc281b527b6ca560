"""`berth facility list|show` and `berth pool list|show` print the catalogue as the API shows it."""

from __future__ import annotations

import json

import pytest

from berth import cli
from berth.adapters.postgres.eventstore import open_reservations
from projection_support import catch_up, cause


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    cli.main(list(argv))
    return json.loads(capsys.readouterr().out)


def test_facilities_and_pools_are_listed_and_shown(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    app = open_reservations(db_url)
    harbour = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
    marina = app.register_facility(name="Marina", time_zone="Europe/Paris", cause=cause()).id
    pools = [
        app.add_pool(
            facility_id=facility, name=name, capacity=3, nightly_price=900, currency="EUR",
            cause=cause(),
        ).id
        for facility, name in ((harbour, "P1"), (harbour, "P2"), (marina, "Berths"))
    ]  # fmt: skip
    taxed = app.set_tax_rate(pool_id=pools[0], rate_bp=900, cause=cause())
    catch_up(db_url, app, "catalogue")
    app.close()

    listed = run(capsys, "facility", "list")
    assert sorted(f["name"] for f in listed) == ["Harbour", "Marina"]  # type: ignore[index]
    shown = run(capsys, "facility", "show", str(harbour))
    assert shown in listed  # type: ignore[operator]
    assert shown["currency"] == "EUR"  # type: ignore[index]
    harbour_pools = run(capsys, "pool", "list", "--facility", str(harbour))
    assert sorted(p["name"] for p in harbour_pools) == ["P1", "P2"]  # type: ignore[index]
    assert len(run(capsys, "pool", "list")) == 3  # type: ignore[arg-type]
    pool = run(capsys, "pool", "show", str(pools[0]))
    assert (pool["tax_rate_bp"], pool["version"]) == (900, taxed.version)  # type: ignore[index]

    with pytest.raises(SystemExit) as exited:
        cli.main(["pool", "show", str(harbour)])
    assert exited.value.code == 1
    assert "no pool" in capsys.readouterr().err
