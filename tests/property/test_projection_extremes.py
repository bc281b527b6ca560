"""Every event type, with the most extreme values the inlets accept, applies to every projection.

Each example makes a facility with everything in it — pools, capacity changes,
tax and overstay tariff, gates, bookings held, confirmed, amended, paid,
refunded (settled both ways), cancelled, expired, no-show, checked in and out
by hand and by plate reads (matched, overstaying, unmatched then resolved),
closed days, a reversed journal entry and a projection skip — with values at
the limits in `extremes`, then runs availability, bookings, ledger and occupancy
into real PostgreSQL: each must apply the whole log (no recorded failure), and
keep the values as the domain has them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import extremes as x
from berth.adapters.postgres.eventstore import open_reservations
from berth.domain.application import Reservations
from berth.domain.command_context import CommandContext
from berth.domain.stay import Stay, local_midnight
from projection_support import Clock, catch_up, cause, head

# Letters, marks, numbers, symbols and punctuation of every plane: no controls,
# surrogates, unassigned or private-use code points, and no spaces (a name is trimmed).
CHARACTERS = st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"))


def longest(length: int) -> st.SearchStrategy[str]:
    return st.text(CHARACTERS, min_size=length, max_size=length)


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    nights = draw(st.sampled_from([1, 2, x.MAX_NIGHTS]))
    quantity = draw(st.sampled_from([1, x.MAX_QUANTITY]))
    return {
        "time_zone": draw(st.sampled_from(x.TIME_ZONES)),
        "start": draw(
            st.sampled_from([x.FIRST_DATE, x.LAST_DATE - timedelta(days=x.MAX_NIGHTS + 3)])
        ),
        "nights": nights,
        "quantity": quantity,
        # The dearest night a booking of that size can have with its total within MAX_MONEY.
        "price": draw(st.sampled_from([x.MAX_MONEY // (nights * quantity), 0])),
        "capacity": x.MAX_CAPACITY,
        "tax_rate_bp": draw(st.sampled_from([0, x.MAX_TAX_RATE_BP])),
        "facility_name": draw(longest(x.FACILITY_NAME)),
        "pool_name": draw(longest(x.POOL_NAME)),
        "gate_name": draw(longest(x.GATE_NAME)),
        "given_name": draw(longest(x.GUEST_NAME)),
        "family_name": draw(longest(x.GUEST_NAME)),
        "phone": draw(longest(x.PHONE)),
        "reason": draw(longest(x.REASON)),
        "method": draw(longest(x.PAYMENT_METHOD)),
        "plates": draw(
            st.lists(longest(x.PLATE), min_size=x.PLATES, max_size=x.PLATES, unique=True)
        ),
    }


def email() -> str:
    local = "e" * 64
    return local + "@" + ".".join(["d" * 63, "d" * 63, "d" * 57, "com"])  # 254 characters


class Scenario:
    def __init__(
        self, url: str, app: Reservations, clock: Clock, values: dict[str, object]
    ) -> None:
        self.url, self.app, self.clock, self.v = url, app, clock, values
        self.tz = str(values["time_zone"])
        self.start: date = values["start"]  # type: ignore[assignment]
        clock.now = local_midnight(self.start, self.tz) - timedelta(days=2)

    def at(self, day: date, hour: int) -> datetime:
        return local_midnight(day, self.tz) + timedelta(hours=hour)

    def run(self) -> dict[str, UUID]:
        app, v, c = self.app, self.v, cause()
        nights: int = v["nights"]  # type: ignore[assignment]
        quantity: int = v["quantity"]  # type: ignore[assignment]
        facility = app.catalogue.register_facility(
            name=str(v["facility_name"]), time_zone=self.tz, context=CommandContext(cause=c)
        ).id
        pool = app.catalogue.add_pool(
            facility_id=facility, name=str(v["pool_name"]), capacity=int(v["capacity"]),  # type: ignore[call-overload]
            nightly_price=int(v["price"]), currency="EUR", context=CommandContext(cause=c),  # type: ignore[call-overload]
        ).id  # fmt: skip
        app.catalogue.set_tax_rate(
            pool_id=pool, rate_bp=int(v["tax_rate_bp"]), context=CommandContext(cause=c)
        )  # type: ignore[call-overload]
        stay = Stay(self.start, self.start + timedelta(days=nights))
        app.catalogue.change_capacity(
            pool_id=pool, first_night=stay.arrival, last_night=stay.departure - timedelta(days=1),
            capacity=x.MAX_CAPACITY, context=CommandContext(cause=c),
        )  # fmt: skip
        gates: dict[str, UUID] = {}
        for way in ("entry", "exit"):
            gates[way] = app.gates.add_gate(
                facility_id=facility,
                name=f"{way}{v['gate_name']}"[: x.GATE_NAME],
                direction=way,
                early_grace_minutes=x.MAX_GRACE_MINUTES,
                late_grace_minutes=0,
                passage_seconds=x.MAX_PASSAGE_SECONDS,
                context=CommandContext(cause=c),
            ).id
        guest = {
            "given_name": str(v["given_name"]), "family_name": str(v["family_name"]),
            "email": email(), "phone": str(v["phone"]),
        }  # fmt: skip
        plates: list[str] = v["plates"]  # type: ignore[assignment]
        reason, method = str(v["reason"]), str(v["method"])

        def book(**changes: object) -> UUID:
            kwargs: dict[str, object] = {
                "pool_id": pool, "stay": stay, "quantity": quantity, "guest": guest,
                "plates": plates, "context": CommandContext(cause=c),
            }  # fmt: skip
            kwargs.update(changes)
            return app.bookings.hold(**kwargs).id  # type: ignore[arg-type]

        def paid(booking_id: UUID) -> None:
            app.bookings.confirm(booking_id=booking_id, context=CommandContext(cause=c))
            total = app.bookings.booking(booking_id).total
            if total:
                app.bookings.record_payment(
                    booking_id=booking_id, amount=total, currency="EUR", method=method,
                    payment_id="p" * x.PAYMENT_ID, context=CommandContext(cause=c),
                )  # fmt: skip

        hourly = x.MAX_MONEY // 1000
        app.gates.set_overstay_tariff(pool_id=pool, hourly=hourly, context=CommandContext(cause=c))
        ids: dict[str, UUID] = {}
        ids["amended"] = book()
        app.bookings.confirm(booking_id=ids["amended"], context=CommandContext(cause=c))
        app.bookings.amend(
            booking_id=ids["amended"], guest={**guest, "family_name": reason[: x.GUEST_NAME]},
            plates=list(reversed(plates)), context=CommandContext(cause=c),
        )  # fmt: skip
        ids["refunded"] = book(plates=[])
        paid(ids["refunded"])
        total = app.bookings.booking(ids["refunded"]).total
        if total:
            halves = (("a", total // 2 or total, True), ("b", total - total // 2, False))
            for refund, amount, succeeded in halves:
                refund_id = refund * x.REFUND_ID
                app.bookings.request_refund(
                    booking_id=ids["refunded"], amount=amount, currency="EUR", reason=reason,
                    refund_id=refund_id, context=CommandContext(cause=c),
                )  # fmt: skip
                app.bookings.settle_refund(
                    booking_id=ids["refunded"], refund_id=refund_id, succeeded=succeeded,
                    reason=reason, context=CommandContext(cause=c),
                )  # fmt: skip
        ids["cancelled"] = book(plates=[])
        app.bookings.cancel(
            booking_id=ids["cancelled"], reason=reason, context=CommandContext(cause=c)
        )
        ids["expired"] = book(plates=[], hold_for=timedelta(minutes=1))
        ids["no_show"] = book(plates=[])
        ids["by_hand"] = book(plates=[])
        ids["by_gate"] = book(plates=[plates[0]])
        for booking_id in (ids["no_show"], ids["by_hand"], ids["by_gate"]):
            paid(booking_id)
        self.clock.now += timedelta(minutes=2)
        app.bookings.expire(booking_id=ids["expired"], context=CommandContext(cause=c))

        self.clock.now = self.at(stay.arrival, 12)
        app.bookings.record_no_show(booking_id=ids["no_show"], context=CommandContext(cause=c))
        app.bookings.check_in(booking_id=ids["by_hand"], context=CommandContext(cause=c))
        self.read(gates["entry"], plates[0], (ids["by_gate"],))
        stray = self.read(gates["entry"], plates[-1], ())
        app.gates.resolve_read(
            facility_id=facility,
            read_id=stray,
            booking_id=None,
            note=reason,
            context=CommandContext(cause=c),
        )
        self.clock.now = self.at(stay.departure, 3)
        app.bookings.check_out(booking_id=ids["by_hand"], context=CommandContext(cause=c))
        self.read(gates["exit"], plates[0], (ids["by_gate"],))  # three hours late: overstay
        for day in (stay.arrival, stay.arrival + timedelta(days=1)):
            if day < stay.departure:
                app.finance.close_day(
                    facility_id=facility, business_date=day, context=CommandContext(cause=c)
                )
        catch_up(self.url, app, "ledger")
        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT entry_id FROM ledger_journal WHERE facility_id = %s LIMIT 1", (facility,)
            ).fetchone()
        if row is not None:
            app.finance.reverse_entry(
                facility_id=facility,
                entry_id=row[0],
                reason=reason,
                context=CommandContext(cause=c),
            )
        app.projections.skip_event(
            projection="archive",
            position=head(self.url) + 10**9,
            reason=reason,
            context=CommandContext(cause=c),
        )
        return ids

    def read(self, gate: UUID, plate: str, booking_ids: tuple[UUID, ...]) -> str:
        read_id = ("r" + uuid4().hex) * (x.READ_ID // 33) + "r" * (x.READ_ID % 33)
        self.app.gates.record_plate_read(
            read_id=read_id,
            camera_id="c" * x.CAMERA_ID,
            gate_id=gate,
            plate=plate,
            confidence=1.0,
            captured_at=self.clock.now,
            candidates=[plate] * 10,
            image_ref="i" * x.IMAGE_REF,
            booking_ids=booking_ids,
            context=CommandContext(cause=cause()),
        )
        return read_id


@contextmanager
def opened(db_url: str) -> Iterator[tuple[Reservations, Clock]]:
    """The application, opened for one example and closed before the next is drawn:
    its pool's threads draw from the global `random` (jitter) while they connect,
    and Hypothesis warns when that moves while an example is generated."""
    clock = Clock(datetime(2000, 1, 1, tzinfo=UTC))
    app = open_reservations(db_url, clock=clock)
    try:
        yield app, clock
    finally:
        app.close()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=scenarios())
def test_every_projection_applies_every_event_at_the_accepted_extremes(
    db_url: str, values: dict[str, object]
) -> None:
    with opened(db_url) as (app, clock):
        check_extremes(db_url, app, clock, values)


def check_extremes(db_url: str, app: Reservations, clock: Clock, values: dict[str, object]) -> None:
    ids = Scenario(db_url, app, clock, values).run()

    end = head(db_url)
    assert catch_up(db_url, app) == dict.fromkeys(
        ("availability", "bookings", "ledger", "occupancy", "catalogue"), end
    )
    with psycopg.connect(db_url) as conn:
        for name, booking_id in ids.items():
            booking = app.bookings.booking(booking_id)
            row = conn.execute(
                "SELECT total, paid, refunded, guest, plates, quantity FROM bookings"
                " WHERE booking_id = %s",
                (booking_id,),
            ).fetchone()
            assert row is not None, name
            assert row[0] == booking.total and row[5] == booking.quantity, name
            assert row[3]["given_name"] == booking.guest["given_name"], name
            assert row[4] == booking.plates, name
        failures = conn.execute("SELECT count(*) FROM projection_failures").fetchone()
    assert failures == (0,)
