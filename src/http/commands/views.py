"""A command's answer: the resource as the command left it, its version and position."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate
from marshmallow import Schema

from berth.domain.application import Reservations
from berth.domain.booking import Booking
from berth.domain.commanding import CommandResult
from berth.http.schemas.base import shared
from berth.projections.bookings import row_of


def at_result(app: Reservations, result: CommandResult) -> Aggregate:
    """The aggregate at the version the command produced, whatever happened since."""
    if result.subject is not None and result.subject.version == result.version:
        return result.subject
    aggregate: Aggregate = app.repository.get(result.id, version=result.version)
    return aggregate


def as_resource(
    app: Reservations, schema: type[Schema]
) -> Callable[[CommandResult], dict[str, Any]]:
    """A command's answer: the aggregate as the command left it, with its position."""
    return lambda result: render(schema, at_result(app, result), position=result.position)


def as_booking(
    app: Reservations, schema: type[Schema]
) -> Callable[[CommandResult], dict[str, Any]]:
    """A booking command's answer: the booking as the command left it, as queries show it."""

    def answer(result: CommandResult) -> dict[str, Any]:
        booking = at_result(app, result)
        assert isinstance(booking, Booking)
        return dict(shared(schema).dump(row_of(booking, position=result.position)))

    return answer


def render(schema: type[Schema], aggregate: object, *, position: int | None) -> dict[str, Any]:
    body: dict[str, Any] = dict(shared(schema).dump(aggregate))
    if position is not None:
        body["position"] = position
    return body
