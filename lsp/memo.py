"""A small thread-safe LRU memo: the server's requests run in worker threads.

Results are keyed by what they depend on (an expression's text, a definition's fingerprint, the
configuration), never by document or version: in a JSON file an edit changes one definition and
every other definition's parse, lint, tokens, variables and verdict are found here again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Pending:
    """A result being computed by one thread; a thread that asks for it meanwhile waits on
    ``done`` (made only then: most results are never asked for twice at once)."""

    __slots__ = ("done", "failed", "owner", "value")

    def __init__(self) -> None:
        self.done: threading.Event | None = None
        self.owner = threading.get_ident()
        self.failed = False
        self.value: object = None


class Memo(Generic[K, V]):
    """At most ``size`` results, least recently used dropped first.

    A result is computed once even when several threads ask for it at the same time (after an
    edit, the diagnostics and the requests an editor sends with them all need the new parse):
    the first computes it, the others wait for it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._pending: dict[K, _Pending] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The result for ``key``, computed (outside the lock) when not known."""
        items = self._items
        try:  # a hit needs no lock: each OrderedDict operation is atomic under the GIL
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
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = _Pending()
                done = None
            elif pending.owner == threading.get_ident():
                done = None  # asked again while computing it: compute it again
            else:
                done = pending.done = pending.done or threading.Event()
        if done is not None:
            done.wait()
            if not pending.failed:
                return pending.value  # type: ignore[return-value]
            return compute()  # the other thread failed: fail (or succeed) here on our own
        try:
            value = compute()
        except BaseException:
            self._finish(key, pending, failed=True)
            raise
        self._finish(key, pending, value=value)
        return value

    def _finish(self, key: K, pending: _Pending, value: object = None,
                failed: bool = False) -> None:
        with self._lock:
            if not failed:
                self._items[key] = value  # type: ignore[assignment]
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
            if self._pending.get(key) is pending:
                del self._pending[key]
            pending.value, pending.failed = value, failed
            done = pending.done
        if done is not None:
            done.set()

    def __contains__(self, key: K) -> bool:
        with self._lock:
            return key in self._items

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()
