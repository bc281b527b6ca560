"""Base classes for Berth's events: every event carries the cause of its command."""

from eventsourcing.domain import Aggregate


class Created(Aggregate.Created):
    """The first event of an aggregate."""

    cause: dict[str, str]


class Event(Aggregate.Event):
    """Any later event of an aggregate."""

    cause: dict[str, str]
