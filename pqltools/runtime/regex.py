"""Regular expressions that cannot hang: ``matches``, ``regexGroup`` and ``like`` run on RE2.

PQL documents Java regular expressions; the interpreter runs them on RE2 (``google-re2``), whose
matching time is linear in the input, so a pattern from an untrusted definition such as
``(a+)+$`` on a long string finishes in microseconds instead of backtracking for hours. RE2 has
no backreferences, lookaround, possessive quantifiers or atomic groups: such a pattern is refused
with a message naming the feature. Compiled patterns are cached, bounded both by count and by
the total length of the cached patterns (RE2's memory grows with a pattern's size: 600 distinct
200 KB patterns held 580 MB when only the count was bounded); docs/limits.md.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import re2

from pqltools.records import record

__all__ = ["CacheLimits", "Pattern", "RegexError", "cache_limits", "compile_regex", "like_regex"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would otherwise print every rejected pattern to stderr
#: Bound on the memory RE2 may use per pattern (a 1 MB pattern of alternations fails cleanly).
_OPTIONS.max_mem = 32 << 20

_UNSUPPORTED = (
    (re.compile(r"\\[1-9]|\\k<"), "backreferences"),
    (re.compile(r"\(\?<?[=!]"), "lookahead/lookbehind"),
    (re.compile(r"\(\?>"), "atomic groups"),
    (re.compile(r"(?<!\\)[*+?}]\+"), "possessive quantifiers"),
)


class RegexError(ValueError):
    """A pattern RE2 cannot run; the message names the pattern and the reason."""


def _without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (JSON's ``\\ud800``: not a character, and not
    encodable as UTF-8, which RE2 needs) replaced by U+FFFD, keeping every index."""
    return _SURROGATE.sub("\ufffd", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


class Pattern:
    """A compiled RE2 pattern whose ``search`` accepts any Python string.

    Strings from JSON may hold lone surrogates, which RE2 cannot take: they are matched as
    U+FFFD (the pattern's own surrogates too), so they never abort an evaluation.
    """

    __slots__ = ("_regex", "groups")

    def __init__(self, regex: Any) -> None:
        self._regex = regex
        self.groups: int = regex.groups

    def search(self, text: str) -> Any:
        """The first match of the pattern in ``text``, or None."""
        try:
            return self._regex.search(text)
        except UnicodeEncodeError:
            return self._regex.search(_without_surrogates(text))


@record(frozen=True, slots=True)
class CacheLimits:
    """Bounds of the compiled-pattern cache: ``entries`` patterns, ``chars`` characters in all.

    A pattern longer than ``chars`` is compiled every time it is used, never cached.
    """

    entries: int = 512
    chars: int = 1_000_000


class _Cache:
    """A least-recently-used cache bounded by entry count and by total key length."""

    def __init__(self, limits: CacheLimits) -> None:
        self.limits = limits
        self.items: OrderedDict[str, Pattern] = OrderedDict()
        self.chars = 0
        self.lock = threading.Lock()

    def get(self, key: str, build: Callable[[str], Pattern]) -> Pattern:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
                return found
        value = build(key)
        if len(key) > self.limits.chars:
            return value
        with self.lock:
            if key not in self.items:
                self.items[key] = value
                self.chars += len(key)
                while self.items and (len(self.items) > self.limits.entries
                                      or self.chars > self.limits.chars):
                    old, _ = self.items.popitem(last=False)
                    self.chars -= len(old)
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.chars = 0


_REGEX_CACHE = _Cache(CacheLimits())
_LIKE_CACHE = _Cache(CacheLimits())


def cache_limits(limits: CacheLimits | None = None) -> CacheLimits:
    """The pattern cache's bounds; with ``limits``, set new ones (the caches are emptied)."""
    if limits is not None:
        for cache in (_REGEX_CACHE, _LIKE_CACHE):
            cache.limits = limits
            cache.clear()
    return _REGEX_CACHE.limits


def compile_regex(pattern: str) -> Pattern:
    """The compiled RE2 pattern, or :class:`RegexError` naming the unsupported feature."""
    return _REGEX_CACHE.get(pattern, _compile)


def _compile(pattern: str) -> Pattern:
    for detector, feature in _UNSUPPORTED:
        if detector.search(pattern):
            raise RegexError(
                f"regular expression {_shown(pattern)} uses {feature}, which the linear-time engine "
                "(RE2) does not support")
    try:
        return Pattern(re2.compile(_without_surrogates(pattern), _OPTIONS))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(f"invalid regular expression {_shown(pattern)}: {reason}") from None


def _shown(pattern: str) -> str:
    return repr(pattern if len(pattern) <= 80 else pattern[:79] + "…")


def like_regex(pattern: str) -> Pattern:
    """The RE2 pattern for SQL ``LIKE``: ``%`` any run, ``_`` one character, whole string."""
    return _LIKE_CACHE.get(pattern, _like)


def _like(pattern: str) -> Pattern:
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return _compile("(?s)\\A" + "".join(parts) + "\\z")
