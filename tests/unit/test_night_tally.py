"""A night's tally (its running total and holds by expiry) always agrees with its allocations.

The tally is what lets a busy night count what is sold without visiting every
hold; these properties compare it, after any sequence of commands and any
passage of time, with the sum the rule is defined by.
"""

import copy
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, UUIDAsHex
from eventsourcing.utils import get_topic
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.domain.inventory import NightInventory, NoCapacity
from berth.domain.transcodings import DateAsISO

START = datetime(2027, 1, 1, 12, tzinfo=UTC)
CAUSE = {"principal": "test"}

BOOKINGS = [UUID(int=n) for n in range(1, 7)]

step = st.one_of(
    st.tuples(
        st.just("allocate"),
        st.sampled_from(BOOKINGS),
        st.integers(1, 3),
        st.one_of(st.none(), st.integers(1, 40)),  # minutes until the hold expires; None: firm
    ),
    st.tuples(st.just("firm"), st.sampled_from(BOOKINGS), st.integers(1, 3)),
    st.tuples(st.just("release"), st.sampled_from(BOOKINGS)),
    st.tuples(st.just("wait"), st.integers(0, 25)),
)


def naive_sold(night: NightInventory, now: datetime, excluding: UUID | None = None) -> int:
    """The rule as stated: confirmed quantity plus holds not expired at `now`."""
    return sum(
        a["quantity"]
        for key, a in night.allocations.items()
        if key != str(excluding) and (a["expires_at"] is None or a["expires_at"] > now)
    )


def agrees(night: NightInventory, now: datetime) -> None:
    for excluding in (None, *BOOKINGS):
        assert night.sold(now=now, excluding=excluding) == naive_sold(night, now, excluding)
    tally = night.tally()
    assert tally.total == sum(a["quantity"] for a in night.allocations.values())
    assert tally.expiring == sorted(
        (a["expires_at"], key) for key, a in night.allocations.items() if a["expires_at"]
    )


def run(night: NightInventory, steps: list[tuple], now: datetime) -> datetime:
    """Apply the steps to the night, checking the tally after each; the time after them."""
    for kind, *args in steps:
        if kind == "wait":
            now += timedelta(minutes=args[0])
        else:
            now += timedelta(seconds=1)  # events of one aggregate in time order
        try:
            if kind == "allocate":
                booking, quantity, minutes = args
                expires = None if minutes is None else now + timedelta(minutes=minutes)
                night.allocate(
                    booking_id=booking, quantity=quantity, expires_at=expires, now=now, cause=CAUSE
                )
            elif kind == "firm":
                night.firm(booking_id=args[0], quantity=args[1], now=now, cause=CAUSE)
            elif kind == "release":
                night.release(booking_id=args[0], now=now, cause=CAUSE)
        except NoCapacity:
            pass
        agrees(night, now)
        assert night.sold(now=now) <= night.capacity
    return now


def restored_from_snapshot(night: NightInventory) -> NightInventory:
    """The night as a process that reads its stored snapshot rebuilds it."""
    snapshot = NightInventory.Snapshot.take(night)  # as the application takes it
    assert "_tally" not in snapshot.state
    assert get_topic(type(snapshot)) == get_topic(Snapshot)  # stored as the library's
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DateAsISO()):
        transcoder.register(transcoding)
    restored = NightInventory.Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=transcoder.decode(transcoder.encode(snapshot.state)),
    ).mutate(None)
    assert isinstance(restored, NightInventory)
    assert getattr(restored, "_tally", None) is None
    return restored


@settings(max_examples=300, deadline=None)
@given(st.lists(step, max_size=30), st.lists(step, min_size=1, max_size=10))
def test_the_tally_agrees_with_the_allocations_after_any_commands(
    before: list[tuple], after: list[tuple]
) -> None:
    night = NightInventory.open(
        pool_id=uuid4(), night=date(2027, 1, 2), capacity=8, now=START, cause=CAUSE
    )
    now = run(night, before, START)

    # A copy (the aggregate cache's) and a night rebuilt from its snapshot, whose
    # tally is built on its first use (here, by the next command), go on to agree.
    copied = copy.deepcopy(night)
    restored = restored_from_snapshot(night)
    assert restored.allocations == night.allocations
    ends = {run(each, after, now) for each in (night, copied, restored)}
    assert len(ends) == 1
    assert restored.allocations == copied.allocations == night.allocations
    later = ends.pop() + timedelta(minutes=30)
    agrees(restored, later)
    assert restored.sold(now=later) == night.sold(now=later)
