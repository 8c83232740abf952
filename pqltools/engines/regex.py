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

__all__ = ["Untranslatable", "translate"]

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
            elif c == "{":
                self.out.append(self._repeat())
            else:
                self.out.append(c)
                self.i += 1
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
            return "(?:"
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
