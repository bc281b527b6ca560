"""Export the event store with its chain links as JSON Lines, and re-verify an export.

One event per line, in position order::

    {"position": 7, "previous_position": 6, "originator_id": "…", "version": 2,
     "topic": "berth.domain.booking:Booking.Confirmed", "state_base64": "…",
     "state": {…}, "previous_link": "…", "link": "…"}

``state_base64`` is the stored bytes, the ones the link covers; ``state`` is the
same bytes decoded as JSON, for reading (null if they are not JSON). Links are
hex. `verify_export` needs nothing but the file: it recomputes each line's link
from its previous link and its bytes (`berth.adapters.audit.chain_record`), checks that
each line continues the one before, and, given an anchor, that the chain passes
through it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import psycopg
from psycopg import IsolationLevel

from berth.adapters.audit import chain_record
from berth.adapters.audit.audit_chain import BATCH, Progress

Row = tuple[Any, ...]


@dataclass(frozen=True)
class ExportSummary:
    lines: int
    first_position: int | None
    last_position: int | None
    last_link: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "first_position": self.first_position,
            "last_position": self.last_position,
            "last_link": self.last_link,
        }


def export(
    url: str,
    out: TextIO,
    *,
    start: int | None = None,
    stop: int | None = None,
    aggregate_id: UUID | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> ExportSummary:
    """Write the events from ``start`` to ``stop`` (inclusive), or one aggregate's, to ``out``."""
    where = ["e.notification_id >= %s", "e.notification_id <= %s"]
    params: list[Any] = [start or 0, stop if stop is not None else 2**63 - 1]
    if aggregate_id is not None:
        where.append("e.originator_id = %s")
        params.append(aggregate_id)
    condition = " AND ".join(where)
    with psycopg.connect(url) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        row = conn.execute(
            f"SELECT count(*) FROM berth_events e WHERE {condition}".encode(), params
        ).fetchone()
        total = int(row[0]) if row else 0
        links = _Links(conn)
        lines = 0
        last: dict[str, Any] | None = None
        first_position: int | None = None
        with conn.cursor("berth_export", binary=True) as cursor:
            cursor.itersize = batch
            cursor.execute(
                "SELECT e.notification_id, e.originator_id, e.originator_version, e.topic,"
                " e.state, c.previous_position, c.link"
                " FROM berth_events e LEFT JOIN event_chain c ON c.position = e.notification_id"
                f" WHERE {condition} ORDER BY e.notification_id".encode(),
                params,
            )
            for event in cursor:
                last = _line(event, links)
                out.write(json.dumps(last, separators=(",", ":")) + "\n")
                lines += 1
                first_position = first_position or last["position"]
                if progress is not None and lines % batch == 0:
                    progress(lines, total)
        if progress is not None:
            progress(lines, max(lines, total))
        return ExportSummary(
            lines,
            first_position,
            None if last is None else last["position"],
            None if last is None else last["link"],
        )


class _Links:
    """The link of a chained position: the last one exported, or looked up."""

    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self.conn = conn
        self.position = 0
        self.link: bytes | None = chain_record.GENESIS

    def at(self, position: int) -> bytes | None:
        if position != self.position:
            row = self.conn.execute(
                "SELECT link FROM event_chain WHERE position = %s", (position,)
            ).fetchone()
            self.position, self.link = position, None if row is None else bytes(row[0])
        return self.link

    def advance(self, position: int, link: bytes | None) -> None:
        self.position, self.link = position, link


def _line(event: Row, links: _Links) -> dict[str, Any]:
    position, originator_id, version, topic, state, previous_position, link = event
    previous = None if previous_position is None else links.at(previous_position)
    links.advance(position, link)
    return {
        "position": position,
        "previous_position": previous_position,
        "originator_id": str(originator_id),
        "version": version,
        "topic": topic,
        "state_base64": None if state is None else base64.b64encode(state).decode("ascii"),
        "state": _json(state),
        "previous_link": None if previous is None else previous.hex(),
        "link": None if link is None else link.hex(),
    }


def _json(state: bytes | None) -> Any:
    if state is None:
        return None
    try:
        return json.loads(state)
    except ValueError:  # not UTF-8, or not JSON: the base64 says it all
        return None


# -- verification from the file alone -------------------------------------------------


class ExportError(ValueError):
    """An export file that cannot be read as one."""


@dataclass(frozen=True)
class ExportBreak:
    line: int
    position: int | None
    detail: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (
            "" if self.position is None else f" (position {self.position})"
        )
        return f"export broken at {where}: {self.detail}"


@dataclass(frozen=True)
class ExportReport:
    lines: int
    first_position: int | None
    last_position: int | None
    last_link: str | None
    from_genesis: bool
    segments: int
    anchor_position: int | None
    broken: ExportBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "lines": self.lines,
            "first_position": self.first_position,
            "last_position": self.last_position,
            "last_link": self.last_link,
            "from_genesis": self.from_genesis,
            "segments": self.segments,
            "anchor_position": self.anchor_position,
            "broken": None if self.broken is None else str(self.broken),
        }


@dataclass
class _Verified:
    """What the lines read so far established."""

    lines: int = 0
    first_position: int | None = None
    position: int | None = None
    link: bytes | None = None
    from_genesis: bool = False
    segments: int = 0
    anchor_position: int | None = None


def verify_export(
    path: str | Path, *, anchor: bytes | None = None, allow_gaps: bool = False
) -> ExportReport:
    """Re-verify the chain in an export file, with nothing but the file (and an anchor).

    Every line's link must follow from its previous link and its bytes, and its
    decoded ``state`` must be its bytes. Each line must continue the line before
    (its previous link is that line's link); with ``allow_gaps`` (an export of one
    aggregate) a line may instead start a new segment. With ``anchor``, some
    line's link must be the anchor.
    """
    seen = _Verified()
    broken: ExportBreak | None = None
    with Path(path).open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            broken = _check_line(seen, number, text, allow_gaps=allow_gaps, anchor=anchor)
            if broken is not None:
                break
    if broken is None and anchor is not None and seen.anchor_position is None:
        broken = ExportBreak(
            seen.lines, seen.position, f"the anchor {anchor.hex()} is not the link of any line"
        )
    return ExportReport(
        lines=seen.lines,
        first_position=seen.first_position,
        last_position=seen.position,
        last_link=None if seen.link is None else seen.link.hex(),
        from_genesis=seen.from_genesis,
        segments=seen.segments,
        anchor_position=seen.anchor_position,
        broken=broken,
    )


def _check_line(
    seen: _Verified, number: int, text: str, *, allow_gaps: bool, anchor: bytes | None
) -> ExportBreak | None:
    try:
        line = _parse(text)
    except ExportError as error:
        return ExportBreak(number, None, str(error))
    position = line.position
    if seen.position is not None and position <= seen.position:
        return ExportBreak(number, position, f"it comes after position {seen.position}")
    if line.previous_position == 0 and line.previous_link != chain_record.GENESIS:
        return ExportBreak(number, position, "the first event's previous link is not the genesis")
    if line.decoded != _json(line.state):
        return ExportBreak(number, position, "its decoded state is not its stored bytes")
    record = chain_record.record(
        line.originator_id.bytes, line.version, line.topic, line.state, position
    )
    if chain_record.link(line.previous_link, record) != line.link:
        return ExportBreak(number, position, "its bytes do not give its link (altered)")
    continues = seen.link == line.previous_link and seen.position == line.previous_position
    if seen.lines == 0 or not continues:
        if seen.lines > 0 and not allow_gaps:
            return ExportBreak(
                number,
                position,
                f"it was chained after position {line.previous_position}, not after the "
                f"line before (position {seen.position}): lines are missing or reordered",
            )
        seen.segments += 1
    if seen.lines == 0:
        seen.first_position = position
        seen.from_genesis = line.previous_position == 0
    seen.lines += 1
    seen.position, seen.link = position, line.link
    if line.link == anchor:
        seen.anchor_position = position
    return None


@dataclass(frozen=True)
class _Line:
    position: int
    previous_position: int
    originator_id: UUID
    version: int
    topic: str | None
    state: bytes | None
    decoded: Any
    previous_link: bytes
    link: bytes


def _parse(text: str) -> _Line:
    try:
        data = json.loads(text)
        if data["link"] is None:
            msg = "the event has no link: it was never chained"
            raise ExportError(msg)
        state, topic = data["state_base64"], data["topic"]
        if topic is not None and not isinstance(topic, str):
            msg = f"topic {topic!r} is not a string"
            raise ExportError(msg)
        return _Line(
            position=_integer(data["position"]),
            previous_position=_integer(data["previous_position"]),
            originator_id=UUID(data["originator_id"]),
            version=_integer(data["version"]),
            topic=topic,
            state=None if state is None else base64.b64decode(state, validate=True),
            decoded=data["state"],
            previous_link=bytes.fromhex(data["previous_link"]),
            link=bytes.fromhex(data["link"]),
        )
    except ExportError:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        msg = f"not an export line ({type(error).__name__}: {error})"
        raise ExportError(msg) from error


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        msg = f"{value!r} is not an integer"
        raise TypeError(msg)
    return value
