"""A long-running process's heap after startup, frozen so that full collections skip it.

CPython's full (generation 2) collection walks every object the collector tracks,
holding the GIL: every thread of a gunicorn worker waits meanwhile, a query behind a
command included. What startup makes (modules, classes, Falcon's routes, the
marshmallow schemas, the event mapper: about 72,000 objects in an API worker,
bench/gc_pauses.py) lives as long as the process and is never garbage, yet each full
collection would walk it again. `settle` collects once and moves what survives to
the permanent generation (`gc.freeze`), which collections never walk; what the
process makes afterwards (the aggregate cache, requests) is collected as before. A
web worker settles when its app is built, `berth worker` once its modules are
imported, before it builds its worker; `bench/gc_pauses.py` measures the pauses with
and without.
"""

from __future__ import annotations

import functools
import gc


@functools.cache
def settle() -> int:
    """Freeze what the process made so far, once; the objects now frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
