"""Tamper evidence: the event store's hash chain, its verification, and exports.

Tampering is done as the database superuser with triggers off
(``session_replication_role = replica``), as an attacker with full access would.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic

from berth import cli
from berth.adapters.audit import audit_chain, audit_export, chain_record
from berth.adapters.postgres.eventstore import open_reservations
from berth.adapters.postgres.migrations import Migration, discover, migrate
from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.stay import Stay

CAUSE = Cause(principal="auditor-test", channel="web", request_id="r", correlation_id="c")
ARRIVAL = datetime.now(UTC).date() + timedelta(days=30)


@pytest.fixture
def app(db_url: str) -> Iterator[Reservations]:
    reservations = open_reservations(db_url)
    yield reservations
    reservations.close()


def hold(app: Reservations, pool_id: UUID, arrival: date, guest: str = "Ann Lee") -> UUID:
    stay = Stay(arrival, arrival + timedelta(days=2))
    held = app.hold(pool_id=pool_id, stay=stay, quantity=1, guest={"name": guest}, cause=CAUSE)
    return held.id


def make_pool(app: Reservations) -> UUID:
    facility = app.register_facility(name="P1", time_zone="UTC", cause=CAUSE)
    return app.add_pool(
        facility_id=facility.id,
        name="long stay",
        capacity=10,
        nightly_price=1450,
        currency="EUR",
        cause=CAUSE,
    ).id


@pytest.fixture
def booking(app: Reservations) -> UUID:
    """A small store of real commands; returns the one booking that went through several."""
    pool_id = make_pool(app)
    booking_id = hold(app, pool_id, ARRIVAL)
    app.confirm(booking_id=booking_id, cause=CAUSE)
    other = hold(app, pool_id, ARRIVAL + timedelta(days=1), guest="Bo Chen")
    app.cancel(booking_id=other, cause=CAUSE)
    app.cancel(booking_id=booking_id, cause=CAUSE)
    return booking_id


def tamper(url: str, *statements: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement.encode())


def positions(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT notification_id FROM berth_events ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def broken(url: str, *, anchor: bytes | None = None) -> audit_chain.Break:
    report = audit_chain.verify(url, anchor=anchor)
    assert report.broken is not None, report
    return report.broken


# -- the chain ------------------------------------------------------------------------


def test_a_store_written_by_real_commands_verifies_to_its_anchor(db_url: str, booking: UUID):
    seen: list[tuple[int, int]] = []

    report = audit_chain.verify(db_url, progress=lambda done, total: seen.append((done, total)))
    head = audit_chain.anchor(db_url)

    stored = positions(db_url)
    assert report.ok
    assert report.verified == len(stored) == head.events > 10
    assert (report.last_position, report.last_link) == (stored[-1], head.link)
    assert head.position == stored[-1]
    assert seen[-1] == (len(stored), len(stored))


def test_the_chain_is_sha256_over_the_previous_link_and_the_documented_bytes(
    db_url: str, booking: UUID
):
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT e.originator_id, e.originator_version, e.topic, e.state, e.notification_id,"
            " c.link FROM berth_events e JOIN event_chain c ON c.position = e.notification_id"
            " ORDER BY e.notification_id"
        ).fetchall()
    link = chain_record.GENESIS
    for originator_id, version, topic, state, position, stored in rows:
        record = chain_record.record(originator_id.bytes, version, topic, state, position)
        link = chain_record.link(link, record)
        assert bytes(stored) == link


@pytest.mark.parametrize(
    ("topic", "state"),
    [("a:B", b"{}"), (None, None), ("caf\u00e9:\u00c9v\u00e9nement", b"\x00\xff"), ("", b"")],
)
def test_python_and_sql_encode_an_event_to_the_same_bytes(
    db_url: str, topic: str | None, state: bytes | None
):
    originator_id = uuid4()
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT event_chain_record(%s, %s, %s, %s, %s)",
            (originator_id, 2**40 + 3, topic, state, 2**33 + 7),
        ).fetchone()
    assert row is not None
    assert bytes(row[0]) == chain_record.record(
        originator_id.bytes, 2**40 + 3, topic, state, 2**33 + 7
    )


def test_changing_one_byte_of_one_event_is_caught_at_its_position(db_url: str, booking: UUID):
    target = positions(db_url)[6]
    tamper(
        db_url,
        "UPDATE berth_events SET state = set_byte(state, 10, get_byte(state, 10) # 1)"
        f" WHERE notification_id = {target}",
    )

    report = audit_chain.verify(db_url)

    assert report.broken is not None
    assert (report.broken.position, report.broken.kind) == (target, "altered")
    assert report.verified == 6
    assert report.last_position == positions(db_url)[5]


def test_swapping_the_states_of_two_events_is_caught_at_the_first(db_url: str, booking: UUID):
    first, second = positions(db_url)[3], positions(db_url)[8]
    tamper(
        db_url,
        "UPDATE berth_events e SET state = o.state FROM berth_events o"
        " WHERE (e.notification_id, o.notification_id)"
        f" IN (({first}, {second}), ({second}, {first}))",
    )

    assert (broken(db_url).position, broken(db_url).kind) == (first, "altered")


def test_deleting_one_event_is_caught_at_its_position(db_url: str, booking: UUID):
    target = positions(db_url)[4]
    tamper(db_url, f"DELETE FROM berth_events WHERE notification_id = {target}")

    assert (broken(db_url).position, broken(db_url).kind) == (target, "missing")


def test_deleting_an_event_and_its_link_is_caught_at_the_missing_position(
    db_url: str, booking: UUID
):
    target = positions(db_url)[4]
    tamper(
        db_url,
        f"DELETE FROM berth_events WHERE notification_id = {target}",
        f"DELETE FROM event_chain WHERE position = {target}",
    )

    assert (broken(db_url).position, broken(db_url).kind) == (target, "missing")


def test_reordering_two_events_is_caught_and_says_where_each_was_chained(
    db_url: str, booking: UUID
):
    first, second = positions(db_url)[2], positions(db_url)[7]
    tamper(
        db_url,
        f"UPDATE berth_events SET notification_id = -1 WHERE notification_id = {first}",
        f"UPDATE berth_events SET notification_id = {first} WHERE notification_id = {second}",
        f"UPDATE berth_events SET notification_id = {second} WHERE notification_id = -1",
    )

    found = broken(db_url)

    assert (found.position, found.kind) == (first, "reordered")
    assert f"was chained at position {second}" in found.detail


def test_truncating_the_tail_is_caught_by_the_head(db_url: str, booking: UUID):
    stored = positions(db_url)
    keep = stored[-4]
    tamper(
        db_url,
        f"DELETE FROM berth_events WHERE notification_id > {keep}",
        f"DELETE FROM event_chain WHERE position > {keep}",
    )

    found = broken(db_url)

    assert (found.position, found.kind) == (stored[-1], "truncated")
    assert f"the store ends at {keep}" in found.detail


def test_truncating_the_tail_and_rewinding_the_head_is_caught_by_a_kept_anchor(
    db_url: str, booking: UUID
):
    kept = audit_chain.anchor(db_url)
    keep = positions(db_url)[-3]
    tamper(
        db_url,
        f"DELETE FROM berth_events WHERE notification_id > {keep}",
        f"DELETE FROM event_chain WHERE position > {keep}",
        "UPDATE event_chain_head SET (position, link, length) ="
        f" (SELECT position, link, {kept.events - 2} FROM event_chain WHERE position = {keep})",
    )

    assert audit_chain.verify(db_url).ok  # consistent on its own ...
    assert broken(db_url, anchor=kept.link).kind == "anchor"  # ... but not with the anchor


def test_an_event_written_around_the_chain_is_caught(db_url: str, booking: UUID):
    tamper(
        db_url,
        "INSERT INTO berth_events (originator_id, originator_version, topic, state)"
        f" VALUES ('{uuid4()}', 1, 'forged:Event', '{{}}')",
    )

    found = broken(db_url)

    assert (found.position, found.kind) == (positions(db_url)[-1], "unchained")


def test_verification_can_start_from_a_later_position(db_url: str, booking: UUID):
    stored = positions(db_url)
    tamper(
        db_url,
        "UPDATE berth_events SET state = state || '\\x20'::bytea"
        f" WHERE notification_id = {stored[1]}",
    )

    report = audit_chain.verify(db_url, start=stored[5])

    assert report.ok
    assert report.start == stored[4] + 1
    assert report.verified == len(stored) - 5


# -- append-only --------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE berth_events SET state = state WHERE notification_id = 1",
        "DELETE FROM berth_events WHERE notification_id = 1",
        "TRUNCATE berth_events",
        "UPDATE event_chain SET link = link",
        "DELETE FROM event_chain",
        "DELETE FROM event_chain_head",
    ],
)
def test_the_applications_connection_is_refused_changes_to_stored_events(
    app: Reservations, booking: UUID, statement: str
):
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)

    with (
        pytest.raises(PersistenceError, match="append-only") as refused,
        recorder.datastore.get_connection() as conn,
    ):
        conn.execute(statement.encode())

    assert isinstance(refused.value.__cause__, psycopg.errors.InsufficientPrivilege)


def test_concurrent_saves_from_many_threads_give_a_valid_chain(db_url: str):
    apps = [open_reservations(db_url) for _ in range(4)]
    try:
        pool_id = make_pool(apps[0])
        barrier = threading.Barrier(8)

        def client(n: int) -> None:
            barrier.wait()
            for k in range(6):
                hold(apps[n % 4], pool_id, ARRIVAL + timedelta(days=n * 3 + k % 3))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for each in apps:
            each.close()

    report = audit_chain.verify(db_url)
    assert report.ok, report.broken
    assert report.verified == len(positions(db_url)) > 8 * 6 * 3


def test_an_insert_that_reaches_the_head_after_a_later_one_is_given_a_later_position(
    db_url: str, booking: UUID
):
    """A writer without the library's table lock cannot chain out of store order."""
    insert = (
        "INSERT INTO berth_events (originator_id, originator_version, topic, state)"
        " VALUES (%s, 1, 'test:Event', '{}') RETURNING notification_id"
    )
    late: list[int] = []
    with psycopg.connect(db_url) as holder:
        holder.execute("SELECT * FROM event_chain_head FOR UPDATE")

        def slow_writer() -> None:
            with psycopg.connect(db_url, autocommit=True) as conn:
                row = conn.execute(insert, (uuid4(),)).fetchone()
                assert row is not None
                late.append(row[0])

        writer = threading.Thread(target=slow_writer)
        writer.start()
        wait_for_lock_waiter(db_url)
        row = holder.execute(insert, (uuid4(),)).fetchone()
        assert row is not None
        early = row[0]
        holder.commit()
        writer.join(timeout=30)

    assert late[0] > early
    assert audit_chain.verify(db_url).ok


def test_many_events_in_one_transaction_chain_across_statements_and_savepoints(
    db_url: str, booking: UUID
):
    bulk = (
        "INSERT INTO berth_events (originator_id, originator_version, topic, state)"
        " SELECT gen_random_uuid(), 1, 'test:Event', convert_to(g::text, 'UTF8')"
        " FROM generate_series(1, %s) g"
    )
    before = audit_chain.anchor(db_url).events
    with psycopg.connect(db_url) as conn:
        conn.execute(bulk, (2_000,))
        with pytest.raises(psycopg.errors.DivisionByZero), conn.transaction():
            conn.execute(bulk, (500,))
            conn.execute("SELECT 1 / 0")
        conn.execute(bulk, (300,))

    report = audit_chain.verify(db_url)

    assert report.ok, report.broken
    assert report.verified == report.head.events == before + 2_300


def wait_for_lock_waiter(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(200):
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    pytest.fail("the writer never waited for the chain's head")


def test_events_stored_before_the_migration_are_chained_by_it(empty_db_url: str, tmp_path: Path):
    earlier = [m for m in discover_repository() if m.version < "0010"]
    for migration in earlier:
        (tmp_path / f"{migration.version}_{migration.name}.sql").write_text(migration.sql)
    migrate(empty_db_url, tmp_path)
    # The library's own recorder: Berth's takes the table lock through a function of 0090.
    before = open_reservations(
        empty_db_url, env={"APPLICATION_RECORDER_TOPIC": get_topic(PostgresApplicationRecorder)}
    )
    try:
        make_pool(before)
    finally:
        before.close()

    assert "0010" in migrate(empty_db_url)

    report = audit_chain.verify(empty_db_url)
    assert report.ok
    assert report.verified == len(positions(empty_db_url)) >= 2


def discover_repository() -> list[Migration]:
    return discover(Path(__file__).resolve().parents[2] / "migrations")


# -- export ---------------------------------------------------------------------------


def export_to(url: str, path: Path, **options: Any) -> audit_export.ExportSummary:
    with path.open("w", encoding="utf-8") as out:
        return audit_export.export(url, out, **options)


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(text) for text in path.read_text().splitlines()]


def write_lines(path: Path, lines: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_an_export_verifies_from_the_file_alone_and_ends_at_the_anchor(
    db_url: str, booking: UUID, tmp_path: Path
):
    path = tmp_path / "store.jsonl"
    summary = export_to(db_url, path)
    head = audit_chain.anchor(db_url)

    report = audit_export.verify_export(path, anchor=head.link)

    assert report.ok, report.broken
    assert report.lines == summary.lines == head.events
    assert report.from_genesis
    assert report.segments == 1
    assert report.anchor_position == report.last_position == head.position
    line = read_lines(path)[0]
    assert line["previous_link"] == "00" * 32
    assert line["state"] == json.loads(base64.b64decode(str(line["state_base64"])))


def test_an_export_with_an_edited_state_is_detected(db_url: str, booking: UUID, tmp_path: Path):
    path = tmp_path / "store.jsonl"
    export_to(db_url, path)
    lines = read_lines(path)
    ann = '"given_name": "Ann"'
    number = next(n for n, line in enumerate(lines) if ann in json.dumps(line["state"]))
    edited = json.loads(json.dumps(lines[number]["state"]).replace(ann, '"given_name": "Bob"'))

    lines[number]["state"] = edited
    write_lines(path, lines)
    only_decoded = audit_export.verify_export(path)
    lines[number]["state_base64"] = base64.b64encode(json.dumps(edited).encode()).decode()
    write_lines(path, lines)
    both = audit_export.verify_export(path)

    assert only_decoded.broken is not None and both.broken is not None
    assert only_decoded.broken.line == both.broken.line == number + 1
    assert "decoded state" in only_decoded.broken.detail
    assert "altered" in both.broken.detail


def test_an_export_with_a_line_removed_or_cut_short_is_detected(
    db_url: str, booking: UUID, tmp_path: Path
):
    path = tmp_path / "store.jsonl"
    export_to(db_url, path)
    head = audit_chain.anchor(db_url)
    lines = read_lines(path)

    write_lines(path, lines[:5] + lines[6:])
    removed = audit_export.verify_export(path)
    write_lines(path, lines[:-2])
    cut = audit_export.verify_export(path, anchor=head.link)

    assert removed.broken is not None
    assert (removed.broken.line, removed.broken.position) == (6, lines[6]["position"])
    assert cut.broken is not None
    assert "anchor" in cut.broken.detail


def test_a_range_export_verifies_as_one_segment(db_url: str, booking: UUID, tmp_path: Path):
    stored = positions(db_url)
    path = tmp_path / "range.jsonl"
    export_to(db_url, path, start=stored[3], stop=stored[9])

    report = audit_export.verify_export(path)

    assert report.ok
    assert (report.first_position, report.last_position) == (stored[3], stored[9])
    assert not report.from_genesis
    assert report.segments == 1


def test_an_aggregate_export_verifies_each_event_and_counts_its_segments(
    db_url: str, booking: UUID, tmp_path: Path
):
    path = tmp_path / "booking.jsonl"
    export_to(db_url, path, aggregate_id=booking)

    lines = read_lines(path)
    assert {line["originator_id"] for line in lines} == {str(booking)}
    assert [line["version"] for line in lines] == list(range(1, len(lines) + 1))
    assert audit_export.verify_export(path, allow_gaps=True).ok
    assert audit_export.verify_export(path, allow_gaps=True).segments > 1
    assert not audit_export.verify_export(path).ok


# -- the command line ---------------------------------------------------------------


def test_the_audit_commands_verify_anchor_export_and_check_an_export(
    db_url: str,
    booking: UUID,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    path = tmp_path / "store.jsonl"

    cli.main(["audit", "anchor"])
    head = json.loads(capsys.readouterr().out)
    cli.main(["audit", "verify", "--anchor", head["link"]])
    verified = json.loads(capsys.readouterr().out)
    cli.main(["audit", "export", "--output", str(path)])
    exported = json.loads(capsys.readouterr().out)
    cli.main(["audit", "verify-export", str(path), "--anchor", head["link"]])
    checked = json.loads(capsys.readouterr().out)

    assert verified["ok"] and checked["ok"]
    assert verified["verified"] == exported["lines"] == checked["lines"] == head["events"]
    assert checked["anchor_position"] == head["position"]


def test_audit_verify_exits_non_zero_with_a_one_line_reason_on_a_broken_chain(
    db_url: str, booking: UUID, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BERTH_DATABASE_URL", db_url)
    target = positions(db_url)[2]
    tamper(db_url, f"DELETE FROM berth_events WHERE notification_id = {target}")

    with pytest.raises(SystemExit) as exited:
        cli.main(["audit", "verify"])

    reason = str(exited.value.code)
    assert reason.startswith(f"berth: chain broken at position {target} (missing)")
    assert "\n" not in reason
