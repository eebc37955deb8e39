"""Process-level helpers for the bulk paths."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Cyclic GC off during a bulk job: it builds hundreds of thousands of short- and long-lived
    objects without reference cycles, which the collector would otherwise rescan again and again
    for nothing (reference counting still frees them). Measured: JSON parsing of profile items
    went from 63 to 15 µs per item with it paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
