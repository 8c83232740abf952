"""Regular expressions for the SQL engines: RE2 as it is for DuckDB, proved Java for Spark.

The interpreter runs patterns on RE2 with find semantics. DuckDB's ``regexp_matches`` is RE2
with find semantics too, so the pattern goes through unchanged. Spark's ``RLIKE`` is
``java.util.regex`` ``Matcher.find()``, whose syntax overlaps RE2's but means different things in
places: ``.`` also stops at ``\\r`` and Unicode line separators, ``$`` also matches before a final
line break, ``\\s`` also matches vertical tab, ``(?i)`` folds ASCII only, ``[a[b]]`` is a nested
class and ``&&`` an intersection. :func:`translate` rewrites a pattern into the Java pattern that
means the same thing, token by token, and refuses (:class:`Untranslatable`, naming the feature)
everything it cannot prove equivalent.
"""

from __future__ import annotations

import re

__all__ = ["Untranslatable", "group_always_takes_part", "translate"]

_RE2_WHITESPACE = "\\t\\n\\f\\r "
_SAFE_ESCAPES = set("dDwW.\\[](){}*+?|^$-/tnrfAz")
_SPECIAL_PUNCT = set(".^$|()[]{}*+?\\")


class Untranslatable(ValueError):
    """The pattern uses a feature whose Java meaning differs from RE2's (message: which)."""


def translate(pattern: str, dialect: str) -> str:
    """``pattern`` for ``dialect``'s regex engine, with RE2's meaning (raises Untranslatable)."""
    if dialect == "duckdb":
        return pattern
    return _Java(pattern).run()


class _Java:
    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.out: list[str] = []
        # per open group: [repeats something inside, has an alternation]
        self.groups: list[list[bool]] = [[False, False]]
        self.closed: list[bool] | None = None
        self.unbounded = 0

    def _quantifier(self, text: str) -> str:
        """A repetition; refused on a group that repeats or alternates inside (Java's
        backtracking takes exponential time there, RE2 is linear)."""
        repeats = text not in ("?", "??")
        if repeats and self.closed is not None and (self.closed[0] or self.closed[1]):
            raise Untranslatable("a repeated group that itself repeats or alternates (Java's "
                                 "backtracking matcher can take exponential time on it)")
        self.groups[-1][0] = True
        self.closed = None
        if text[:1] in "*+" or (text.startswith("{") and text.rstrip("?").endswith(",}")):
            self.unbounded += 1
            if self.unbounded > 2:
                raise Untranslatable("more than two unbounded repetitions (Java's "
                                     "backtracking matcher can take polynomial time in the "
                                     "input's length on them; RE2 is linear)")
        return text

    def run(self) -> str:
        p = self.p
        if p.startswith("(?i)"):
            # RE2's (?i) folds Unicode case; Java's only ASCII unless UNICODE_CASE is on
            self.out.append("(?iu)")
            self.i = 4
        while self.i < len(p):
            c = p[self.i]
            if c == "\\":
                self.out.append(self._escape(in_class=False))
            elif c == "[":
                self.out.append(self._class())
            elif c == ".":
                self.out.append("[^\\n]")
                self.i += 1
            elif c == "$":
                self.out.append("\\z")
                self.i += 1
            elif c == "(":
                self.out.append(self._group())
                self.groups.append([False, False])
                self.closed = None
                continue
            elif c == ")":
                inner = self.groups.pop() if len(self.groups) > 1 else [False, False]
                self.groups[-1][0] |= inner[0]
                self.closed = inner
                self.out.append(c)
                self.i += 1
                continue
            elif c == "{":
                self.out.append(self._quantifier(self._repeat()))
            elif c in "*+?":
                lazy = p[self.i + 1:self.i + 2] == "?"
                self.out.append(self._quantifier(c + ("?" if lazy else "")))
                self.i += 2 if lazy else 1
                continue
            elif c == "|":
                self.groups[-1][1] = True
                self.out.append(c)
                self.i += 1
            else:
                self.out.append(c)
                self.i += 1
            self.closed = None
        return "".join(self.out)

    def _escape(self, in_class: bool) -> str:
        p = self.p
        if self.i + 1 >= len(p):
            raise Untranslatable("a trailing backslash")
        c = p[self.i + 1]
        self.i += 2
        if c == "s":
            return _RE2_WHITESPACE if in_class else f"[{_RE2_WHITESPACE}]"
        if c == "S":
            if in_class:
                raise Untranslatable("\\S inside a character class")
            return f"[^{_RE2_WHITESPACE}]"
        if c in _SAFE_ESCAPES and not (in_class and c in "Az"):
            return "\\" + c
        if not c.isalnum() and c.isascii():
            return "\\" + c
        raise Untranslatable(f"the escape \\{c}, which Java reads differently or RE2 lacks")

    def _class(self) -> str:
        p = self.p
        out = ["["]
        self.i += 1
        if self.i < len(p) and p[self.i] == "^":
            out.append("^")
            self.i += 1
        if self.i < len(p) and p[self.i] == "]":
            raise Untranslatable("a character class starting with ]")
        while self.i < len(p):
            c = p[self.i]
            if c == "]":
                self.i += 1
                out.append("]")
                return "".join(out)
            if c == "[":
                raise Untranslatable("[ inside a character class (a POSIX class or, in Java, "
                                     "a nested class)")
            if c == "&" and p.startswith("&&", self.i):
                raise Untranslatable("&& inside a character class (an intersection in Java)")
            if c == "\\":
                out.append(self._escape(in_class=True))
                continue
            out.append(c)
            self.i += 1
        raise Untranslatable("an unclosed character class")

    def _group(self) -> str:
        p = self.p
        if p.startswith("(?:", self.i):
            self.i += 3
            return "(?:"
        if p.startswith("(?P<", self.i):
            end = p.find(">", self.i)
            if end < 0:
                raise Untranslatable("an unfinished group name")
            self.i = end + 1
            return "("  # still capturing: `regexGroup` numbers groups as RE2 does
        if p.startswith("(?", self.i):
            raise Untranslatable("an inline flag group other than a leading (?i)")
        self.i += 1
        return "("

    def _repeat(self) -> str:
        p = self.p
        end = p.find("}", self.i)
        body = p[self.i + 1:end] if end > 0 else ""
        parts = body.split(",")
        if end < 0 or not (1 <= len(parts) <= 2) or not parts[0].isdigit() or (
                len(parts) == 2 and parts[1] and not parts[1].isdigit()):
            # RE2 reads a brace that is not a repetition as a literal; Java refuses it
            raise Untranslatable("a literal { (write \\{)")
        self.i = end + 1
        return "{" + body + "}"


_REPEAT = re.compile(r"\{(\d+)(,\d*)?\}")


def group_always_takes_part(pattern: str, index: int) -> bool:
    """Whether capturing group ``index`` (0: the whole match) of an RE2 ``pattern`` takes part
    in every match: it lies in no alternative (``|``) and under no repetition that allows none
    (``?``, ``*``, ``{0,n}``). False when the pattern uses ``\\Q...\\E``, which this scan does
    not follow. SQL's ``regexp_extract`` gives an empty string for a group that took no part in
    the match, where the interpreter gives null: only groups that always take part compile."""
    if index == 0:
        return True
    p, n = pattern, len(pattern)
    optional: set[int] = set()
    inside: list[list[int]] = [[]]  # per open group: the capturing groups within it
    alternates = [False]
    own: list[int | None] = []  # per open group: its own number when it captures
    last: list[int] = []  # the groups of the atom just closed (what a quantifier repeats)
    count = 0
    i = 0
    while i < n:
        c = p[i]
        closed: list[int] = []
        if c == "\\":
            if p.startswith("\\Q", i):
                return False
            i += 2
        elif c == "[":
            i = _class_end(p, i)
        elif c == "(":
            number: int | None = None
            if p.startswith(("(?P<", "(?<"), i):
                count += 1
                number = count
                i = p.index(">", i) + 1
            elif p.startswith("(?", i):
                j = i + 2
                while j < n and p[j] not in ":)":
                    j += 1
                if j < n and p[j] == ")":  # flags only, `(?i)`: not a group
                    i = j + 1
                    last = closed
                    continue
                i = j + 1
            else:
                count += 1
                number = count
                i += 1
            inside.append([])
            alternates.append(False)
            own.append(number)
        elif c == ")":
            within = inside.pop()
            if alternates.pop():
                optional.update(within)
            number = own.pop() if own else None
            closed = within + ([number] if number is not None else [])
            inside[-1].extend(closed)
            i += 1
        elif c == "|":
            alternates[-1] = True
            i += 1
        elif c in "*?+" or (c == "{" and _REPEAT.match(p, i)):
            found = _REPEAT.match(p, i) if c == "{" else None
            if c in "*?" or (found is not None and int(found.group(1)) == 0):
                optional.update(last)
            i = found.end() if found is not None else i + 1
            if i < n and p[i] == "?":  # lazy
                i += 1
        else:
            i += 1
        last = closed
    if alternates[0]:
        optional.update(inside[0])
    return index not in optional


def _class_end(p: str, i: int) -> int:
    """The index just past the character class opening at ``p[i]`` (RE2 syntax)."""
    j = i + 1
    if p.startswith("^", j):
        j += 1
    if p.startswith("]", j):  # a leading ] is a literal
        j += 1
    while j < len(p):
        if p[j] == "\\":
            j += 2
        elif p.startswith("[:", j) and ":]" in p[j + 2:]:
            j = p.index(":]", j + 2) + 2
        elif p[j] == "]":
            return j + 1
        else:
            j += 1
    return j
