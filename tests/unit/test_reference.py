"""Booking references: short, unambiguous when read out, and unique."""

import re
from collections.abc import Iterator
from uuid import UUID

from berth.domain.application import Reservations
from berth.domain.cause import Cause
from berth.domain.command_context import CommandContext
from berth.domain.reference import ALPHABET, LENGTH, new_reference

from .support import IN_MEMORY, Clock, HoldFn, stay

REFERENCE = re.compile(r"[0-9A-HJKMNP-TV-Z]{8}")


def test_the_alphabet_is_crockford_base_32_without_confusable_letters() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert REFERENCE.fullmatch(ALPHABET[:8])


def test_a_new_reference_is_eight_characters_of_the_alphabet() -> None:
    references = [new_reference() for _ in range(2000)]

    assert LENGTH == 8
    assert all(REFERENCE.fullmatch(r) for r in references)
    assert len(set(references)) == len(references)
    assert set("".join(references)) == set(ALPHABET)  # every character is in use


def test_a_booking_gets_a_reference_and_can_be_found_by_it(app: Reservations, hold: HoldFn) -> None:
    booking_id = hold().id
    reference = app.bookings.booking(booking_id).reference

    assert REFERENCE.fullmatch(reference)
    assert app.bookings.booking_by_reference(reference).id == booking_id
    assert app.bookings.booking_by_reference(reference.lower()).id == booking_id


def test_a_reference_already_taken_is_never_given_twice(clock: Clock, cause: Cause) -> None:
    offered: Iterator[str] = iter(["AAAA1111", "AAAA1111", "BBBB2222"])
    app = Reservations(IN_MEMORY, clock=clock, make_reference=lambda: next(offered))
    facility_id = app.catalogue.register_facility(
        name="F", time_zone="UTC", context=CommandContext(cause=cause)
    ).id
    pool_id: UUID = app.catalogue.add_pool(
        facility_id=facility_id,
        name="P",
        capacity=5,
        nightly_price=1,
        currency="EUR",
        context=CommandContext(cause=cause),
    ).id

    def hold() -> UUID:
        return app.bookings.hold(
            pool_id=pool_id,
            stay=stay(0),
            quantity=1,
            guest={"name": "A"},
            context=CommandContext(cause=cause),
        ).id

    first, second = hold(), hold()

    assert app.bookings.booking(first).reference == "AAAA1111"
    assert app.bookings.booking(second).reference == "BBBB2222"
    assert app.bookings.booking_by_reference("AAAA1111").id == first
    assert app.bookings.booking_by_reference("BBBB2222").id == second
    assert app.catalogue.sold(pool_id, stay(0).arrival) == 2  # the clash left no half-saved hold
