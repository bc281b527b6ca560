"""Verify the event store's hash chain (migration 0010), and read its head.

`verify` walks ``berth_events`` and ``event_chain`` side by side in position order,
over two server-side cursors in one repeatable-read snapshot, recomputes every
link in Python (`berth.adapters.audit.chain_record`) and stops at the first one that
does not hold, saying where and what is wrong; with ``all_breaks`` it goes on
from the stored link after each break and reports every one. `anchor` gives the head an
auditor keeps outside the system; passing it back to `verify` later proves the
chain still runs through it, so history up to it was not rewritten or cut off.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg import IsolationLevel

from berth.adapters.audit import chain_record

# progress(done, total): events verified (or exported) so far, and the expected total.
Progress = Callable[[int, int], None]

BATCH = 20_000

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Anchor:
    """The chain's head: its last position, its link and how many events it holds."""

    position: int
    link: bytes
    events: int

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "link": self.link.hex(), "events": self.events}


@dataclass(frozen=True)
class Break:
    """The first place the chain does not hold.

    ``kind`` is one of: ``altered`` (an event's bytes no longer give its link),
    ``missing`` (a chained event is gone), ``reordered`` (an event sits at a
    position it was not chained at), ``unchained`` (an event was written around
    the chain), ``truncated`` (the head is beyond the last event: the tail was cut
    off), ``head`` (the head disagrees with the last link otherwise), ``anchor``
    (the given anchor is not on the chain).
    """

    position: int
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"chain broken at position {self.position} ({self.kind}): {self.detail}"


@dataclass(frozen=True)
class VerifyReport:
    start: int
    verified: int
    last_position: int
    last_link: bytes
    head: Anchor
    broken: Break | None
    anchor_position: int | None = None
    breaks: tuple[Break, ...] = ()

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "verified": self.verified,
            "from_position": self.start,
            "verified_to_position": self.last_position,
            "verified_to_link": self.last_link.hex(),
            "head": self.head.as_dict(),
            "anchor_position": self.anchor_position,
            "broken": None if self.broken is None else _break_dict(self.broken),
            "breaks": [_break_dict(broken) for broken in self.breaks],
        }


def _break_dict(broken: Break) -> dict[str, Any]:
    return {"position": broken.position, "kind": broken.kind, "detail": broken.detail}


def anchor(url: str) -> Anchor:
    """The chain's current head."""
    with psycopg.connect(url) as conn:
        return _head(conn)


def verify(
    url: str,
    *,
    start: int | None = None,
    anchor: bytes | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
    all_breaks: bool = False,
) -> VerifyReport:
    """Recompute the chain from ``start`` (default: the first event) to the head.

    From a later ``start``, the link before it is taken as given. With ``anchor``
    (a link kept from `anchor`), the chain must also pass through it. With
    ``all_breaks``, every break is in ``breaks``: after one, each later link is
    checked against the stored link before it, so each break is reported once.
    """
    with psycopg.connect(url) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        head = _head(conn)
        position, link = _before(conn, start)
        total = head.events if position == 0 else _count_after(conn, position)
        walk = _Walk(conn, position, link, anchor, all_breaks=all_breaks)
        walk.run(batch, total, progress)
        if walk.going_on():
            walk.found(_check_head(head, walk))
        if walk.going_on() and anchor is not None and walk.anchor_position is None:
            walk.found(
                Break(
                    head.position,
                    "anchor",
                    f"the anchor {anchor.hex()} is not on the chain verified from position "
                    f"{walk.start}: history up to it was rewritten or removed",
                )
            )
        held_position, held_link = walk.held
        return VerifyReport(
            start=walk.start,
            verified=walk.verified,
            last_position=held_position,
            last_link=held_link,
            head=head,
            broken=walk.breaks[0] if walk.breaks else None,
            anchor_position=walk.anchor_position,
            breaks=tuple(walk.breaks),
        )


class _Walk:
    """The state of one verification: the last good position and link."""

    def __init__(
        self,
        conn: psycopg.Connection[Row],
        position: int,
        link: bytes,
        anchor: bytes | None,
        *,
        all_breaks: bool = False,
    ) -> None:
        self.conn = conn
        self.start = position + 1
        self.position = position
        self.link = link
        self.anchor = anchor
        self.anchor_position: int | None = None
        self.verified = 0
        self.all_breaks = all_breaks
        self.breaks: list[Break] = []
        self._held: tuple[int, bytes] | None = None

    @property
    def held(self) -> tuple[int, bytes]:
        """The last position and link before the first break (the walk's end if none)."""
        return self._held or (self.position, self.link)

    def going_on(self) -> bool:
        return self.all_breaks or not self.breaks

    def found(self, broken: Break | None) -> None:
        if broken is not None:
            if not self.breaks:
                self._held = (self.position, self.link)
            self.breaks.append(broken)

    def resume(self, position: int, link: bytes) -> None:
        """Go on after a break from the stored link at ``position``, taken as given."""
        self.position = position
        self.link = link

    def run(self, batch: int, total: int, progress: Progress | None) -> None:
        events = _stream(
            self.conn,
            "berth_verify_events",
            "SELECT notification_id, uuid_send(originator_id), originator_version, topic, state"
            " FROM berth_events WHERE notification_id > %s ORDER BY notification_id",
            self.position,
            batch,
        )
        links = _stream(
            self.conn,
            "berth_verify_links",
            "SELECT position, previous_position, uuid_send(originator_id), originator_version,"
            " link FROM event_chain WHERE position > %s ORDER BY position",
            self.position,
            batch,
        )
        try:
            self._merge(events, links, batch, total, progress)
        finally:
            events.close()
            links.close()

    def _merge(
        self,
        events: Iterator[Row],
        links: Iterator[Row],
        batch: int,
        total: int,
        progress: Progress | None,
    ) -> None:
        event = next(events, None)
        chained = next(links, None)
        while (event is not None or chained is not None) and self.going_on():
            if chained is None or (event is not None and event[0] < chained[0]):
                assert event is not None
                self.found(
                    Break(
                        event[0],
                        "unchained",
                        "the event has no link: it was written around the chain",
                    )
                )
                event = next(events, None)  # the chain goes on around it
                continue
            if event is None or chained[0] < event[0]:
                self.found(
                    Break(
                        chained[0],
                        "missing",
                        f"{_identity(chained[2], chained[3])} was chained here "
                        "but is not in the store",
                    )
                )
                self.resume(chained[0], bytes(chained[4]))
                chained = next(links, None)
                continue
            broken = self._step(event, chained)
            if broken is not None:
                self.found(broken)
                # Go on from the stored link (for a missing predecessor: the only one left).
                self.resume(event[0], bytes(chained[4]))
            if progress is not None and self.verified and self.verified % batch == 0:
                progress(self.verified, total)
            event = next(events, None)
            chained = next(links, None)
        if progress is not None:
            progress(self.verified, max(total, self.verified))

    def _step(self, event: Row, chained: Row) -> Break | None:
        position, originator_id, version, topic, state = event
        _, previous_position, chained_id, chained_version, link = chained
        if previous_position > self.position:
            return Break(
                previous_position,
                "missing",
                f"the event at {position} was chained after position {previous_position}, "
                f"which is not in the store (the last verified event is at {self.position})",
            )
        if previous_position < self.position:
            return Break(
                position,
                "reordered",
                f"the event at {position} was chained after position {previous_position}, "
                f"not after {self.position}",
            )
        if (originator_id, version) != (chained_id, chained_version):
            return self._moved(position, originator_id, version, chained_id, chained_version)
        expected = chain_record.link(
            self.link, chain_record.record(originator_id, version, topic, state, position)
        )
        if expected != link:
            return Break(
                position,
                "altered",
                f"the stored bytes of {_identity(originator_id, version)} no longer give its link",
            )
        self.position = position
        self.link = link
        self.verified += 1
        if link == self.anchor:
            self.anchor_position = position
        return None

    def _moved(
        self,
        position: int,
        originator_id: bytes,
        version: int,
        chained_id: bytes,
        chained_version: int,
    ) -> Break:
        found = self.conn.execute(
            "SELECT position FROM event_chain WHERE originator_id = %s AND originator_version = %s",
            (UUID(bytes=originator_id), version),
        ).fetchone()
        here = f"{_identity(originator_id, version)} is at position {position}"
        if found is None:
            return Break(
                position,
                "altered",
                f"{here}, where {_identity(chained_id, chained_version)} was chained; "
                "it was never chained anywhere",
            )
        return Break(
            position,
            "reordered",
            f"{here} but was chained at position {found[0]}; "
            f"{_identity(chained_id, chained_version)} was chained here",
        )


def _check_head(head: Anchor, walk: _Walk) -> Break | None:
    if head.position == walk.position and head.link == walk.link:
        return None
    if head.position > walk.position:
        return Break(
            head.position,
            "truncated",
            f"the chain's head is at position {head.position} but the store ends at "
            f"{walk.position}: the events after it were removed",
        )
    return Break(
        head.position,
        "head",
        f"the chain's head (position {head.position}, {head.link.hex()}) is not the last "
        f"link (position {walk.position}, {walk.link.hex()})",
    )


def _identity(originator_id: bytes, version: int) -> str:
    return f"aggregate {UUID(bytes=originator_id)} version {version}"


def _head(conn: psycopg.Connection[Row]) -> Anchor:
    row = conn.execute("SELECT position, link, length FROM event_chain_head").fetchone()
    if row is None:
        return Anchor(0, chain_record.GENESIS, 0)
    return Anchor(row[0], bytes(row[1]), row[2])


def _before(conn: psycopg.Connection[Row], start: int | None) -> tuple[int, bytes]:
    """The chained position and link just before ``start`` (nothing: 0 and the genesis)."""
    if start is not None:
        row = conn.execute(
            "SELECT position, link FROM event_chain WHERE position < %s"
            " ORDER BY position DESC LIMIT 1",
            (start,),
        ).fetchone()
        if row is not None:
            return row[0], bytes(row[1])
    return 0, chain_record.GENESIS


def _count_after(conn: psycopg.Connection[Row], position: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM event_chain WHERE position > %s", (position,)
    ).fetchone()
    return int(row[0]) if row else 0


def _stream(
    conn: psycopg.Connection[Row], name: str, query: str, after: int, batch: int
) -> Generator[Row]:
    """Rows of ``query`` from a server-side cursor, fetched ``batch`` at a time, binary."""
    with conn.cursor(name, binary=True) as cursor:
        cursor.itersize = batch
        cursor.execute(query.encode(), (after,))
        yield from cursor
