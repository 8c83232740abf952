"""A forgiving token scanner for editor features that must work on half-typed text.

The parser (``grammar/pql.lark``) decides what PQL *means*; this scanner only splits text into
words, literals, comments and punctuation so that highlighting and completion keep working while
the text does not parse (an unterminated string is still one string token). Keyword sets come
from :mod:`pqltools.syntax.ast`, the same vocabulary the grammar uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pqltools.syntax import ast

__all__ = ["CLAUSE_WORDS", "KEYWORDS", "TIME_WORDS", "Token", "scan"]

#: Reserved and contextual keywords (lower case; PQL keywords are case-insensitive).
KEYWORDS = frozenset({
    "and", "or", "not", "in", "notin", "like", "matches", "occurs", "select", "from", "where",
    "let", "over", "true", "false", "chain", "on", "between", "before", "after",
    *ast.QUANTIFIERS, *ast.AGGREGATES, *ast.PERIOD_RELATIONS,
})
#: Words of time phrases: units (singular and plural) and time keywords.
TIME_WORDS = frozenset({*ast.TIME_UNITS, *(u + "s" for u in ast.TIME_UNITS), "centuries",
                        "millennia", *ast.TIME_KEYWORDS})
#: Chain step clauses (``LABEL: WHAT(...) WHEN(...) COUNT(n) WHERE(...)``).
CLAUSE_WORDS = ("WHAT", "WHEN", "COUNT", "WHERE")

_PATTERNS = [
    ("string", r'"(?:[^"\\\n]|\\.)*"?'),
    ("number", r"(?:\d+\.\d+|\.\d+|\d+)(?:[eE][+-]?\d+)?"),
    ("word", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("param", r"\$\d+"),
    ("context", r"@[A-Za-z]*\{[^}\n]*\}?"),
    ("arrow", r"=>"),
    ("op", r"!=|<=|>=|[=<>+\-*/%!]"),
    ("caret", r"\^+"),
    ("punct", r"[()\[\]{},.:]"),
    ("space", r"\s+"),
    ("other", r"."),
]
_WITH_COMMENTS = re.compile("|".join(
    [r"(?P<comment>--[^\n]*)"] + [f"(?P<{k}>{p})" for k, p in _PATTERNS]), re.DOTALL)
_WITHOUT_COMMENTS = re.compile("|".join(f"(?P<{k}>{p})" for k, p in _PATTERNS), re.DOTALL)


@dataclass(frozen=True, slots=True)
class Token:
    """One scanned token: its kind (``word``, ``string``, ``op``...), text and offsets."""

    kind: str
    text: str
    start: int
    end: int


def scan(text: str, comments: bool, *, end: int | None = None) -> list[Token]:
    """The tokens of ``text[:end]`` without whitespace (comments only when ``comments``)."""
    pattern = _WITH_COMMENTS if comments else _WITHOUT_COMMENTS
    limit = len(text) if end is None else max(0, min(end, len(text)))
    out: list[Token] = []
    for m in pattern.finditer(text, 0, limit):
        kind = m.lastgroup or "other"
        if kind != "space":
            out.append(Token(kind, m.group(), m.start(), m.end()))
    return out
