"""Commands on rate plans (create, change, retire) and the pricing of a hold under one."""

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from berth.domain.catalog_commands import Catalogue
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult, check_version
from berth.domain.error import DomainError, NotFound
from berth.domain.pool import Pool
from berth.domain.pricing import (
    DEFAULT_PLAN,
    PlanTerms,
    PricedStay,
    check_code,
    default_terms,
    price_stay,
)
from berth.domain.rate_plan import RatePlan, RatePlanRetired, rate_plan_id
from berth.domain.stay import Stay


class UnknownRatePlan(NotFound):
    code = "unknown-rate-plan"


class RatePlanExists(DomainError):
    code = "rate-plan-exists"


class PriceChanged(DomainError):
    """The stay's price is no longer the one the client was quoted (and did not accept)."""

    code = "price-changed"

    def __init__(self, *, quoted: int, priced: PricedStay) -> None:
        super().__init__(
            f"the stay was quoted at {quoted} and now costs {priced.total};"
            " hold again with the new total, or with accept_price_change"
        )
        self.quoted = quoted
        self.total = priced.total
        self.breakdown = priced.breakdown()

    def problem_extensions(self) -> dict[str, object]:
        """What the answer carries beside the detail: the quoted and the new price."""
        return {
            "quoted_total": self.quoted,
            "total": self.total,
            "night_prices": [
                {"night": n["night"].isoformat(), "price": n["price"]} for n in self.breakdown
            ],
        }


class Pricing:
    """Rate plans of a pool (create, change, retire) and the pricing of a hold under one."""

    def __init__(self, app: CommandApplication, *, catalogue: Catalogue) -> None:
        self.app = app
        self.catalogue = catalogue

    def create_rate_plan(
        self,
        *,
        pool_id: UUID,
        code: str,
        name: str,
        terms: PlanTerms,
        context: CommandContext,
    ) -> CommandResult:
        check_code(code)

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.catalogue.pool(pool_id)
            if self.app.exists(rate_plan_id(pool_id, code)):
                raise RatePlanExists(f"the pool already has a rate plan {code!r}")
            plan = RatePlan.create(
                pool_id=pool.id,
                facility_id=pool.facility_id,
                code=code,
                name=name,
                currency=pool.currency,
                terms=terms,
                now=now,
                cause=meta,
            )
            # Counted on the pool, saved in the same transaction: at most MAX_RATE_PLANS.
            pool.record_rate_plan(code=code, now=now, cause=meta)
            return plan, [pool, plan]

        return self.app.execute(attempt, context, lock=[])

    def change_rate_plan(
        self,
        *,
        pool_id: UUID,
        code: str,
        name: str,
        terms: PlanTerms,
        context: CommandContext,
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            plan = self.rate_plan(pool_id, code)
            check_version(plan, context.expected_version)
            plan.change(name=name, terms=terms, now=now, cause=meta)
            return plan, [plan]

        return self.app.execute(attempt, context, lock=self.plan_lock(pool_id, code))

    def retire_rate_plan(
        self,
        *,
        pool_id: UUID,
        code: str,
        context: CommandContext,
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            plan = self.rate_plan(pool_id, code)
            check_version(plan, context.expected_version)
            plan.retire(now=now, cause=meta)
            return plan, [plan]

        return self.app.execute(attempt, context, lock=self.plan_lock(pool_id, code))

    @staticmethod
    def plan_lock(pool_id: UUID, code: str) -> list[UUID]:
        """The lock a hold under the plan and a change of it both take (under the night
        lock, with the nights'): a hold is priced and saved with no change in between, so
        no hold commits at terms a committed change had already replaced."""
        return [] if code == DEFAULT_PLAN else [rate_plan_id(pool_id, code)]

    def rate_plan(self, pool_id: UUID, code: str) -> RatePlan:
        check_code(code)
        plan = self.app.find(rate_plan_id(pool_id, code), RatePlan, UnknownRatePlan)
        if plan.pool_id != pool_id:  # cannot happen with a uuid5 id; kept as a guard
            raise UnknownRatePlan(f"no rate plan {code!r} on pool {pool_id}")
        return plan

    def plan_terms(self, pool: Pool, code: str) -> PlanTerms:
        """The terms a booking of `pool` under the plan `code` is priced by (retired or not)."""
        if code == DEFAULT_PLAN:
            return default_terms(pool.nightly_price)
        return self.rate_plan(pool.id, code).plan_terms

    def price_hold(
        self,
        *,
        pool: Pool,
        code: str,
        stay: Stay,
        quantity: int,
        channel: str,
        quoted_total: int | None,
        accept_price_change: bool,
    ) -> PricedStay:
        """The stay priced for a hold: refused if not sellable, or if the quote is stale."""
        if code == DEFAULT_PLAN:
            terms = default_terms(pool.nightly_price)
        else:
            plan = self.rate_plan(pool.id, code)
            if plan.retired:
                raise RatePlanRetired(f"the rate plan {code!r} is retired")
            terms = plan.plan_terms
        priced = price_stay(terms=terms, stay=stay, quantity=quantity, channel=channel)
        if quoted_total is not None and priced.total != quoted_total and not accept_price_change:
            raise PriceChanged(quoted=quoted_total, priced=priced)
        return priced
