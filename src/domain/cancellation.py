"""The cancellation fee policy of a pool, copied onto each booking when it is held."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from berth.domain.error import InvalidCommand
from berth.domain.stay import local_midnight


class InvalidPolicy(InvalidCommand):
    code = "invalid-cancellation-policy"


@dataclass(frozen=True, kw_only=True)
class CancellationPolicy:
    """Free until `free_until_hours` before arrival, then `fee_percent` of the total."""

    free_until_hours: int = 48
    fee_percent: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.fee_percent <= 100:
            raise InvalidPolicy(f"fee_percent must be 0 to 100, got {self.fee_percent}")
        if self.free_until_hours < 0:
            raise InvalidPolicy(f"free_until_hours cannot be negative: {self.free_until_hours}")

    def fee(self, *, total: int, arrival: date, time_zone: str, now: datetime) -> int:
        """The fee in minor units, rounded half up, for cancelling at `now`."""
        free_until = local_midnight(arrival, time_zone) - timedelta(hours=self.free_until_hours)
        if now < free_until:
            return 0
        return (total * self.fee_percent + 50) // 100

    def as_dict(self) -> dict[str, int]:
        return {"free_until_hours": self.free_until_hours, "fee_percent": self.fee_percent}
