"""The lexer's regular expressions, compiled once when the parser cache is built.

Python compiles a regular expression in two steps: parsing it and generating its code (a list of
integers), both written in Python (``re._parser``, ``re._compiler``), then ``_sre.compile`` makes
the pattern object from the code, in C. Lark's contextual lexer compiles one scanner per parser
state the first time that state reads a token: the first step, for about 60 patterns, was the
largest cost of a cold ``pql``'s first parse (issue 9). ``grammar/pql.lark.cache`` also stores
each pattern's code (:func:`record`), and :class:`StoredPatterns` gives the lexer pattern objects
made from it by ``_sre.compile`` alone.

The objects are the ones :func:`re.compile` makes: a pattern object compares equal to another
when their pattern text, flags and code are equal, :func:`record` stores only codes that pass
that comparison, and the tests compare each stored pattern with :func:`re.compile`'s. The code
format belongs to the interpreter, so the stored codes are used only by the Python (version and
``_sre.MAGIC``) that wrote them; with any other, or for any pattern not stored, the lexer
compiles with :func:`re.compile` exactly as before.
"""

from __future__ import annotations

import importlib
import re
import sys
from array import array
from typing import Any

__all__ = ["StoredPatterns", "install", "key", "record"]

_sre: Any = importlib.import_module("_sre")
_re_parser: Any = importlib.import_module("re._parser")
_re_compiler: Any = importlib.import_module("re._compiler")

#: One stored pattern: (pattern, flags, flags of the compiled pattern, code as machine words,
#: number of groups, group names -> numbers, numbers -> names).
Entry = tuple[str, int, int, bytes, int, dict[str, int], tuple[str | None, ...]]


def key() -> str:
    """Which interpreter the stored codes are valid for."""
    return f"{sys.version}\0{_sre.MAGIC}\0{_sre.CODESIZE}"


def _code_array(words: list[int] | None = None) -> array[int]:
    return array("I", words or [])


def _entry(pattern: str, flags: int) -> Entry | None:
    """``pattern`` compiled as :func:`re._compiler.compile` does, or None if it cannot be stored."""
    if _code_array().itemsize != _sre.CODESIZE:  # pragma: no cover - no such platform here
        return None
    parsed = _re_parser.parse(pattern, flags)
    code: list[int] = _re_compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, number in groupindex.items():
        indexgroup[number] = name
    entry: Entry = (pattern, flags, flags | parsed.state.flags, _code_array(code).tobytes(),
                    parsed.state.groups - 1, groupindex, tuple(indexgroup))
    if _restore(entry) != re.compile(pattern, flags):  # pragma: no cover - defensive
        return None
    return entry


def _restore(entry: Entry) -> re.Pattern[str]:
    pattern, _, compiled_flags, code, groups, groupindex, indexgroup = entry
    words = array("I")
    words.frombytes(code)
    compiled: re.Pattern[str] = _sre.compile(pattern, compiled_flags, words.tolist(), groups,
                                             groupindex, indexgroup)
    return compiled


class StoredPatterns:
    """What Lark's lexer uses as its ``re`` module: ``compile`` and ``match``, from stored codes.

    Thread-safe (the language server's workers parse concurrently): a pattern compiled twice at
    the same moment is made twice, equal, and one of them kept.
    """

    error = re.error

    def __init__(self, entries: list[Entry]) -> None:
        self._stored = {(e[0], e[1]): e for e in entries}
        self._compiled: dict[tuple[str, int], re.Pattern[str]] = {}

    def __len__(self) -> int:
        return len(self._stored)

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        """:func:`re.compile`, from the stored code when there is one."""
        wanted = (pattern, int(flags))
        compiled = self._compiled.get(wanted)
        if compiled is None:
            entry = self._stored.get(wanted)
            compiled = None
            if entry is not None:
                try:
                    compiled = _restore(entry)
                except (RuntimeError, TypeError, ValueError, OverflowError):
                    compiled = None  # not this interpreter's code after all: compile it
            if compiled is None:
                compiled = re.compile(pattern, flags)
            self._compiled[wanted] = compiled
        return compiled

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match[str] | None:
        """:func:`re.match`."""
        return self.compile(pattern, flags).match(string)


def _basic_lexers(parser: Any) -> list[Any]:
    """The lexers of Lark's contextual lexer that compile scanners (one per set of terminals)."""
    lexer = parser.parser.lexer
    found = {id(x): x for x in [*getattr(lexer, "lexers", {}).values(),
                                getattr(lexer, "root_lexer", lexer)]}
    return [x for x in found.values() if hasattr(x, "re")]


class _Recorder:
    """An ``re`` stand-in that notes every pattern the lexer compiles."""

    error = re.error

    def __init__(self) -> None:
        self.seen: dict[tuple[str, int], None] = {}

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        self.seen[(pattern, int(flags))] = None
        return re.compile(pattern, flags)

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).match(string)


def record(parser: Any) -> list[Entry]:
    """Build every scanner of ``parser`` (a Lark LALR parser with the contextual lexer) and return
    the compiled code of each pattern they compile."""
    recorder = _Recorder()
    for lexer in _basic_lexers(parser):
        lexer.re = recorder
        lexer.scanner  # noqa: B018 - builds the scanner (compiling its patterns)
    entries = [_entry(pattern, flags) for pattern, flags in recorder.seen]
    return [e for e in entries if e is not None]


def install(parser: Any, entries: list[Entry]) -> StoredPatterns:
    """Have ``parser``'s lexer compile its scanners from ``entries`` (call before its first parse)."""
    patterns = StoredPatterns(entries)
    for lexer in _basic_lexers(parser):
        lexer.re = patterns
    return patterns
