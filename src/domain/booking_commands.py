"""Booking commands: hold, confirm, amend, cancel, expire, no-show, check in and out,
payments and refunds. A command that takes or gives back nights saves their
inventories in the same transaction as the booking."""

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from berth.domain.booking import Booking
from berth.domain.catalog_commands import Catalogue
from berth.domain.command_context import CommandContext
from berth.domain.commanding import CommandApplication, CommandResult, check_version
from berth.domain.error import InvalidCommand, NotFound
from berth.domain.inventory import inventory_id
from berth.domain.pricing import DEFAULT_PLAN
from berth.domain.rate_plan_commands import Pricing
from berth.domain.reference import BookingReference, reference_id
from berth.domain.stay import Stay

DEFAULT_HOLD = timedelta(minutes=15)
MAX_HOLD = timedelta(hours=24)


class UnknownBooking(NotFound):
    code = "unknown-booking"


class InvalidHoldTime(InvalidCommand):
    code = "invalid-hold-time"


class Bookings:
    """Bookings from hold to check-out, their payments and refunds."""

    def __init__(self, app: CommandApplication, *, catalogue: Catalogue, pricing: Pricing) -> None:
        self.app = app
        self.catalogue = catalogue
        self.pricing = pricing

    def hold(
        self,
        *,
        pool_id: UUID,
        stay: Stay,
        quantity: int,
        guest: dict[str, str],
        plates: Sequence[str] = (),
        hold_for: timedelta = DEFAULT_HOLD,
        rate_plan: str = DEFAULT_PLAN,
        quoted_total: int | None = None,
        accept_price_change: bool = False,
        context: CommandContext,
    ) -> CommandResult:
        """Hold the stay at its price under `rate_plan` (the pool's own price: `default`).

        With `quoted_total`, a stay whose price is no longer that total is refused
        (PriceChanged) unless `accept_price_change`.
        """
        if not timedelta(minutes=1) <= hold_for <= MAX_HOLD:
            raise InvalidHoldTime(f"a hold lasts from 1 minute to {MAX_HOLD}, not {hold_for}")
        booking_id = uuid4()

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            pool = self.catalogue.pool(pool_id)
            priced = self.pricing.price_hold(
                pool=pool,
                code=rate_plan,
                stay=stay,
                quantity=quantity,
                channel=context.cause.channel,
                quoted_total=quoted_total,
                accept_price_change=accept_price_change,
            )
            reference = self.app.make_reference()  # a fresh one on each try: a clash is a conflict
            expires_at = now + hold_for
            booking = Booking.hold(
                booking_id=booking_id,
                reference=reference,
                facility_id=pool.facility_id,
                pool_id=pool.id,
                channel=context.cause.channel,
                stay=stay,
                quantity=quantity,
                guest=guest,
                plates=list(plates),
                hold_expires_at=expires_at,
                nightly_price=pool.nightly_price,
                currency=pool.currency,
                time_zone=pool.time_zone,
                cancellation=pool.cancellation_policy,
                now=now,
                cause=meta,
                rate_plan=rate_plan,
                night_prices=priced.night_prices,
            )
            inventories = self.catalogue.inventories(pool, stay.days(), now, meta)
            for inventory in inventories:
                inventory.allocate(
                    booking_id=booking_id,
                    quantity=quantity,
                    expires_at=expires_at,
                    now=now,
                    cause=meta,
                )
            claim = BookingReference.claim(
                reference=reference, booking_id=booking_id, now=now, cause=meta
            )
            return booking, [booking, claim, *inventories]

        keys = _nights_of(pool_id, stay)
        keys += self.pricing.plan_lock(pool_id, rate_plan)  # no plan change between price and save
        return self.app.execute(attempt, context, lock=keys, read=[pool_id])

    def confirm(
        self,
        *,
        booking_id: UUID,
        context: CommandContext,
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, context.expected_version)
            booking.confirm(now=now, cause=meta)
            inventories = self.catalogue.existing_inventories(booking.pool_id, booking.stay.days())
            for inventory in inventories:
                inventory.firm(
                    booking_id=booking.id, quantity=booking.quantity, now=now, cause=meta
                )
            return booking, [booking, *inventories]

        return self.app.execute(
            attempt, context, lock=self._booking_keys(booking_id), read=[booking_id]
        )

    def amend(
        self,
        *,
        booking_id: UUID,
        arrival: date | None = None,
        departure: date | None = None,
        quantity: int | None = None,
        guest: dict[str, str] | None = None,
        plates: Sequence[str] | None = None,
        context: CommandContext,
    ) -> CommandResult:
        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, context.expected_version)
            old_nights = set(booking.stay.days())
            old_quantity = booking.quantity
            stay = Stay(arrival or booking.arrival, departure or booking.departure)
            terms = None
            if booking.rate_plan != DEFAULT_PLAN and stay != booking.stay:
                terms = self.pricing.plan_terms(
                    self.catalogue.pool(booking.pool_id), booking.rate_plan
                )
            booking.amend(
                terms=terms,
                stay=stay,
                quantity=booking.quantity if quantity is None else quantity,
                guest=booking.guest if guest is None else guest,
                plates=booking.plates if plates is None else list(plates),
                now=now,
                cause=meta,
            )
            touched: list[Aggregate] = [booking]
            new_nights = set(stay.days())
            if new_nights != old_nights or booking.quantity != old_quantity:
                pool = self.catalogue.pool(booking.pool_id)
                expires_at = booking.hold_expires_at if booking.status == "held" else None
                for inventory in self.catalogue.inventories(pool, sorted(new_nights), now, meta):
                    inventory.allocate(
                        booking_id=booking.id,
                        quantity=booking.quantity,
                        expires_at=expires_at,
                        now=now,
                        cause=meta,
                    )
                    touched.append(inventory)
                for inventory in self.catalogue.existing_inventories(
                    booking.pool_id, sorted(old_nights - new_nights)
                ):
                    inventory.release(booking_id=booking.id, now=now, cause=meta)
                    touched.append(inventory)
            return booking, touched

        seen = self.last_seen(booking_id)
        lock = _nights_of(seen.pool_id, seen.stay)
        if arrival or departure:
            lock += _nights_of(
                seen.pool_id, Stay(arrival or seen.arrival, departure or seen.departure)
            )
        return self.app.execute(attempt, context, lock=lock, read=[booking_id])

    def cancel(
        self,
        *,
        booking_id: UUID,
        reason: str = "",
        context: CommandContext,
    ) -> CommandResult:
        return self._end_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.cancel(reason=reason, now=now, cause=meta),
        )

    def expire(self, *, booking_id: UUID, context: CommandContext) -> CommandResult:
        return self._end_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.expire(now=now, cause=meta),
        )

    def record_no_show(
        self,
        *,
        booking_id: UUID,
        context: CommandContext,
    ) -> CommandResult:
        return self._end_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.record_no_show(now=now, cause=meta),
        )

    def check_in(
        self,
        *,
        booking_id: UUID,
        context: CommandContext,
    ) -> CommandResult:
        return self._change_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.check_in(now=now, cause=meta),
        )

    def check_out(
        self,
        *,
        booking_id: UUID,
        context: CommandContext,
    ) -> CommandResult:
        return self._change_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.check_out(now=now, cause=meta),
        )

    def record_payment(
        self,
        *,
        booking_id: UUID,
        amount: int,
        currency: str,
        method: str,
        payment_id: str | None = None,
        context: CommandContext,
    ) -> CommandResult:
        payment = payment_id or str(uuid4())
        return self._change_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.record_payment(
                payment_id=payment,
                amount=amount,
                currency=currency,
                method=method,
                now=now,
                cause=meta,
            ),
        )

    def request_refund(
        self,
        *,
        booking_id: UUID,
        amount: int,
        currency: str,
        reason: str = "",
        refund_id: str | None = None,
        context: CommandContext,
    ) -> CommandResult:
        refund = refund_id or str(uuid4())
        return self._change_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.request_refund(
                refund_id=refund,
                amount=amount,
                currency=currency,
                reason=reason,
                now=now,
                cause=meta,
            ),
        )

    def settle_refund(
        self,
        *,
        booking_id: UUID,
        refund_id: str,
        succeeded: bool,
        reason: str = "",
        context: CommandContext,
    ) -> CommandResult:
        return self._change_booking(
            booking_id,
            context,
            lambda booking, now, meta: booking.settle_refund(
                refund_id=refund_id, succeeded=succeeded, reason=reason, now=now, cause=meta
            ),
        )

    def booking(self, booking_id: UUID) -> Booking:
        return self.app.find(booking_id, Booking, UnknownBooking)

    def booking_by_reference(self, reference: str) -> Booking:
        try:
            claim: object = self.app.repository.get(reference_id(reference))
        except AggregateNotFoundError:
            raise UnknownBooking(f"no booking with reference {reference!r}") from None
        assert isinstance(claim, BookingReference)
        return self.booking(claim.booking_id)

    def _booking_at(self, booking_id: UUID, expected_version: int | None) -> Booking:
        booking = self.booking(booking_id)
        check_version(booking, expected_version)
        return booking

    def last_seen(self, booking_id: UUID) -> Booking:
        """The booking as this process last saw it: enough to know which nights to lock.

        If it has changed since, the command locks the nights it had; the versions
        checked on save still keep every rule, and the command reads the booking
        again, current, in its transaction (`read=[booking_id]`).
        """
        return self.app.last_seen(booking_id, Booking, UnknownBooking)

    def _booking_keys(self, booking_id: UUID) -> list[UUID]:
        booking = self.last_seen(booking_id)
        return _nights_of(booking.pool_id, booking.stay)

    def _change_booking(
        self,
        booking_id: UUID,
        context: CommandContext,
        change: Callable[[Booking, datetime, dict[str, str]], None],
    ) -> CommandResult:
        """A command that touches the booking alone."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, context.expected_version)
            change(booking, now, meta)
            return booking, [booking]

        return self.app.execute(attempt, context, lock=[], read=[booking_id])

    def _end_booking(
        self,
        booking_id: UUID,
        context: CommandContext,
        end: Callable[[Booking, datetime, dict[str, str]], None],
    ) -> CommandResult:
        """A command that ends a booking and gives its nights back."""

        def attempt(now: datetime, meta: dict[str, str]) -> tuple[Aggregate, list[Aggregate]]:
            booking = self._booking_at(booking_id, context.expected_version)
            end(booking, now, meta)
            inventories = self.catalogue.existing_inventories(booking.pool_id, booking.stay.days())
            for inventory in inventories:
                inventory.release(booking_id=booking.id, now=now, cause=meta)
            return booking, [booking, *inventories]

        return self.app.execute(
            attempt, context, lock=self._booking_keys(booking_id), read=[booking_id]
        )


def _nights_of(pool_id: UUID, stay: Stay) -> list[UUID]:
    """The night locks of a stay in a pool."""
    return [inventory_id(pool_id, night) for night in stay.days()]
