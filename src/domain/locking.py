"""The port through which the application serialises commands on the same nights.

Optimistic concurrency on `NightInventory` is what keeps the capacity rule; a
lock taken in key order around read-check-save only removes the conflicts (and
their retries) on a hot night. The PostgreSQL adapter provides advisory locks.
"""

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol
from uuid import UUID


class NightLock(Protocol):
    def __call__(self, keys: Sequence[UUID], /) -> AbstractContextManager[None]: ...


@contextmanager
def no_lock(keys: Sequence[UUID], /) -> Iterator[None]:
    """For in-memory use and tests: optimistic concurrency alone."""
    yield
