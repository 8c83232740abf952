"""A small thread-safe LRU memo: the server's requests run in worker threads.

Results are keyed by what they depend on (an expression's text, a definition's fingerprint, the
configuration), never by document or version: in a JSON file an edit changes one definition and
every other definition's parse, lint, tokens, variables and verdict are found here again.

Right after an edit the diagnostics, the semantic tokens and the document symbols are computed
in three threads at once, and all three need the edited definition's parse: a result being
computed is waited for, not computed again by each thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: How long a thread waits for another one computing the same result before computing it
#: itself (a safety net: results never depend on each other in a cycle).
_PATIENCE = 5.0


class _Running:
    """A result being computed by ``owner``."""

    __slots__ = ("done", "found", "owner", "value")

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()
        self.found = False
        self.value: object = None


class Memo(Generic[K, V]):
    """At most ``size`` results, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._running: dict[K, _Running] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result for ``key``, computed (outside the lock) when not known; when another
        thread is computing it, that thread's result."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = _Running()
                owner = True
            else:
                owner = False
        if not owner:
            if running.owner != threading.get_ident() and running.done.wait(_PATIENCE) \
                    and running.found:
                return running.value  # type: ignore[return-value]
            return compute()  # it failed (its caller has the exception), or is too slow
        try:
            value = compute()
        except BaseException:
            with self._lock:
                self._running.pop(key, None)
            running.done.set()
            raise
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            self._running.pop(key, None)
        running.value, running.found = value, True
        running.done.set()
        return value

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
