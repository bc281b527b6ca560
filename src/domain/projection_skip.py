"""An operator's decision that a projection passes over one event it cannot apply.

Recorded as a `ProjectionSkip` aggregate whose id is derived from the projection's
name and the event's position, so a position is skipped at most once per
projection. Its one event, `ProjectionEventSkipped`, carries the cause like
every other event; the projection it names passes over that position (live and
in rebuilds), every other projection ignores it (it is no topic they read).
"""

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_text
from berth.domain.error import DomainError, InvalidCommand

SKIP_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/projection-skip")
MAX_REASON = 500
MAX_PROJECTION_NAME = 100


class SkipReasonRequired(InvalidCommand):
    code = "reason-required"


class InvalidSkip(InvalidCommand):
    code = "invalid-skip"


class AlreadySkipped(DomainError):
    code = "already-skipped"


def skip_id(*, projection: str, position: int) -> UUID:
    return uuid5(SKIP_NAMESPACE, f"{projection}:{position}")


class ProjectionSkip(Aggregate):
    class ProjectionEventSkipped(recorded.Created):
        projection: str
        position: int
        reason: str

    def __init__(self, *, projection: str, position: int, reason: str) -> None:
        self.projection = projection
        self.position = position
        self.reason = reason

    @classmethod
    def record(
        cls,
        *,
        projection: str,
        position: int,
        reason: str,
        now: datetime,
        cause: dict[str, str],
    ) -> "ProjectionSkip":
        if not projection or len(projection) > MAX_PROJECTION_NAME:
            raise InvalidSkip(f"a projection name is 1 to {MAX_PROJECTION_NAME} characters")
        if position < 1:
            raise InvalidSkip(f"a position is a positive notification id, got {position}")
        if not reason.strip():
            raise SkipReasonRequired("a skip needs a reason")
        check_text(reason, what="a skip's reason", maximum=MAX_REASON, multiline=True)
        return cls._create(
            cls.ProjectionEventSkipped,
            id=skip_id(projection=projection, position=position),
            timestamp=now,
            cause=cause,
            projection=projection,
            position=position,
            reason=reason.strip(),
        )
