"""Implementations of every function in :mod:`pqltools.catalog`, keyed by catalog name.

Calling conventions (the compiler relies on them):

* a method is ``impl(ctx, receiver, *args)``; a global function is ``impl(ctx, *args)``;
* an argument whose catalog parameter has ``element_scope`` arrives as an :data:`ElementFn`
  ``fn(ctx, element, key)`` (``key`` is the map key when the receiver is a grouped map) or None
  when the optional argument was left out; every other argument arrives as its value;
* ``if`` is a special form (its branches are evaluated lazily) compiled by the compiler itself.

A bad argument raises :class:`EvalProblem`; the compiler turns it into a
:class:`~pqltools.errors.PQLEvaluationError` pointing at the call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pqltools.limits import finite_number
from pqltools.runtime.context import Context
from pqltools.runtime.regex import RegexError, compile_regex
from pqltools.runtime.timephrases import DAY, Interval, TimestampError, from_millis, to_millis
from pqltools.runtime.values import (
    MapEntry,
    MemberSet,
    Value,
    get_field,
    hashable,
    is_number,
    map_key,
    scalar_equal,
    truthy,
    type_name,
)

__all__ = [
    "GLOBAL_IMPLS",
    "MEMBER_STATUSES",
    "METHOD_IMPLS",
    "SPECIAL_FORMS",
    "ElementFn",
    "EvalProblem",
    "aggregate",
    "elements",
]

ElementFn = Callable[[Context, Any, Any], Any]
Impl = Callable[..., Any]

#: Global functions the compiler implements itself because their arguments are lazy.
SPECIAL_FORMS = frozenset({"if"})
#: ``segmentMembership`` statuses that make ``inSegment`` true (reference 8.3, 11.2).
MEMBER_STATUSES = frozenset({"realized", "existing"})

METHOD_IMPLS: dict[str, Impl] = {}
GLOBAL_IMPLS: dict[str, Impl] = {}


class EvalProblem(ValueError):
    """A function cannot work on the values it was given (message in PQL's words)."""


def _method(name: str) -> Callable[[Impl], Impl]:
    def register(fn: Impl) -> Impl:
        METHOD_IMPLS[name] = fn
        return fn
    return register


def _global(name: str) -> Callable[[Impl], Impl]:
    def register(fn: Impl) -> Impl:
        GLOBAL_IMPLS[name] = fn
        return fn
    return register


def elements(v: Value) -> list[Any]:
    """The elements a list method works on: the list, [] for null, else the single value."""
    if type(v) is list:
        return v
    if v is None:
        return []
    return [v]


def _per_element(ctx: Context, items: list[Any], fn: ElementFn | None) -> list[Any]:
    if fn is None:
        return list(items)
    return [fn(ctx, item, None) for item in items]


# ---------------------------------------------------------------- global functions


@_global("date")
def _date(ctx: Context, year: Value, month: Value, day: Value) -> Interval | None:
    if year is None or month is None or day is None:
        return None
    parts = (year, month, day)
    if not all(type(p) is int or (type(p) is float and p.is_integer()) for p in parts):
        raise EvalProblem("date(year, month, day) needs whole numbers, got "
                          f"date({', '.join(_describe_number(p) for p in parts)})")
    try:
        start = datetime(int(year), int(month), int(day), tzinfo=from_millis(0).tzinfo)
    except (ValueError, OverflowError):
        shown = ", ".join(_describe_number(int(p)) for p in parts)
        raise EvalProblem(f"date({shown}) is not a calendar day (year 1-9999, month 1-12, "
                          "day within the month)") from None
    ms = to_millis(start.isoformat())
    return Interval(ms, ms + DAY)


def _describe_number(v: Value) -> str:
    """A number as it may appear in a message (a huge one by its size), else its type."""
    if type(v) is int:
        return str(v) if v.bit_length() <= 64 else f"a {len(str(abs(v)))}-digit number"
    if type(v) is float:
        return repr(v)
    return type_name(v)


def _clip(v: Value) -> str:
    text = repr(v)
    return text if len(text) <= 80 else text[:79] + "…"


def _count_argument(n: Value, what: str) -> int:
    """A count argument: a finite number, as an int."""
    if not is_number(n) or finite_number(n) is None:
        shown = _describe_number(n) if is_number(n) else f"a {type_name(n)}"
        raise EvalProblem(f"{what} must be a finite number, got {shown}")
    return int(n)


@_global("currentMonth")
def _current_month(ctx: Context) -> int:
    return from_millis(ctx.clock.now).month


@_global("currentYear")
def _current_year(ctx: Context) -> int:
    return from_millis(ctx.clock.now).year


@_global("currentDayOfMonth")
def _current_day(ctx: Context) -> int:
    return from_millis(ctx.clock.now).day


@_global("inSegment")
def _in_segment(ctx: Context, audience: Value) -> bool:
    if type(audience) is not str:
        return False
    if ctx.segments is not None and audience in ctx.segments:
        return ctx.segments[audience]
    membership = ctx.profile.get("segmentMembership")
    namespace = get_field(membership, "ups")
    if namespace is None and isinstance(membership, dict):  # Adobe writes "UPS" too
        namespace = next((v for k, v in membership.items()
                          if isinstance(k, str) and k.lower() == "ups"), None)
    status = get_field(get_field(namespace, audience), "status")
    return type(status) is str and status.lower() in MEMBER_STATUSES


@_global("mapEntry")
def _map_entry(ctx: Context, key: Value, value: Value) -> MapEntry:
    return MapEntry(key, value)


# ---------------------------------------------------------------- object


@_method("isNull")
def _is_null(ctx: Context, v: Value) -> bool:
    return v is None


@_method("isNotNull")
def _is_not_null(ctx: Context, v: Value) -> bool:
    return v is not None


# ---------------------------------------------------------------- lists


def _contains(items: list[Any], value: Value) -> bool:
    return value is not None and any(x is not None and scalar_equal(x, value) for x in items)


def _container(items: list[Any], lookups: int) -> Callable[[Value], bool]:
    """``value -> _contains(items, value)``, indexed when there are many lookups (linear
    instead of quadratic: two 20,000-element lists took 40 s)."""
    if len(items) * lookups >= 64:
        index = MemberSet(items)
        return lambda value: value is not None and index.holds(value)
    return lambda value: _contains(items, value)


@_method("intersects")
def _intersects(ctx: Context, a: Value, b: Value) -> bool:
    if a is None or b is None:
        return False
    mine = elements(a)
    contains = _container(elements(b), len(mine))
    return any(contains(x) for x in mine)


@_method("intersection")
def _intersection(ctx: Context, a: Value, b: Value) -> list[Any] | None:
    if a is None or b is None:
        return None
    mine = elements(a)
    contains = _container(elements(b), len(mine))
    common = _distinct([x for x in mine if contains(x)])
    return common or None


@_method("subsetOf")
def _subset_of(ctx: Context, a: Value, b: Value) -> bool:
    if a is None or b is None:
        return False
    mine = elements(a)
    contains = _container(elements(b), len(mine))
    return all(contains(x) for x in mine)


@_method("supersetOf")
def _superset_of(ctx: Context, a: Value, b: Value) -> bool:
    return bool(_subset_of(ctx, b, a))


@_method("includes")
def _includes(ctx: Context, a: Value, item: Value) -> bool:
    if a is None or item is None:
        return False
    return _contains(elements(a), item)


def _distinct(items: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out = []
    for x in items:
        key = hashable(x)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


@_method("distinct")
def _distinct_method(ctx: Context, a: Value) -> list[Any] | None:
    return None if a is None else _distinct(elements(a))


@_method("groupBy")
def _group_by(ctx: Context, a: Value, key_fn: ElementFn) -> dict[str, list[Any]] | None:
    if a is None:
        return None
    groups: dict[Any, list[Any]] = {}
    for item in elements(a):
        key = key_fn(ctx, item, None)
        if key is None:
            continue  # an element without a key belongs to no group
        if type(key) is list or type(key) is dict:
            raise EvalProblem(f"groupBy keys must be single values, got a {type_name(key)}")
        groups.setdefault(map_key(key), []).append(item)
    return groups


@_method("filter")
def _filter(ctx: Context, a: Value, predicate: ElementFn) -> list[Any] | None:
    if a is None:
        return None
    return [item for item in elements(a) if truthy(predicate(ctx, item, None))]


@_method("map")
def _map(ctx: Context, a: Value, fn: ElementFn) -> Any:
    if a is None:
        return None
    if type(a) is dict:
        results = [(key, fn(ctx, group, key)) for key, group in a.items()]
        return _collect_entries([value for _, value in results]) if results and all(
            isinstance(value, MapEntry) for _, value in results) else {
            key: value for key, value in results}
    results_list = [fn(ctx, item, None) for item in elements(a)]
    if results_list and all(isinstance(v, MapEntry) for v in results_list):
        return _collect_entries(results_list)
    return results_list


def _collect_entries(entries: list[Any]) -> dict[Any, Any]:
    return {entry.key: entry.value for entry in entries}


def _ranked(ctx: Context, a: Value, key_fn: ElementFn, n: Value, highest: bool) -> Any:
    if a is None or n is None:
        return None
    count = _count_argument(n, "the count of topN/bottomN")
    keyed = []
    for item in elements(a):
        key = key_fn(ctx, item, None)
        if key is not None and (is_number(key) or type(key) is str):
            keyed.append((key, item))
    # only keys of the majority kind compare with each other: numbers win over strings
    numeric = [pair for pair in keyed if is_number(pair[0])]
    usable = numeric if numeric else keyed
    usable.sort(key=lambda pair: pair[0], reverse=highest)
    return [item for _, item in usable[: max(0, count)]]


@_method("topN")
def _top_n(ctx: Context, a: Value, key_fn: ElementFn, n: Value) -> Any:
    return _ranked(ctx, a, key_fn, n, highest=True)


@_method("bottomN")
def _bottom_n(ctx: Context, a: Value, key_fn: ElementFn, n: Value) -> Any:
    return _ranked(ctx, a, key_fn, n, highest=False)


@_method("head")
def _head(ctx: Context, a: Value) -> Value:
    items = elements(a)
    return items[0] if items else None


@_method("exists")
def _exists(ctx: Context, a: Value, predicate: ElementFn | None) -> bool:
    items = elements(a)
    if predicate is None:
        return bool(items)
    return any(truthy(predicate(ctx, item, None)) for item in items)


@_method("count")
def _count(ctx: Context, a: Value) -> int:
    if type(a) is dict:
        return len(a)
    return len(elements(a))


def aggregate(func: str, values: list[Any]) -> Value:
    """``sum``/``average``/``min``/``max`` of values, skipping nulls (§5.6, §7.8).

    ``sum`` of nothing is 0; ``average``/``min``/``max`` of nothing are null. ``sum`` and
    ``average`` use the numbers only; ``min``/``max`` compare numbers, or strings when there are
    no numbers.
    """
    numbers = [v for v in values if is_number(v)]
    if func in ("sum", "average"):
        # beyond a double's range: null, as for arithmetic (docs/limits.md)
        try:
            total = sum(numbers)
            if func == "average":
                return finite_number(total / len(numbers)) if numbers else None
        except OverflowError:
            return None
        return finite_number(total)
    candidates: list[Any] = numbers or [v for v in values if type(v) is str]
    if not candidates:
        return None
    return max(candidates) if func == "max" else min(candidates)


def _aggregate_method(func: str) -> Impl:
    def impl(ctx: Context, a: Value, fn: ElementFn | None) -> Value:
        return aggregate(func, _per_element(ctx, elements(a), fn))
    impl.__name__ = f"_{func}"
    return impl


for _func in ("sum", "average", "min", "max"):
    METHOD_IMPLS[_func] = _aggregate_method(_func)


# ---------------------------------------------------------------- maps


@_method("get")
def _get(ctx: Context, m: Value, key: Value) -> Value:
    if type(key) is not str:
        return None if key is None else _get(ctx, m, str(key))
    return get_field(m, key)


@_method("keys")
def _keys(ctx: Context, m: Value) -> list[Any] | None:
    return list(m) if type(m) is dict else None


@_method("values")
def _values(ctx: Context, m: Value) -> list[Any] | None:
    return list(m.values()) if type(m) is dict else None


# ---------------------------------------------------------------- strings


def _case_flag(flag: Value) -> bool:
    if flag is None:
        return True
    if flag is True or flag is False:
        return flag
    raise EvalProblem(f"the case-sensitivity flag must be true or false, got a {type_name(flag)}")


def _string_predicate(test: Callable[[str, str], bool], negate: bool) -> Impl:
    """A string method: false unless both strings are defined (§5.5); existential over lists."""
    def impl(ctx: Context, s: Value, other: Value, case_sensitive: Value = None) -> bool:
        exact = _case_flag(case_sensitive)
        if type(other) is not str:
            return False
        needle = other if exact else other.casefold()
        for candidate in elements(s):
            if type(candidate) is str:
                hay = candidate if exact else candidate.casefold()
                if test(hay, needle) != negate:
                    return True
        return False
    return impl


_PREDICATES: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "startsWith": (str.startswith, False),
    "doesNotStartWith": (str.startswith, True),
    "endsWith": (str.endswith, False),
    "doesNotEndWith": (str.endswith, True),
    "contains": (lambda hay, needle: needle in hay, False),
    "doesNotContain": (lambda hay, needle: needle in hay, True),
    "notEqualTo": (str.__eq__, True),
}
for _name, (_test, _negate) in _PREDICATES.items():
    METHOD_IMPLS[_name] = _string_predicate(_test, _negate)

_equals_one = _string_predicate(str.__eq__, False)


@_method("equals")
def _equals(ctx: Context, s: Value, *args: Value) -> bool:
    # `equals("x", false)`: a trailing Boolean is the case flag; several strings mean "any of".
    flag: Value = None
    if len(args) > 1 and (args[-1] is True or args[-1] is False):
        flag, args = args[-1], args[:-1]
    return any(_equals_one(ctx, s, option, flag) for option in args)


def _regex(pattern: Value) -> Any:
    if type(pattern) is not str:
        raise EvalProblem(f"a regular expression must be a string, got a {type_name(pattern)}")
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        raise EvalProblem(str(exc)) from None


@_method("matches")
def _matches(ctx: Context, s: Value, pattern: Value) -> bool:
    if pattern is None:
        return False
    regex = _regex(pattern)
    return any(type(c) is str and regex.search(c) is not None for c in elements(s))


@_method("regexGroup")
def _regex_group(ctx: Context, s: Value, pattern: Value, group: Value = None) -> Value:
    if type(s) is not str or pattern is None:
        return None
    regex = _regex(pattern)
    index = 0 if group is None else _count_argument(group, "regexGroup's group number")
    if not 0 <= index <= regex.groups:
        raise EvalProblem(f"regexGroup: group {_describe_number(index)} does not exist in "
                          f"{_clip(pattern)} (it has {regex.groups} "
                          f"group{'s' if regex.groups != 1 else ''})")
    found = regex.search(s)
    return None if found is None else found.group(index)


# ---------------------------------------------------------------- date and time


def _date_part(part: str) -> Impl:
    def impl(ctx: Context, ts: Value) -> Value:
        if ts is None:
            return None
        try:
            moment = from_millis(to_millis(ts))
        except TimestampError as exc:
            raise EvalProblem(str(exc)) from None
        return getattr(moment, part)
    return impl


METHOD_IMPLS["getMonth"] = _date_part("month")
METHOD_IMPLS["getYear"] = _date_part("year")
METHOD_IMPLS["getDayOfMonth"] = _date_part("day")

