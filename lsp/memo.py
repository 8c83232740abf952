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

__all__ = ["PER_DEFINITION", "Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Size of the memos that hold one result per definition (parse, lint, verdict, tokens,
#: symbols): a least-recently-used memo smaller than the definitions of a file, asked for
#: them in file order after each edit, would find none of them again.
PER_DEFINITION = 4096

#: How long a thread waits for another one computing the same result before computing it
#: itself (a safety net: results never depend on each other in a cycle).
_PATIENCE = 5.0


class _Running:
    """A result being computed by ``owner``; a thread asking for it meanwhile waits on
    ``done`` (made only then: most results are never asked for twice at once)."""

    __slots__ = ("done", "found", "owner", "value")

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done: threading.Event | None = None
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
        items = self._items
        try:  # a hit takes no lock: each OrderedDict operation is atomic under the GIL
            value = items[key]
        except KeyError:
            return self._miss(key, compute)
        try:
            items.move_to_end(key)
        except KeyError:
            pass  # dropped meanwhile by another thread: still the right value
        return value

    def peek(self, key: K) -> V | None:
        """The result for ``key`` if known (a use, for the LRU order), else None."""
        items = self._items
        try:
            value = items[key]
            items.move_to_end(key)
        except KeyError:
            return None
        return value

    def _miss(self, key: K, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = _Running()
                done = None
            elif running.owner == threading.get_ident():
                done = None  # asked again while computing it: compute it again
            else:
                done = running.done = running.done or threading.Event()
        if done is not None:
            if done.wait(_PATIENCE) and running.found:
                return running.value  # type: ignore[return-value]
            return compute()  # it failed (its caller has the exception), or is too slow
        try:
            value = compute()
        except BaseException:
            self._finish(key, running, None, found=False)
            raise
        self._finish(key, running, value, found=True)
        return value

    def _finish(self, key: K, running: _Running, value: object, found: bool) -> None:
        with self._lock:
            if found:
                self._items[key] = value  # type: ignore[assignment]
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            if self._running.get(key) is running:
                del self._running[key]
            running.value, running.found = value, found
            done = running.done
        if done is not None:
            done.set()

    def __contains__(self, key: K) -> bool:
        return key in self._items

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
