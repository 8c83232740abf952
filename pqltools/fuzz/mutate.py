"""Seeds and mutations for the fuzzer: the tests' own inputs, bent the way an attacker would."""

from __future__ import annotations

import ast as pyast
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

__all__ = ["DICTIONARY", "Mutator", "builtin_seeds", "json_seeds", "pql_seeds", "repo_root"]

#: Fragments that broke, or nearly broke, something once: inserted at random places.
DICTIONARY = [
    "(", ")", "[", "]", "{", "}", '"', "'", "\\", ",", ".", ":", "=", "!=", "<", ">=", "-", "+",
    "*", "/", "%", "^", "^^^", "$1", "$0", "$99999999999", "@{", "@event{x}", "=>", "(x) =>",
    " and ", " or ", " not ", "!", " in ", " notIn ", " like ", " matches ", " occurs ",
    " before ", " after ", " between ", " now", " today", " this ", " last ", " next ", " days",
    " years", " millennia", "select x from ", "exists e from xEvent where ", "forall ",
    "sum ", " over ", "let a = ", " in ", "chain(xEvent, timestamp, [", "A: WHAT(", "WHEN(",
    "COUNT(", "WHERE(", "])", "true", "false", "null", "1e400", "-1e400", "1e-400", "0.0",
    "-0", "9" * 40, "9" * 320, "9" * 5000, "NaN", "Infinity", "-Infinity", "\ud800", "\udfff",
    "\x00", "\ufeff", "\u202e", "\u00a0", "\u2028", "\U0001f600", "\u201c", "\u2018", "\n",
    "\t", "\r\n", "--", " -- comment\n", '"\\u0000"', '"\\ud800"', '"(a+)+$"', '"\\\\1"',
    '"%_%"', "date(", "date(99999, 1, 1)", "date(0, 0, 0)", "xEvent", "timestamp",
    ".count()", ".distinct()", ".groupBy(", ".map(", ".topN(", ".regexGroup(", ".intersects(",
    ".containsAll(", ".values()", ".keys()", "inSegment(", "[", "homeAddress.countryCode",
    "person.name", "&&", "||", "==", "<>",
]

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_EXTREME_NUMBERS = ["1e400", "9" * 320, "9" * 5000, "0", "-0", "1e-400", "2147483648",
                    "9223372036854775808", "179769313486231570" + "0" * 291, "1" * 4301]
_JSON_EXTREMES = ["NaN", "Infinity", "-Infinity", "1e400", "9" * 400, "9" * 4301,
                  '"\\ud800"', '"\\udfff"', "[[[[[[[[[[]]]]]]]]]]", "null", "{}", "[]",
                  '"9999-12-31T23:59:59Z"', '"0001-01-01T00:00:00Z"', '"+275760-09-13T00:00:00Z"',
                  "-1", "1.5", "true", '"\\u0000"', '"x"']


def repo_root() -> Path | None:
    """The source checkout holding this package (with ``tests/``), or None when installed."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "tests").is_dir() and (root / "pyproject.toml").exists() else None


def builtin_seeds() -> list[str]:
    """A few expressions covering every construct, for installs without the test suite."""
    return [
        'homeAddress.countryCode = "US"',
        'person.birthDate.getAge() > 21 and emails.address.contains("@adobe.com")',
        'xEvent.any(timestamp occurs < 30 days before now and eventType = "commerce.purchases")',
        'select X from xEvent where X.timestamp occurs this month',
        ('chain(xEvent, timestamp, [A: WHAT(eventType = "a") WHEN(<= 2 days before now), '
         'B: WHAT(eventType = "b") COUNT(2)])'),
        ('sum X.commerce.order.priceTotal over X from xEvent where X.timestamp occurs last year '
         '> 100'),
        'let total = orders.price.sum() in total > 10 and total < 1000',
        ('xEvent[timestamp occurs between date(2024, 1, 1) and today].groupBy(eventType)'
         '.map((k, g) => g.count())'),
        'name.matches("^[A-Z][a-z]+$") or name like "A%_"',
        'inSegment("abc") and not (a in [1, 2, 3]) and b notIn ["x", "y"]',
        '{"a": 1, "b": [true, false]} = x and -(-3) = 3 and 1.5e3 / 0 = y % 7',
        'exists e from xEvent where e.timestamp occurs on today',
        'forall o from orders: o.price >= 0',
        '$1.person.age > ^.x and @{ctx.field} = 3',
    ]


def _strings_in_python(path: Path) -> Iterator[str]:
    try:
        tree = pyast.parse(path.read_text("utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Constant) and isinstance(node.value, str):
            yield node.value


def _strings_in_data(obj: object) -> Iterator[str]:
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _load_yaml(path: Path) -> object:
    try:
        import yaml  # the test extra has it; seeds come from the test suite anyway
    except ImportError:
        return None
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except Exception:  # noqa: BLE001 - a seed file we cannot read is just not a seed
        return None


def pql_seeds(limit: int = 1000, tries: int = 3000) -> list[str]:
    """Expressions from the test suite and the examples that parse, plus the built-in ones."""
    from pqltools.syntax.parser import ParseOptions, parse_document

    first_error = ParseOptions(max_errors=1)  # a candidate that is not PQL fails fast

    found: dict[str, None] = dict.fromkeys(builtin_seeds())
    root = repo_root()
    if root is not None:
        candidates: list[str] = []
        for path in sorted((root / "tests").rglob("*.py")):
            candidates.extend(_strings_in_python(path))
        for path in sorted((root / "tests").rglob("*.yaml")):
            candidates.extend(_strings_in_data(_load_yaml(path)))
        for path in sorted((root / "examples").rglob("*.pql")):
            candidates.append(path.read_text("utf-8", "replace"))
        for text in json_seeds():
            try:
                candidates.extend(_strings_in_data(json.loads(text)))
            except ValueError:
                continue
        # spread over the whole suite (every file contributes), bounded in parse attempts
        candidates = [t for t in dict.fromkeys(candidates) if 3 <= len(t) <= 400]
        random.Random(0).shuffle(candidates)
        for text in candidates[:tries]:
            if len(found) >= limit:
                break
            if text not in found and parse_document(text, first_error).expr is not None:
                found[text] = None
    return list(found)


def json_seeds() -> list[str]:
    """Segment-definition and schema JSON texts from the examples and tests."""
    out = [json.dumps({"name": "n", "expression": {"type": "PQL", "format": "pql/text",
                                                   "value": 'a = "b"'}})]
    root = repo_root()
    if root is not None:
        for folder in ("examples", "tests"):
            for path in sorted((root / folder).rglob("*.json")):
                if path.stat().st_size < 200_000:
                    out.append(path.read_text("utf-8", "replace"))
    return out


class Mutator:
    """Random edits of a seed: insertions from :data:`DICTIONARY`, deletions, splices, extreme
    numbers, deep nesting and repetition (to find super-linear costs)."""

    def __init__(self, rng: random.Random, seeds: list[str], *, max_len: int = 50_000,
                 json_mode: bool = False) -> None:
        self.rng = rng
        self.seeds = seeds
        self.max_len = max_len
        self.json_mode = json_mode

    def _pos(self, text: str) -> int:
        return self.rng.randint(0, len(text))

    def _slice(self, text: str) -> tuple[int, int]:
        a = self._pos(text)
        b = min(len(text), a + self.rng.choice((1, 2, 4, 8, 32, 256)))
        return a, b

    def one(self, text: str) -> str:
        """``text`` with one random edit."""
        rng = self.rng
        op = rng.randrange(11)
        if op == 0:
            p = self._pos(text)
            extra = rng.choice(_JSON_EXTREMES if self.json_mode and rng.random() < 0.5
                               else DICTIONARY)
            return text[:p] + extra + text[p:]
        if op == 1 and text:
            a, b = self._slice(text)
            return text[:a] + text[b:]
        if op == 2 and text:
            a, b = self._slice(text)
            return text[:b] + text[a:b] + text[b:]
        if op == 3:
            other = rng.choice(self.seeds)
            a, b = self._slice(other)
            p = self._pos(text)
            return text[:p] + other[a:b] + text[p:]
        if op == 4 and text:
            p = rng.randrange(len(text))
            ch = chr(rng.choice((rng.randrange(0x20, 0x7f), rng.randrange(0, 0x20),
                                 rng.randrange(0xd800, 0xe000), rng.randrange(0x80, 0x3000),
                                 rng.randrange(0x10000, 0x110000))))
            return text[:p] + ch + text[p + 1:]
        if op == 5:
            numbers = list(_NUMBER.finditer(text))
            if numbers:
                m = rng.choice(numbers)
                extremes = _JSON_EXTREMES if self.json_mode else _EXTREME_NUMBERS
                return text[: m.start()] + rng.choice(extremes) + text[m.end():]
        if op == 6:
            depth = rng.choice((10, 50, 99, 101, 200, 1000, 3000))
            opener, closer = rng.choice((("(", ")"), ("[", "]"), ("not ", ""), ("-", ""),
                                         ("a[", "]"), ('{"a": ', "}"), ("x.all(", ")")))
            if self.json_mode:
                opener, closer = rng.choice((("[", "]"), ('{"a": ', "}")))
            p = self._pos(text)
            return text[:p] + opener * depth + text[p:] + closer * depth
        if op == 7:
            return text[: self._pos(text)]
        if op == 8 and text and len(text) * 4 < self.max_len:
            joiner = rng.choice((" and ", " or ", ", ", "\n", ""))
            return joiner.join([text] * rng.choice((2, 3, 10, 100)))
        if op == 9 and text:
            a, b = self._slice(text)
            return text[:a] + text[a:b].upper() + text[b:]
        other = rng.choice(self.seeds)
        return text[: self._pos(text)] + other[self._pos(other):]

    def __call__(self, seed: str) -> str:
        text = seed
        for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3, 5))):
            text = self.one(text)
            if len(text) > self.max_len:
                text = text[: self.max_len]
        return text
