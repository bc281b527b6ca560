"""The bytes the event store's hash chain covers, computed apart from the database.

Migration 0010 chains every event stored in ``berth_events`` to the one before it:

    link(n) = SHA-256(link(n-1) || record(n)),   link(0) = GENESIS (32 zero bytes)

where ``record`` is, in this order:

    originator_id        16 bytes (the UUID's bytes)
    originator_version    8 bytes, big-endian two's complement
    topic                 4-byte big-endian length, then UTF-8 (NULL: length -1, no bytes)
    state                 4-byte big-endian length, then the stored bytes (NULL: as above)
    notification_id       8 bytes, big-endian (the event's position in the store)

The trigger computes it in SQL; verification recomputes it here, so a verifier
need not trust the database's own functions.
"""

import hashlib
import struct

GENESIS = bytes(32)

_INT8 = struct.Struct(">q")
_INT4 = struct.Struct(">i")
_NULL = _INT4.pack(-1)


def record(
    originator_id: bytes,
    originator_version: int,
    topic: str | None,
    state: bytes | None,
    position: int,
) -> bytes:
    """The canonical bytes of one stored event (``originator_id`` as its 16 bytes)."""
    topic_bytes = _NULL if topic is None else _length_prefixed(topic.encode("utf-8"))
    state_bytes = _NULL if state is None else _length_prefixed(state)
    return (
        originator_id
        + _INT8.pack(originator_version)
        + topic_bytes
        + state_bytes
        + _INT8.pack(position)
    )


def link(previous: bytes, record_bytes: bytes) -> bytes:
    """The chain link of an event whose predecessor's link is ``previous``."""
    return hashlib.sha256(previous + record_bytes).digest()


def _length_prefixed(data: bytes) -> bytes:
    return _INT4.pack(len(data)) + data
