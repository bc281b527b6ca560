"""Rebuilding a projection aside while it serves, swapping it in, checking it against the live."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg
import pytest

from berth import cli
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.read_models.tables import TABLES
from berth.domain.application import Reservations
from berth.domain.stay import Stay
from berth.workers import PROJECTIONS, rebuild
from berth.workers.projection_runner import ProjectionRunner
from projection_support import Clock, catch_up, cause, head, position, read_models
from projection_support import rebuild as rebuild_from_scratch

ARRIVAL = date(2030, 6, 2)
NAMES = sorted(PROJECTIONS)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2030, 6, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def app(db_url: str, clock: Clock) -> Iterator[Reservations]:
    application = open_reservations(db_url, clock=clock)
    yield application
    application.close()


class Site:
    """A facility with a pool and two gates, and a way to add one more paid booking."""

    def __init__(self, app: Reservations) -> None:
        self.app = app
        self.facility = app.register_facility(name="Harbour", time_zone="UTC", cause=cause()).id
        self.pool = app.add_pool(
            facility_id=self.facility, name="Long stay", capacity=1000, nightly_price=1500,
            currency="GBP", cause=cause(),
        ).id  # fmt: skip
        app.set_tax_rate(pool_id=self.pool, rate_bp=2000, cause=cause())
        app.set_overstay_tariff(pool_id=self.pool, hourly=300, cause=cause())
        self.gates = {
            way: app.add_gate(facility_id=self.facility, name=way, direction=way, cause=cause()).id
            for way in ("entry", "exit")
        }
        self.reads = 0

    def booking(self, n: int, *, arrival: date = ARRIVAL, nights: int = 2) -> UUID:
        stay = Stay(arrival, arrival + timedelta(days=nights))
        booking_id = self.app.hold(
            pool_id=self.pool, stay=stay, quantity=1, guest={"name": f"guest {n}"},
            plates=[f"AB{n:04d}"], cause=cause(),
        ).id  # fmt: skip
        self.app.confirm(booking_id=booking_id, cause=cause())
        total = self.app.booking(booking_id).total
        self.app.record_payment(
            booking_id=booking_id, amount=total, currency="GBP", method="card", cause=cause()
        )
        return booking_id

    def read(self, way: str, plate: str, at: datetime, booking_ids: tuple[UUID, ...] = ()) -> str:
        self.reads += 1
        read_id = f"read-{self.reads}"
        self.app.record_plate_read(
            read_id=read_id, camera_id="cam", gate_id=self.gates[way], plate=plate,
            confidence=0.9, captured_at=at, booking_ids=booking_ids, cause=cause(),
        )  # fmt: skip
        return read_id


def history(app: Reservations, clock: Clock) -> Site:
    """Something for every projection: bookings, changes, gate passages, overstays, closed days."""
    site = Site(app)
    bookings = [site.booking(n) for n in range(6)]
    app.amend(booking_id=bookings[1], quantity=2, cause=cause())
    app.request_refund(booking_id=bookings[2], amount=500, currency="GBP", refund_id="r",
                       cause=cause())  # fmt: skip
    app.settle_refund(booking_id=bookings[2], refund_id="r", succeeded=True, cause=cause())
    app.cancel(booking_id=bookings[5], cause=cause())
    app.change_capacity(pool_id=site.pool, first_night=ARRIVAL, last_night=ARRIVAL,
                        capacity=900, cause=cause())  # fmt: skip
    clock.now = datetime(2030, 6, 2, 10, 0, tzinfo=UTC)
    for n in range(4):
        site.read("entry", f"AB{n:04d}", clock.now, (bookings[n],))
    stray = site.read("entry", "ZZ999", clock.now)
    app.resolve_read(
        facility_id=site.facility,
        read_id=stray,
        booking_id=bookings[4],
        note="by hand",
        cause=cause(),
    )
    clock.now = datetime(2030, 6, 5, 15, 0, tzinfo=UTC)
    for n in range(2):  # late: an overstay is charged
        site.read("exit", f"AB{n:04d}", clock.now, (bookings[n],))
    for day in range(3):
        app.close_day(facility_id=site.facility, business_date=ARRIVAL + timedelta(days=day),
                      cause=cause())  # fmt: skip
    return site


def more(site: Site, n: int) -> None:
    """One more paid booking for later, and an unmatched gate read: a write for every projection."""
    site.booking(1000 + n, arrival=date(2030, 6, 20))
    site.read("entry", f"XX{n:04d}", site.app.clock())


def index_names(url: str, tables: list[str]) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT schemaname, tablename, indexname FROM pg_indexes WHERE tablename = ANY(%s)"
            " ORDER BY 1, 2, 3",
            (tables,),
        ).fetchall()
    return [tuple(row) for row in rows]


def schemas(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'berth_rebuild%'"
        ).fetchall()
    return [row[0] for row in rows]


def wait_for(url: str, name: str, target: int, timeout: float = 20.0) -> None:
    stop = threading.Event()
    deadline = threading.Timer(timeout, stop.set)
    deadline.start()
    try:
        while position(url, name) < target and not stop.wait(0.02):
            pass
    finally:
        deadline.cancel()
    assert position(url, name) >= target, f"{name} did not reach {target}"


@pytest.mark.parametrize("name", NAMES)
def test_a_rebuild_during_live_writes_swaps_in_what_a_rebuild_from_scratch_gives_and_the_live_runner_carries_on(  # noqa: E501
    db_url: str, app: Reservations, clock: Clock, name: str
) -> None:
    site = history(app, clock)
    tables = list(TABLES[name])
    indexes_before = index_names(db_url, tables)
    stop = threading.Event()
    live = ProjectionRunner(db_url, PROJECTIONS[name], app.mapper, page_size=7, idle_timeout=0.05)
    live_thread = threading.Thread(target=live.run, args=(stop,))
    writes = {"background": 0, "between pages": 0}

    def background() -> None:
        while not stop.is_set() and writes["background"] < 40:
            more(site, writes["background"])
            writes["background"] += 1

    def between_pages(done: int, total: int) -> None:  # a write after each of the first pages
        if writes["between pages"] < 12:
            more(site, 500 + writes["between pages"])
            writes["between pages"] += 1

    writer = threading.Thread(target=background)
    live_thread.start()
    writer.start()
    try:
        rebuilt = rebuild.rebuild(
            db_url, PROJECTIONS[name], app.mapper, page_size=5, progress=between_pages
        )
        writer.join(timeout=60)
        more(site, 999)  # after the swap: the live runner must apply it to the new tables
        wait_for(db_url, name, head(db_url))
        assert live_thread.is_alive(), "the live runner stopped"
    finally:
        stop.set()
        writer.join(timeout=60)
        live_thread.join(timeout=10)

    assert writes["between pages"] > 3 and writes["background"] > 0
    assert 0 < rebuilt.position < head(db_url)
    assert schemas(db_url) == []
    assert index_names(db_url, tables) == indexes_before
    swapped = read_models(db_url, name)
    assert swapped == rebuild_from_scratch(db_url, app, name)
    assert sum(map(len, swapped.values())) > 0
    checked = rebuild.check(db_url, PROJECTIONS[name], app.mapper, page_size=50)
    assert checked.same, checked.summary()
    assert checked.position == head(db_url)


TAMPER = {
    "availability": "DELETE FROM availability_allocations WHERE ctid IN"
    " (SELECT ctid FROM availability_allocations LIMIT 1)",
    "bookings": "UPDATE bookings SET paid = paid + 1 WHERE ctid IN"
    " (SELECT ctid FROM bookings LIMIT 1)",
    "ledger": "UPDATE ledger_journal SET amount = -amount WHERE ctid IN"
    " (SELECT ctid FROM ledger_journal LIMIT 1)",
    "occupancy": "DELETE FROM occupancy_reads WHERE ctid IN (SELECT ctid FROM occupancy_reads"
    " LIMIT 1)",
}


@pytest.mark.parametrize("name", NAMES)
def test_check_exits_1_naming_the_table_and_row_when_a_live_row_was_tampered_with(
    db_url: str,
    app: Reservations,
    clock: Clock,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    history(app, clock)
    catch_up(db_url, app, name)
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    cli.main(["rebuild", name, "--check"])
    assert json.loads(capsys.readouterr().out)[0]["same"] is True

    with psycopg.connect(db_url) as conn:  # the tests connect as a superuser
        assert conn.execute(TAMPER[name].encode()).rowcount == 1
    with pytest.raises(SystemExit) as exited:
        cli.main(["rebuild", name, "--check"])

    out, err = capsys.readouterr()
    report = json.loads(out)[0]
    reason = err.splitlines()[-1]  # after the progress bar
    assert exited.value.code == 1
    assert reason.startswith(f"berth: {name} differs from a rebuild at position {head(db_url)}: ")
    [difference] = report["differences"]
    assert reason.endswith(f": {difference['table']}: 1 changed") or reason.endswith(
        f": {difference['table']}: 1 only rebuilt"
    )
    assert difference["changed"] + difference["only_rebuilt"] == 1
    assert difference["only_live"] == 0
    assert len(difference["samples"]["rebuilt"]) == 1
    assert schemas(db_url) == []


@pytest.mark.parametrize("name", NAMES)
def test_a_second_rebuild_of_the_same_projection_is_refused_while_the_first_runs(
    db_url: str,
    app: Reservations,
    clock: Clock,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    history(app, clock)
    started, release = threading.Event(), threading.Event()
    outcome: list[Any] = []

    def paused(done: int, total: int) -> None:
        started.set()
        release.wait(30)

    first = threading.Thread(
        target=lambda: outcome.append(
            rebuild.rebuild(db_url, PROJECTIONS[name], app.mapper, page_size=5, progress=paused)
        )
    )
    first.start()
    try:
        assert started.wait(30)
        with pytest.raises(rebuild.RebuildRunning):
            rebuild.check(db_url, PROJECTIONS[name], app.mapper)
        monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
        with pytest.raises(SystemExit) as refused:
            cli.main(["rebuild", name])
        assert refused.value.code == cli.REBUILD_FAILED
        last_line = capsys.readouterr().err.strip().splitlines()[-1]
        assert (
            last_line == f"berth: rebuilding {name} failed: a rebuild of {name} is already running"
        )
    finally:
        release.set()
        first.join(timeout=60)
    assert outcome and outcome[0].position == head(db_url)  # the first one finished
    other = next(n for n in NAMES if n != name)
    assert rebuild.rebuild(db_url, PROJECTIONS[other], app.mapper).position == head(db_url)
