"""Regular expressions that cannot hang: ``matches``, ``regexGroup`` and ``like`` run on RE2.

PQL documents Java regular expressions; the interpreter runs them on RE2 (``google-re2``), whose
matching time is linear in the input, so a pattern from an untrusted definition such as
``(a+)+$`` on a long string finishes in microseconds instead of backtracking for hours. RE2 has
no backreferences, lookaround, possessive quantifiers or atomic groups: such a pattern is refused
with a message naming the feature. Compiled patterns are cached (bounded).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import re2

__all__ = ["RegexError", "compile_regex", "like_regex"]

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


@lru_cache(maxsize=512)
def compile_regex(pattern: str) -> Any:
    """The compiled RE2 pattern, or :class:`RegexError` naming the unsupported feature."""
    for detector, feature in _UNSUPPORTED:
        if detector.search(pattern):
            raise RegexError(
                f"regular expression {pattern!r} uses {feature}, which the linear-time engine "
                "(RE2) does not support")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(f"invalid regular expression {pattern!r}: {reason}") from None


@lru_cache(maxsize=512)
def like_regex(pattern: str) -> Any:
    """The RE2 pattern for SQL ``LIKE``: ``%`` any run, ``_`` one character, whole string."""
    parts = []
    for ch in pattern:
        if ch == "%":
            parts.append(".*")
        elif ch == "_":
            parts.append(".")
        else:
            parts.append(re.escape(ch))
    return compile_regex("(?s)\\A" + "".join(parts) + "\\z")
