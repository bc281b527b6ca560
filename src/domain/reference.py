"""Short, human-friendly booking references, read out over the phone or typed at a gate.

A reference is unique because claiming it is an aggregate of its own, keyed by
the reference, saved in the same transaction as the booking: a collision is an
ordinary version conflict, and the command retries with a fresh reference.
"""

import secrets
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from berth.domain import recorded
from berth.domain.cache_copy import CheapCacheCopy

# Crockford's base 32 without the letters people confuse (I, L, O, U).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
REFERENCE_NAMESPACE = uuid5(NAMESPACE_URL, "https://berth.invalid/booking-reference")


def new_reference() -> str:
    """Eight characters, about 10^12 possibilities, e.g. `7Q4M2XKD`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def reference_id(reference: str) -> UUID:
    return uuid5(REFERENCE_NAMESPACE, reference.upper())


class BookingReference(CheapCacheCopy, Aggregate):
    class Claimed(recorded.Created):
        reference: str
        booking_id: UUID

    def __init__(self, *, reference: str, booking_id: UUID) -> None:
        self.reference = reference
        self.booking_id = booking_id

    @classmethod
    def claim(
        cls, *, reference: str, booking_id: UUID, now: datetime, cause: dict[str, str]
    ) -> "BookingReference":
        return cls._create(
            cls.Claimed,
            id=reference_id(reference),
            timestamp=now,
            cause=cause,
            reference=reference,
            booking_id=booking_id,
        )
