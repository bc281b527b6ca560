"""The aggregate cache's copies (CheapCacheCopy): a copy and its original go their own ways.

The cache deepcopies an aggregate on every read and on every save; these
aggregates share their attributes' values with the copy, so an event applied to
one must never show in the other.
"""

import copy
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from berth.domain.booking import Booking
from berth.domain.cancellation import CancellationPolicy
from berth.domain.pool import Pool
from berth.domain.reference import BookingReference
from berth.domain.stay import Stay

NOW = datetime(2027, 1, 1, 12, tzinfo=UTC)
CAUSE = {"actor": "test"}


def a_pool() -> Pool:
    return Pool.add(
        pool_id=uuid4(),
        facility_id=uuid4(),
        time_zone="UTC",
        name="Pool",
        capacity=10,
        nightly_price=1500,
        currency="EUR",
        cancellation=CancellationPolicy(),
        now=NOW,
        cause=CAUSE,
    )


def a_booking() -> Booking:
    return Booking.hold(
        booking_id=uuid4(),
        reference="7Q4M2XKD",
        facility_id=uuid4(),
        pool_id=uuid4(),
        channel="direct",
        stay=Stay(date(2027, 2, 1), date(2027, 2, 3)),
        quantity=1,
        guest={"name": "Guest"},
        plates=["AB-123"],
        hold_expires_at=NOW + timedelta(minutes=15),
        nightly_price=1500,
        currency="EUR",
        time_zone="UTC",
        cancellation=CancellationPolicy(),
        now=NOW,
        cause=CAUSE,
    )


def test_a_pools_copy_and_the_pool_change_apart() -> None:
    pool = a_pool()
    pool.record_rate_plan(code="early", now=NOW, cause=CAUSE)
    copied = copy.deepcopy(pool)

    copied.record_rate_plan(code="late", now=NOW, cause=CAUSE)
    copied.set_tax_rate(rate_bp=2000, now=NOW, cause=CAUSE)

    assert (pool.rate_plan_codes, pool.tax_rate_bp, pool.version) == (["early"], 0, 2)
    assert (copied.rate_plan_codes, copied.tax_rate_bp, copied.version) == (
        ["early", "late"],
        2000,
        4,
    )
    assert len(pool.collect_events()) == 2  # its own pending events, none of the copy's
    assert len(copied.collect_events()) == 4


def test_a_bookings_copy_keeps_its_own_pending_refunds() -> None:
    booking = a_booking()
    booking.confirm(now=NOW, cause=CAUSE)
    booking.record_payment(
        payment_id="p1", amount=3000, currency="EUR", method="card", now=NOW, cause=CAUSE
    )
    booking.request_refund(
        refund_id="r1", amount=1000, currency="EUR", reason="", now=NOW, cause=CAUSE
    )
    copied = copy.deepcopy(booking)

    copied.request_refund(
        refund_id="r2", amount=500, currency="EUR", reason="", now=NOW, cause=CAUSE
    )
    copied.settle_refund(refund_id="r1", succeeded=True, reason="", now=NOW, cause=CAUSE)

    assert booking.pending_refunds == {"r1": 1000}
    assert booking.refundable() == 2000
    assert copied.pending_refunds == {"r2": 500}
    assert copied.refundable() == 1500
    assert len(booking.collect_events()) == 4


def test_a_references_copy_is_a_new_object_with_its_own_pending_events() -> None:
    reference = BookingReference.claim(
        reference="7Q4M2XKD", booking_id=uuid4(), now=NOW, cause=CAUSE
    )
    copied = copy.deepcopy(reference)

    assert copied is not reference
    assert (copied.id, copied.version, copied.booking_id) == (
        reference.id,
        reference.version,
        reference.booking_id,
    )
    assert len(copied.collect_events()) == 1
    assert len(reference.collect_events()) == 1  # collecting the copy's left the original's
