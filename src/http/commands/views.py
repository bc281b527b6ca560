"""A command's answer: the resource as the command left it, its version and position."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from marshmallow import Schema

from berth.domain.application import Reservations
from berth.domain.commanding import CommandResult


def at_result(app: Reservations, result: CommandResult) -> Aggregate:
    """The aggregate at the version the command produced, whatever happened since."""
    if result.subject is not None and result.subject.version == result.version:
        return result.subject
    aggregate: Aggregate = app.repository.get(result.id, version=result.version)
    return aggregate


def as_resource(
    app: Reservations, schema: type[Schema], **extra: Any
) -> Callable[[CommandResult], dict[str, Any]]:
    """A command's answer: the aggregate as the command left it, with its position."""
    return lambda result: render(schema, at_result(app, result), position=result.position, **extra)


def render(
    schema: type[Schema], aggregate: object, *, position: int | None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = dict(schema().dump(aggregate))
    if position is not None:
        body["position"] = position
    body.update(extra)
    return body


def current(app: Reservations, schema: type[Schema], aggregate_id: UUID) -> dict[str, Any]:
    """The resource as it is now (used only to rebuild a lost idempotent answer)."""
    aggregate: object = app.repository.get(aggregate_id)
    return render(schema, aggregate, position=None)
