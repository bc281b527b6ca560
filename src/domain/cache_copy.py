"""A cheap copy for the aggregate cache, which copies an aggregate on every read."""

import copy
from typing import ClassVar, Self


class CheapCacheCopy:
    """For an aggregate whose events give its attributes new values rather than
    change them in place: its deepcopy shares their values with the original.

    An attribute that an event does change in place (a dict it adds a key to) is
    named in `_changed_in_place` and copied one level. The generic deepcopy walks
    every value an aggregate holds, on every read from the cache.
    """

    _changed_in_place: ClassVar[tuple[str, ...]] = ()

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        copied = object.__new__(type(self))
        state = vars(copied)
        state.update(vars(self))
        for name in self._changed_in_place:
            state[name] = copy.copy(state[name])
        state["_pending_events"] = list(state["_pending_events"])
        return copied
