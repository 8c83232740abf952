"""PQL values at run time: null, Boolean coercion, field navigation, comparison and arithmetic.

Values are plain JSON-shaped Python objects (``dict``, ``list``, ``str``, ``int``, ``float``,
``bool``) plus :class:`~pqltools.runtime.timephrases.Interval` (``date(...)``) and
:class:`MapEntry`. ``None`` is PQL's null: an undefined path and an explicit JSON ``null`` mean
the same thing. The rules here are reference section 5; ``docs/semantics.md`` lists the choices
where it is silent.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from pqltools.limits import finite_number
from pqltools.records import record

Value = Any

_NUMBER_TYPES = (int, float)


@record(frozen=True, slots=True)
class MapEntry:
    """``mapEntry(key, value)``: one entry of the map a ``map(...)`` over a grouped map builds."""

    key: Any
    value: Any


def is_number(v: Value) -> bool:
    """True for int and float values, but not for Booleans (which Python counts as ints)."""
    return type(v) is int or type(v) is float


def truthy(v: Value) -> bool:
    """Boolean coercion (§5.1): null is false, a list is true iff non-empty, any other value true."""
    if v is None:
        return False
    if v is True or v is False:
        return v
    if type(v) is list:
        return len(v) > 0
    return True


def get_field(v: Value, name: str) -> Value:
    """``v.name``: a dict's field, or over a list the flattened list of the elements' fields.

    A path through an array yields the field of every element that has it, with list-valued
    fields flattened one level (``orders.items.sku`` is every sku of every order).
    """
    t = type(v)
    if t is dict:
        return v.get(name)
    if t is list:
        out: list[Any] = []
        for item in v:
            if type(item) is dict:
                found = item.get(name)
                if found is None:
                    continue
                if type(found) is list:
                    out.extend(found)
                else:
                    out.append(found)
        return out
    return None


def coerce_like(left: Value, right: Value) -> Value:
    """The right operand converted to the left operand's type where PQL does so (§1).

    ``"true"``/``"false"`` become Booleans next to a Boolean and numeric strings become numbers
    next to a number; anything else is returned unchanged.
    """
    if type(right) is str:
        if left is True or left is False:
            low = right.strip().lower()
            if low == "true":
                return True
            if low == "false":
                return False
        elif is_number(left):
            try:
                number = float(right)
            except ValueError:
                return right
            if math.isfinite(number):
                return int(number) if number.is_integer() and "." not in right else number
    return right


def scalar_equal(a: Value, b: Value) -> bool:
    """``a = b`` for two non-null values (lists compare element-wise, as values)."""
    ta, tb = type(a), type(b)
    if ta is tb and ta is not list:
        return bool(a == b)
    b = coerce_like(a, b)
    tb = type(b)
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if is_number(a) and is_number(b):
        return bool(a == b)
    if ta is list and tb is list:
        return len(a) == len(b) and all(
            x is not None and y is not None and scalar_equal(x, y) for x, y in zip(a, b))
    if ta is tb:
        return bool(a == b)
    return False


def order(a: Value, b: Value) -> int | None:
    """-1, 0 or 1 comparing two numbers (or two strings); None when they are not comparable."""
    b = coerce_like(a, b)
    if is_number(a) and is_number(b):
        return int(a > b) - int(a < b)
    if type(a) is str and type(b) is str:
        return (a > b) - (a < b)
    return None


def _eq(a: Value, b: Value) -> bool:
    return scalar_equal(a, b)


def _ne(a: Value, b: Value) -> bool:
    return not scalar_equal(a, b)


def _ordered(test: Callable[[int], bool]) -> Callable[[Value, Value], bool]:
    def compare(a: Value, b: Value) -> bool:
        result = order(a, b)
        return result is not None and test(result)
    return compare


#: The relation each comparison operator tests on two non-null scalars.
RELATIONS: dict[str, Callable[[Value, Value], bool]] = {
    "=": _eq,
    "!=": _ne,
    "<": _ordered(lambda r: r < 0),
    "<=": _ordered(lambda r: r <= 0),
    ">": _ordered(lambda r: r > 0),
    ">=": _ordered(lambda r: r >= 0),
}


def compare(op: str, a: Value, b: Value) -> bool:
    """A comparison with §5 null rules: false when either side is null.

    A list on the left against a non-list on the right is existential: true when some element
    satisfies the relation (paths through arrays, §3.1).
    """
    if a is None or b is None:
        return False
    relation = RELATIONS[op]
    if type(a) is list and type(b) is not list:
        return any(x is not None and relation(x, b) for x in a)
    return relation(a, b)


class MemberSet:
    """The values of a list, for ``scalar_equal`` lookups in O(1) instead of a scan.

    Equality coerces its right operand to the left one's type (§1: ``1 = "1"``, ``true =
    "true"``), so a string element is also indexed under the number or Boolean it stands for.
    ``value in index`` tests ``scalar_equal(value, x)`` for some element ``x``;
    :meth:`holds` tests ``scalar_equal(x, value)``. Lists and objects are scanned. Used where a
    membership test would otherwise be quadratic (``a in b``, ``intersects``, ``subsetOf``).
    """

    __slots__ = ("as_bools", "as_numbers", "bools", "numbers", "others", "strings")

    def __init__(self, items: list[Any]) -> None:
        self.strings: set[str] = set()
        self.numbers: set[Any] = set()
        self.bools: set[bool] = set()
        self.as_numbers: set[Any] = set()  # what string elements coerce to
        self.as_bools: set[bool] = set()
        self.others: list[Any] = []
        for x in items:
            t = type(x)
            if t is str:
                self.strings.add(x)
                flag = coerce_like(True, x)
                if type(flag) is bool:
                    self.as_bools.add(flag)
                number = coerce_like(0, x)
                if type(number) is not str:
                    self.as_numbers.add(hashable(number))
            elif t is bool:
                self.bools.add(x)
            elif t is int or t is float:
                if not math.isnan(x):  # NaN equals nothing
                    self.numbers.add(hashable(x))
            elif x is not None:
                self.others.append(x)

    def __contains__(self, value: Value) -> bool:
        t = type(value)
        if t is str:
            return value in self.strings
        if t is bool:
            return value in self.bools or value in self.as_bools
        if t is int or t is float:
            key = hashable(value)
            return key in self.numbers or key in self.as_numbers
        return any(scalar_equal(value, x) for x in self.others)

    def holds(self, value: Value) -> bool:
        """Whether ``scalar_equal(x, value)`` for some element ``x`` (``value`` coerced)."""
        t = type(value)
        if t is str:
            if value in self.strings:
                return True
            flag = coerce_like(True, value)
            if type(flag) is bool and flag in self.bools:
                return True
            number = coerce_like(0, value)
            return type(number) is not str and hashable(number) in self.numbers
        if t is bool:
            return value in self.bools
        if t is int or t is float:
            return hashable(value) in self.numbers
        return any(scalar_equal(x, value) for x in self.others)


#: From this many comparisons on, a membership test indexes the list first.
_INDEX_FROM = 64


def contains_any(candidates: list[Any], container: list[Any], *, negate: bool = False) -> bool:
    """Whether some non-null candidate is (``negate``: is not) equal to an element of
    ``container``, in time linear in both lengths."""
    if len(candidates) * len(container) >= _INDEX_FROM:
        index = MemberSet(container)
        return any(c is not None and (c in index) != negate for c in candidates)
    return any(c is not None and any(x is not None and scalar_equal(c, x) for x in container)
               != negate for c in candidates)


def in_list(item: Value, container: Value, negate: bool) -> bool:
    """``item in list`` / ``item notIn list`` (§5.4: both false when either side is null).

    A list on the left is existential like the other comparisons: ``orders.storeId in [...]`` is
    true when some store id is in the list.
    """
    if type(item) is list and type(container) is list and not item:
        return False
    if container is None:
        return False
    candidates = item if type(item) is list else [item]
    return contains_any(candidates, container if type(container) is list else [container],
                        negate=negate)


def _divide(a: Any, b: Any) -> Any:
    return None if b == 0 else a / b


def _modulo(a: Any, b: Any) -> Any:
    # Java's remainder: the result takes the sign of the dividend (-7 % 3 = -1).
    if b == 0:
        return None
    if type(a) is float or type(b) is float:
        return math.fmod(a, b)
    rest = abs(a) % abs(b)
    return -rest if a < 0 else rest


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": _divide,
    "%": _modulo,
}


def arithmetic(op: str, a: Value, b: Value) -> Value:
    """``a op b`` on numbers; null when either side is null or not a number, or ``/ 0``.

    Maps combine key by key (computed attributes divide one per-key map by another); a map and a
    number combine value by value.
    """
    if a is None or b is None:
        return None
    if type(a) is dict or type(b) is dict:
        return _map_arithmetic(op, a, b)
    b = coerce_like(a, b)
    if not (is_number(a) and is_number(b)):
        return None
    try:
        result = _ARITH[op](a, b)
    except OverflowError:  # an integer beyond a double's range meeting a float
        return None
    # beyond a double's range (or NaN): null, so no number grows without bound (docs/limits.md)
    return finite_number(result)


def _map_arithmetic(op: str, a: Value, b: Value) -> Value:
    if type(a) is dict and type(b) is dict:
        return {k: arithmetic(op, v, b[k]) for k, v in a.items() if k in b}
    if type(a) is dict:
        return {k: arithmetic(op, v, b) for k, v in a.items()}
    return {k: arithmetic(op, a, v) for k, v in b.items()}


def hashable(v: Value) -> Any:
    """A hashable key standing for ``v`` (for ``distinct``, ``groupBy`` and set operations)."""
    t = type(v)
    if t is list:
        return ("list", tuple(hashable(x) for x in v))
    if t is dict:
        return ("dict", tuple(sorted((k, hashable(x)) for k, x in v.items())))
    if t is bool:
        return ("bool", v)
    if t is float and v.is_integer():
        return int(v)
    return v


def map_key(v: Value) -> str:
    """The string key a value becomes in a map (XDM maps have string keys): ``true``, ``3``."""
    if type(v) is str:
        return v
    if v is True or v is False:
        return "true" if v else "false"
    if type(v) is float and v.is_integer():
        return str(int(v))
    return str(v)


def type_name(v: Value) -> str:
    """The PQL name of a value's type, for error messages."""
    if v is None:
        return "null"
    if v is True or v is False:
        return "boolean"
    if is_number(v):
        return "number"
    names: dict[type, str] = {str: "string", list: "list", dict: "object"}
    return names.get(type(v), type(v).__name__)
