"""The command side: Berth's eventsourcing Application, `Reservations`, and its command groups.

One application object holds the machinery every command shares (commanding:
one transaction per command, bounded retries on conflict, the injected clock,
night lock and reference generator) and, as collaborators, one group of commands
per part of the business:

- `catalogue`: facilities, pools and their nights' capacity (catalog_commands);
- `pricing`: rate plans of a pool and the pricing of a hold under one (rate_plan_commands);
- `bookings`: hold, confirm, amend, cancel, payments and refunds (booking_commands);
- `gates`: lanes, overstay tariffs, plate reads (gate_commands);
- `cameras`: cameras on the gates (camera_commands);
- `finance`: the night audit and ledger reversals (finance_commands);
- `projections`: skipping an event a projection cannot apply (projection_commands).

Callers name the group: `app.bookings.hold(...)`, `app.catalogue.pool(pool_id)`.
"""

from collections.abc import Callable
from typing import Any, ClassVar

from berth.domain.booking_commands import Bookings
from berth.domain.camera_commands import Cameras
from berth.domain.catalog_commands import Catalogue
from berth.domain.commanding import Clock, CommandApplication
from berth.domain.finance_commands import Finance
from berth.domain.gate_commands import Gates
from berth.domain.inventory import NightInventory
from berth.domain.locking import NightLock, no_lock
from berth.domain.projection_commands import ProjectionSkips
from berth.domain.rate_plan_commands import Pricing
from berth.domain.reference import new_reference

# A night is snapshotted every 200 of its events. A snapshot holds every allocation,
# so a busy night's costs its thousands of holds each time; replaying up to 200 events
# after one is cheap, each costing its own hold (the night's tally). At 50, snapshots
# were an eighth of the interpreter's time in bench/holds.py's hot night.
NIGHT_SNAPSHOT_INTERVAL = 200


class Reservations(CommandApplication):
    name = "Berth"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {
        NightInventory: NIGHT_SNAPSHOT_INTERVAL
    }
    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "20000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
    }

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock,
        night_lock: NightLock = no_lock,
        make_reference: Callable[[], str] = new_reference,
    ) -> None:
        super().__init__(env, clock=clock, night_lock=night_lock, make_reference=make_reference)
        self.catalogue = Catalogue(self)
        self.pricing = Pricing(self, catalogue=self.catalogue)
        self.bookings = Bookings(self, catalogue=self.catalogue, pricing=self.pricing)
        self.gates = Gates(self, catalogue=self.catalogue, bookings=self.bookings)
        self.cameras = Cameras(self, gates=self.gates)
        self.finance = Finance(self, catalogue=self.catalogue)
        self.projections = ProjectionSkips(self)
