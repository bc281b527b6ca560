"""Operators' commands on projections: recording that one passes over an event."""

from eventsourcing.persistence import IntegrityError

from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult
from berth.domain.projection_skip import AlreadySkipped, ProjectionSkip


class ProjectionSkips:
    """Operators' answers to a projection that cannot apply an event."""

    def __init__(self, app: CommandApplication) -> None:
        self.app = app

    def skip_event(
        self, *, projection: str, position: int, reason: str, context: CommandContext
    ) -> CommandResult:
        """Record that `projection` passes over the event at `position` (once per position).

        Whether the projection exists and has not yet passed that position is for
        the caller to check against the read side; the domain knows no projections.
        """
        skip = ProjectionSkip.record(
            projection=projection,
            position=position,
            reason=reason,
            now=self.app.clock(),
            cause=context.cause.as_metadata(),
        )
        try:
            return self.app.save_new(skip, context)
        except IntegrityError:
            raise AlreadySkipped(
                f"{projection} already skips the event at position {position}"
            ) from None
