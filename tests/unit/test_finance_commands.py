"""Finance commands on the write side: tax rates, one currency, night audit, reversals."""

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from berth.domain.application import Reservations
from berth.domain.audit_calendar import AuditCalendar, audit_calendar_id
from berth.domain.business_day import (
    BeforeFacilityOpened,
    BusinessDay,
    DayAlreadyClosed,
    DayNotOver,
    PreviousDayOpen,
    business_day_id,
)
from berth.domain.catalog_commands import UnknownFacility, UnknownPool
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.correction import EntryAlreadyReversed, ReasonRequired
from berth.domain.facility import MixedCurrency
from berth.domain.pool import InvalidTaxRate

from .conftest import PoolFactory
from .support import TODAY, Clock, night, store_size


def test_a_pool_has_no_tax_until_a_rate_is_set_in_basis_points(
    app: Reservations, cause: Cause, pool_id: UUID
) -> None:
    assert app.catalogue.pool(pool_id).tax_rate_bp == 0

    app.catalogue.set_tax_rate(pool_id=pool_id, rate_bp=2000, context=CommandContext(cause=cause))

    assert app.catalogue.pool(pool_id).tax_rate_bp == 2000


@pytest.mark.parametrize("rate", [-1, 10_001])
def test_a_tax_rate_outside_0_to_100_percent_is_refused(
    app: Reservations, cause: Cause, pool_id: UUID, rate: int
) -> None:
    before = store_size(app)
    with pytest.raises(InvalidTaxRate):
        app.catalogue.set_tax_rate(
            pool_id=pool_id, rate_bp=rate, context=CommandContext(cause=cause)
        )
    assert store_size(app) == before


def test_setting_the_tax_rate_of_an_unknown_pool_is_refused(
    app: Reservations, cause: Cause
) -> None:
    with pytest.raises(UnknownPool):
        app.catalogue.set_tax_rate(
            pool_id=uuid4(), rate_bp=2000, context=CommandContext(cause=cause)
        )


def test_a_facility_takes_the_currency_of_its_first_pool(
    app: Reservations, facility_id: UUID, make_pool: PoolFactory
) -> None:
    assert app.catalogue.facility(facility_id).currency is None

    make_pool(currency="GBP")
    make_pool(currency="GBP")

    assert app.catalogue.facility(facility_id).currency == "GBP"


def test_a_pool_in_a_second_currency_is_refused_and_stores_nothing(
    app: Reservations, make_pool: PoolFactory
) -> None:
    make_pool(currency="EUR")
    before = store_size(app)

    with pytest.raises(MixedCurrency):
        make_pool(currency="USD")

    assert store_size(app) == before


def test_closing_a_day_that_is_over_records_the_business_day(
    app: Reservations, cause: Cause, facility_id: UUID, clock: Clock
) -> None:
    clock.advance(days=1)
    result = app.finance.close_day(
        facility_id=facility_id, business_date=TODAY, context=CommandContext(cause=cause)
    )

    assert result.id == business_day_id(facility_id, TODAY)
    day = app.repository.get(result.id)
    assert isinstance(day, BusinessDay)
    assert (day.facility_id, day.business_date) == (facility_id, TODAY)


def test_closing_a_day_twice_is_refused(
    app: Reservations, cause: Cause, facility_id: UUID, clock: Clock
) -> None:
    clock.advance(days=1)
    app.finance.close_day(
        facility_id=facility_id, business_date=TODAY, context=CommandContext(cause=cause)
    )
    before = store_size(app)

    with pytest.raises(DayAlreadyClosed):
        app.finance.close_day(
            facility_id=facility_id, business_date=TODAY, context=CommandContext(cause=cause)
        )

    assert store_size(app) == before


def test_today_is_not_over_and_cannot_be_closed_until_midnight_at_the_facility(
    app: Reservations, cause: Cause, facility_id: UUID, clock: Clock
) -> None:
    before = store_size(app)
    with pytest.raises(DayNotOver):
        app.finance.close_day(
            facility_id=facility_id, business_date=TODAY, context=CommandContext(cause=cause)
        )
    with pytest.raises(DayNotOver):
        app.finance.close_day(
            facility_id=facility_id,
            business_date=TODAY + timedelta(days=1),
            context=CommandContext(cause=cause),
        )
    assert store_size(app) == before

    # 23:30 UTC on 1 June is 00:30 on 2 June in London: 1 June is over there.
    clock.set(clock.now.replace(hour=23, minute=30))
    app.finance.close_day(
        facility_id=facility_id, business_date=TODAY, context=CommandContext(cause=cause)
    )


def test_a_day_before_the_facility_was_registered_is_refused(
    app: Reservations, cause: Cause, facility_id: UUID, clock: Clock
) -> None:
    clock.advance(days=1)
    before = store_size(app)

    for day in (date(2000, 1, 1), TODAY - timedelta(days=1)):
        with pytest.raises(BeforeFacilityOpened):
            app.finance.close_day(
                facility_id=facility_id, business_date=day, context=CommandContext(cause=cause)
            )

    assert store_size(app) == before


def test_after_the_first_close_days_close_one_after_another(
    app: Reservations, cause: Cause, facility_id: UUID, clock: Clock
) -> None:
    clock.advance(days=10)
    first = TODAY + timedelta(days=3)  # the audit may start on any day since registration
    app.finance.close_day(
        facility_id=facility_id, business_date=first, context=CommandContext(cause=cause)
    )
    before = store_size(app)

    for day in (first + timedelta(days=2), TODAY, first - timedelta(days=1)):
        with pytest.raises(PreviousDayOpen):
            app.finance.close_day(
                facility_id=facility_id, business_date=day, context=CommandContext(cause=cause)
            )
    assert store_size(app) == before

    for offset in (1, 2, 3):
        app.finance.close_day(facility_id=facility_id, business_date=first + timedelta(days=offset),
                      context=CommandContext(cause=cause))  # fmt: skip
    calendar = app.repository.get(audit_calendar_id(facility_id))
    assert isinstance(calendar, AuditCalendar)
    assert (calendar.first_closed, calendar.last_closed) == (first, first + timedelta(days=3))


def test_days_closed_before_the_audit_calendar_existed_keep_their_place(
    app: Reservations, cause: Cause, facility_id: UUID, clock: Clock
) -> None:
    """Days stored by the old rules, out of order and with no calendar, go on closing."""
    clock.advance(days=10)
    for offset in (0, 2):  # as the old close_day saved them: the day alone
        app.save(
            BusinessDay.close(
                facility_id=facility_id, business_date=night(offset), time_zone="Europe/London",
                opened_on=TODAY, first_close=True, previous_closed=False, now=clock.now,
                cause={},
            )
        )  # fmt: skip

    app.finance.close_day(
        facility_id=facility_id, business_date=night(3), context=CommandContext(cause=cause)
    )  # the first
    app.finance.close_day(
        facility_id=facility_id, business_date=night(1), context=CommandContext(cause=cause)
    )  # 0 is closed
    app.finance.close_day(
        facility_id=facility_id, business_date=night(4), context=CommandContext(cause=cause)
    )
    with pytest.raises(DayAlreadyClosed):
        app.finance.close_day(
            facility_id=facility_id, business_date=night(2), context=CommandContext(cause=cause)
        )
    with pytest.raises(PreviousDayOpen):
        app.finance.close_day(
            facility_id=facility_id, business_date=night(6), context=CommandContext(cause=cause)
        )


def test_closing_a_day_of_an_unknown_facility_is_refused(app: Reservations, cause: Cause) -> None:
    with pytest.raises(UnknownFacility):
        app.finance.close_day(
            facility_id=uuid4(), business_date=TODAY, context=CommandContext(cause=cause)
        )


def test_an_entry_is_reversed_at_most_once_and_only_with_a_reason(
    app: Reservations, cause: Cause, facility_id: UUID
) -> None:
    entry = uuid4()
    with pytest.raises(ReasonRequired):
        app.finance.reverse_entry(
            facility_id=facility_id, entry_id=entry, reason=" ", context=CommandContext(cause=cause)
        )

    app.finance.reverse_entry(
        facility_id=facility_id,
        entry_id=entry,
        reason="posted twice",
        context=CommandContext(cause=cause),
    )

    with pytest.raises(EntryAlreadyReversed):
        app.finance.reverse_entry(
            facility_id=facility_id,
            entry_id=entry,
            reason="again",
            context=CommandContext(cause=cause),
        )
