"""A pool of capacity sold by the night: "long stay, 400 spaces" at a nightly price."""

from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import MAX_CAPACITY, check_money
from berth.domain.cache_copy import CheapCacheCopy
from berth.domain.cancellation import CancellationPolicy
from berth.domain.error import DomainError, InvalidCommand
from berth.domain.facility import check_name
from berth.domain.money import check_amount, check_currency


class InvalidCapacity(InvalidCommand):
    code = "invalid-capacity"


class InvalidTaxRate(InvalidCommand):
    code = "invalid-tax-rate"


MAX_TAX_RATE_BP = 10_000  # 100%, in basis points
MAX_RATE_PLANS = 50  # per pool, retired ones included: bounds every price list of a night


class TooManyRatePlans(DomainError):
    code = "too-many-rate-plans"


def check_tax_rate(rate_bp: int) -> int:
    if not 0 <= rate_bp <= MAX_TAX_RATE_BP:
        raise InvalidTaxRate(f"a tax rate is 0 to {MAX_TAX_RATE_BP} basis points, got {rate_bp}")
    return rate_bp


def check_capacity(capacity: int) -> int:
    if not 0 <= capacity <= MAX_CAPACITY:
        raise InvalidCapacity(f"capacity must be 0 to {MAX_CAPACITY}, got {capacity}")
    return capacity


class Pool(CheapCacheCopy, Aggregate):
    class Added(recorded.Created):
        facility_id: UUID
        name: str
        capacity: int
        nightly_price: int
        currency: str
        time_zone: str
        cancellation: dict[str, int]

    class CapacityChanged(recorded.Event):
        """Capacity set for the nights from `first_night` to `last_night` inclusive."""

        first_night: date
        last_night: date
        capacity: int

    class OverstayTariffSet(recorded.Event):
        """The charge per started hour a vehicle stays past its stay and grace."""

        hourly: int

        def apply(self, aggregate: "Pool") -> None:
            aggregate.overstay_hourly = self.hourly

    class TaxRateSet(recorded.Event):
        """The sales tax (VAT) included in this pool's prices, in basis points (2000 = 20%)."""

        rate_bp: int

        def apply(self, aggregate: "Pool") -> None:
            aggregate.tax_rate_bp = self.rate_bp

    class RatePlanAdded(recorded.Event):
        """A rate plan was created for this pool (the plan's own events say the rest)."""

        code: str

        def apply(self, aggregate: "Pool") -> None:
            aggregate.rate_plan_codes = [*aggregate.rate_plan_codes, self.code]

    def __init__(
        self,
        *,
        facility_id: UUID,
        name: str,
        capacity: int,
        nightly_price: int,
        currency: str,
        time_zone: str,
        cancellation: dict[str, int],
    ) -> None:
        self.facility_id = facility_id
        self.name = name
        self.capacity = capacity
        self.nightly_price = nightly_price
        self.currency = currency
        self.time_zone = time_zone
        self.cancellation = cancellation
        self.overstay_hourly = 0
        self.tax_rate_bp = 0
        self.rate_plan_codes: list[str] = []

    @property
    def cancellation_policy(self) -> CancellationPolicy:
        return CancellationPolicy(**self.cancellation)

    @classmethod
    def add(
        cls,
        *,
        pool_id: UUID,
        facility_id: UUID,
        time_zone: str,
        name: str,
        capacity: int,
        nightly_price: int,
        currency: str,
        cancellation: CancellationPolicy,
        now: datetime,
        cause: dict[str, str],
    ) -> "Pool":
        return cls._create(
            cls.Added,
            id=pool_id,
            timestamp=now,
            cause=cause,
            facility_id=facility_id,
            name=check_name(name),
            capacity=check_capacity(capacity),
            nightly_price=check_money(check_amount(nightly_price), what="a nightly price"),
            currency=check_currency(currency),
            time_zone=time_zone,
            cancellation=cancellation.as_dict(),
        )

    def record_capacity_change(
        self,
        *,
        first_night: date,
        last_night: date,
        capacity: int,
        now: datetime,
        cause: dict[str, str],
    ) -> None:
        self.trigger_event(
            self.CapacityChanged,
            timestamp=now,
            cause=cause,
            first_night=first_night,
            last_night=last_night,
            capacity=check_capacity(capacity),
        )

    def set_overstay_tariff(self, *, hourly: int, now: datetime, cause: dict[str, str]) -> None:
        self.trigger_event(
            self.OverstayTariffSet,
            timestamp=now,
            cause=cause,
            hourly=check_money(check_amount(hourly), what="an hourly tariff"),
        )

    def set_tax_rate(self, *, rate_bp: int, now: datetime, cause: dict[str, str]) -> None:
        self.trigger_event(
            self.TaxRateSet, timestamp=now, cause=cause, rate_bp=check_tax_rate(rate_bp)
        )

    def record_rate_plan(self, *, code: str, now: datetime, cause: dict[str, str]) -> None:
        if len(self.rate_plan_codes) >= MAX_RATE_PLANS:
            raise TooManyRatePlans(f"a pool has at most {MAX_RATE_PLANS} rate plans")
        self.trigger_event(self.RatePlanAdded, timestamp=now, cause=cause, code=code)
