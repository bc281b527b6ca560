"""A rate plan: how one pool's nights are priced for some channels ("summer web", "flex").

Its own aggregate rather than events on the pool: a pool has several plans,
each changed on its own (with its own version for If-Match), and a plan's
change must neither conflict with nor wait for the pool's capacity changes.
Its id is derived from the pool and the plan's code (`rate_plan_id`), so a
hold finds the plan it names without an index, and a code is unique per pool.

A change records the plan's whole new terms; bookings keep the nightly prices
they were sold at, so no change of a plan ever reaches a booking.
"""

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.bounds import check_text
from berth.domain.error import DomainError
from berth.domain.pricing import DEFAULT_PLAN, InvalidRatePlan, PlanTerms, check_code

RATE_PLAN_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/rate-plan")


def rate_plan_id(pool_id: UUID, code: str) -> UUID:
    return uuid5(RATE_PLAN_NAMESPACE, f"{pool_id}/{code}")


class RatePlanRetired(DomainError):
    code = "rate-plan-retired"


class RatePlan(Aggregate):
    class Created(recorded.Created):
        pool_id: UUID
        facility_id: UUID
        code: str
        name: str
        currency: str
        terms: dict[str, Any]

    class TermsChanged(recorded.Event):
        """The plan's whole terms from now on, and its name."""

        name: str
        terms: dict[str, Any]

        def apply(self, aggregate: "RatePlan") -> None:
            aggregate.name = self.name
            aggregate.terms = self.terms

    class Retired(recorded.Event):
        def apply(self, aggregate: "RatePlan") -> None:
            aggregate.retired = True

    def __init__(
        self,
        *,
        pool_id: UUID,
        facility_id: UUID,
        code: str,
        name: str,
        currency: str,
        terms: dict[str, Any],
    ) -> None:
        self.pool_id = pool_id
        self.facility_id = facility_id
        self.code = code
        self.name = name
        self.currency = currency
        self.terms = terms
        self.retired = False

    @property
    def plan_terms(self) -> PlanTerms:
        return PlanTerms.from_dict(self.terms)

    @classmethod
    def create(
        cls,
        *,
        pool_id: UUID,
        facility_id: UUID,
        code: str,
        name: str,
        currency: str,
        terms: PlanTerms,
        now: datetime,
        cause: dict[str, str],
    ) -> "RatePlan":
        if check_code(code) == DEFAULT_PLAN:
            raise InvalidRatePlan(f"the code {DEFAULT_PLAN!r} is the pool's own price")
        return cls._create(
            cls.Created,
            id=rate_plan_id(pool_id, code),
            timestamp=now,
            cause=cause,
            pool_id=pool_id,
            facility_id=facility_id,
            code=code,
            name=check_text(name, what="a rate plan name", maximum=200),
            currency=currency,
            terms=terms.as_dict(),
        )

    def change(self, *, name: str, terms: PlanTerms, now: datetime, cause: dict[str, str]) -> None:
        if self.retired:
            raise RatePlanRetired(f"the rate plan {self.code!r} is retired")
        self.trigger_event(
            self.TermsChanged,
            timestamp=now,
            cause=cause,
            name=check_text(name, what="a rate plan name", maximum=200),
            terms=terms.as_dict(),
        )

    def retire(self, *, now: datetime, cause: dict[str, str]) -> None:
        if self.retired:
            raise RatePlanRetired(f"the rate plan {self.code!r} is already retired")
        self.trigger_event(self.Retired, timestamp=now, cause=cause)
