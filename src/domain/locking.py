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
    """Locks `keys` around a command's read-check-save.

    `read` names aggregates the command will read under the locks (its booking, its
    pool): a lock that opens the command's transaction may bring them up to date in
    the same round trip, so the command reads them without another query.
    """

    def __call__(
        self, keys: Sequence[UUID], /, read: Sequence[UUID] = ()
    ) -> AbstractContextManager[None]: ...


@contextmanager
def no_lock(keys: Sequence[UUID], /, read: Sequence[UUID] = ()) -> Iterator[None]:
    """For in-memory use and tests: optimistic concurrency alone."""
    yield
