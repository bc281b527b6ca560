"""The command side: Berth's eventsourcing Application, `Reservations`.

Its commands live in one module per part of the business, stacked here:
facilities and pools (catalog_commands), bookings (booking_commands), gates
(gate_commands, camera_commands), finance (finance_commands) and projection skips
(projection_commands), on the machinery they share
(commanding): one transaction per command, bounded retries on conflict, and
the injected clock, night lock and reference generator.
"""

from typing import Any, ClassVar

from berth.domain.camera_commands import CameraCommands
from berth.domain.finance_commands import FinanceCommands
from berth.domain.inventory import NightInventory
from berth.domain.projection_commands import ProjectionCommands


class Reservations(CameraCommands, FinanceCommands, ProjectionCommands):
    name = "Berth"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {NightInventory: 50}
    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }
