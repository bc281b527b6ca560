"""Operators' commands on projections: recording that one passes over an event."""

from typing import Any

from eventsourcing.persistence import IntegrityError

from berth.domain.cause import Cause
from berth.domain.commanding import CommandApplication, CommandResult
from berth.domain.projection_skip import AlreadySkipped, ProjectionSkip


class ProjectionCommands(CommandApplication):
    def skip_projection_event(
        self, *, projection: str, position: int, reason: str, cause: Cause, **save_kwargs: Any
    ) -> CommandResult:
        """Record that `projection` passes over the event at `position` (once per position).

        Whether the projection exists and has not yet passed that position is for
        the caller to check against the read side; the domain knows no projections.
        """
        skip = ProjectionSkip.record(
            projection=projection,
            position=position,
            reason=reason,
            now=self.clock(),
            cause=cause.as_metadata(),
        )
        try:
            return self._result(skip, self.save(skip, **save_kwargs))
        except IntegrityError:
            raise AlreadySkipped(
                f"{projection} already skips the event at position {position}"
            ) from None
