"""Hypothesis strategies for valid PQL syntax trees, shared by the test files.

``exprs()`` draws trees of every node kind, bounded in depth, that the parser can produce from
some text (so ``parse(format(t)) == t`` is a fair property). The limits, each because the parser
reads the text differently:

* names are never keywords (``and``, ``today``, ``select``, units...): the parser reads those
  specially in some positions, so a tree holding ``Name("today")`` as a time reference has no text;
* ``Neg`` never wraps a ``Number`` (the parser folds ``-5`` into ``Number(-5)``);
* numbers are finite; strings hold no lone surrogates; context references hold plain text.

Usage: ``from strategies import exprs`` (tests/ is on ``sys.path`` under pytest).
"""

from __future__ import annotations

from datetime import UTC
from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from pqltools.syntax import ast

__all__ = ["KEYWORDS", "SEGMENT_NOW", "atoms", "exprs", "names", "reference_examples",
           "segment_events", "segment_exprs", "segment_profiles", "time_phrases"]

#: Every word the grammar treats as a keyword somewhere (compared case-insensitively).
KEYWORDS = frozenset({
    "and", "or", "not", "in", "notin", "like", "matches", "occurs", "over", "from", "where",
    "true", "false", "on", "between", "before", "after", "now", "today", "yesterday",
    "tomorrow", "this", "last", "next", "what", "when", "count", "select", "exists", "forall",
    "some", "sum", "average", "min", "max", "let", "chain",
}) | frozenset(
    u + s for u in ast.TIME_UNITS for s in ("", "s")
) | frozenset({"centuries", "millennia", "millenium", "milleniums"})

_BASE_NAMES = ["a", "b", "x", "X", "Y", "E", "person", "homeAddress", "countryCode", "xEvent",
               "timestamp", "eventType", "_experience", "orders", "price", "var1", "C0"]

names: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(_BASE_NAMES),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True),
).filter(lambda n: n.lower() not in KEYWORDS)

_numbers = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
)

atoms: st.SearchStrategy[ast.Expr] = st.one_of(
    st.builds(ast.String, st.text(max_size=12)),
    st.builds(ast.Number, _numbers),
    st.builds(ast.Boolean, st.booleans()),
    st.builds(ast.Name, names),
    st.builds(ast.Param, st.integers(1, 9)),
    st.builds(ast.ParentRef, st.integers(1, 3)),
    st.builds(ast.ContextRef, st.sampled_from(["", "event"]),
              st.from_regex(r"[A-Za-z0-9_.;=]{0,12}", fullmatch=True)),
)


def _tuples(inner: st.SearchStrategy[ast.Expr], lo: int, hi: int) -> st.SearchStrategy[
        tuple[ast.Expr, ...]]:
    return st.lists(inner, min_size=lo, max_size=hi).map(tuple)


def _time_refs(sub: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Node]:
    return st.one_of(
        st.builds(ast.TimeKeyword, st.sampled_from(ast.TIME_KEYWORDS)),
        st.builds(ast.CalendarPeriod, st.sampled_from(ast.PERIOD_RELATIONS),
                  st.sampled_from(ast.TIME_UNITS)),
        sub,
    )


def time_phrases(sub: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[ast.Node]:
    """``occurs`` phrases whose expression references are drawn from ``sub``."""
    refs = _time_refs(sub)
    directions = st.sampled_from(ast.DIRECTIONS)
    return st.one_of(
        st.builds(ast.RelativeTime, st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
                  st.integers(0, 400), st.sampled_from(ast.TIME_UNITS), directions, refs),
        st.builds(ast.RelativeTime, st.none(), st.none(), st.none(), directions, refs),
        st.builds(ast.AtTime, refs),
        st.builds(ast.BetweenTimes, refs, refs),
    )


def _bindings(sub: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[tuple[ast.Binding, ...]]:
    binding = st.builds(ast.Binding, names, sub, st.one_of(st.none(), sub))
    return st.lists(binding, min_size=1, max_size=2).map(tuple)


def _steps(sub: st.SearchStrategy[ast.Expr]) -> st.SearchStrategy[tuple[ast.ChainStep, ...]]:
    step = st.builds(
        ast.ChainStep, names, st.one_of(st.none(), sub), st.one_of(st.none(), time_phrases(sub)),
        st.one_of(st.none(), st.integers(0, 20)), st.one_of(st.none(), sub),
    )
    return st.lists(step, max_size=2).map(tuple)


@cache
def exprs(max_depth: int = 3) -> st.SearchStrategy[ast.Expr]:
    """Valid expression trees at most ``max_depth`` composite levels deep."""
    if max_depth <= 0:
        return atoms
    sub = exprs(max_depth - 1)
    field_path = st.lists(names, min_size=1, max_size=2).map(".".join)
    composite = st.one_of(
        st.builds(ast.ListLiteral, _tuples(sub, 0, 3)),
        st.builds(ast.ObjectLiteral, st.lists(
            st.builds(ast.ObjectEntry, st.text(max_size=6), sub), max_size=2).map(tuple)),
        st.builds(ast.Attribute, sub, names),
        st.builds(ast.MethodCall, sub, names, _tuples(sub, 0, 2)),
        st.builds(ast.Call, names, _tuples(sub, 0, 2)),
        st.builds(ast.Filter, sub, sub),
        st.builds(ast.Not, sub),
        st.builds(ast.Neg, sub.filter(lambda e: not isinstance(e, ast.Number))),
        st.builds(ast.BoolOp, st.sampled_from(["and", "or"]), _tuples(sub, 2, 3)),
        st.builds(ast.Compare, st.sampled_from(ast.COMPARE_OPS), sub, sub),
        st.builds(ast.BinOp, st.sampled_from(ast.ARITH_OPS), sub, sub),
        st.builds(ast.Select, _bindings(sub)),
        st.builds(ast.Quantifier, st.sampled_from(ast.QUANTIFIERS), _bindings(sub)),
        st.builds(ast.Aggregate, st.sampled_from(ast.AGGREGATES), st.one_of(st.none(), sub),
                  _bindings(sub)),
        st.builds(ast.Let, names, sub, sub),
        st.builds(ast.Lambda, st.lists(names, max_size=2).map(tuple), sub),
        st.builds(ast.Occurs, sub, time_phrases(sub)),
        st.builds(ast.Chain, sub, field_path, _steps(sub)),
    )
    return st.one_of(atoms, composite)


def reference_examples(*, errors: bool | None = None) -> list[dict[str, object]]:
    """The entries of ``tests/data/reference_examples.yaml`` (only broken ones, or only valid)."""
    import yaml

    path = Path(__file__).parent / "data" / "reference_examples.yaml"
    entries: list[dict[str, object]] = yaml.safe_load(path.read_text("utf-8"))
    if errors is None:
        return entries
    return [e for e in entries if bool(e.get("error")) == errors]


# ------------------------------------------------------------ segments over a fixed schema
# Definitions and profiles that fit each other, for comparing evaluators on the same data
# (tests/engines): every path has one JSON type, values are often missing or null.

_NOW_MS = 1715774400000  # 2024-05-15T12:00:00Z, the ``now`` these cases run at
SEGMENT_NOW = "2024-05-15T12:00:00Z"
_GENDERS = ["female", "male", "Female", "", "x"]
_COUNTRIES = ["US", "FR", "us", "DE"]
_EVENT_TYPES = ["commerce.purchases", "web.pageView", "commerce.productViews"]
_TAGS = ["gold", "silver", "vip", "new"]


def _maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(values, st.none(), st.just(_ABSENT))


_ABSENT = object()


def _object(**fields: st.SearchStrategy[object]) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({k: _maybe(v) for k, v in fields.items()}).map(
        lambda d: {k: v for k, v in d.items() if v is not _ABSENT})


def _timestamps() -> st.SearchStrategy[str]:
    from datetime import datetime
    return st.integers(_NOW_MS - 400 * 86_400_000, _NOW_MS + 5 * 86_400_000).map(
        lambda ms: datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace(
            "+00:00", "Z"))


_prices = st.one_of(st.integers(0, 500), st.floats(0, 500, allow_nan=False).map(
    lambda f: round(f, 2)))
segment_events = st.lists(_object(
    eventType=st.sampled_from(_EVENT_TYPES), timestamp=_timestamps(),
    commerce=_object(order=_object(priceTotal=_prices.map(float))),
    web=_object(name=st.sampled_from(["Luma Sport", "luma sport", "home", "sale-2024"])),
), max_size=4)
segment_profiles = _object(
    person=_object(gender=st.sampled_from(_GENDERS), age=st.integers(0, 100)),
    homeAddress=_object(countryCode=st.sampled_from(_COUNTRIES)),
    loyalty=_object(points=st.floats(-10, 1000, allow_nan=False)),
    tags=st.lists(st.sampled_from(_TAGS), max_size=3),
    optIn=st.booleans(),
)


def _path(*names: str) -> ast.Expr:
    node: ast.Expr = ast.Name(names[0])
    for name in names[1:]:
        node = ast.Attribute(node, name)
    return node


def _literal(v: object) -> ast.Expr:
    if isinstance(v, bool):
        return ast.Boolean(v)
    if isinstance(v, (int, float)):
        return ast.Number(v)
    return ast.String(str(v))


_ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])
_strings = st.sampled_from(_GENDERS + _COUNTRIES + ["30", "true"])
_numbers_small = st.one_of(st.integers(-5, 120), st.sampled_from([0.5, 99.9, 250.0]))


def _profile_predicates() -> st.SearchStrategy[ast.Expr]:
    gender, age = _path("person", "gender"), _path("person", "age")
    country, points = _path("homeAddress", "countryCode"), _path("loyalty", "points")
    anything = st.one_of(_strings, _numbers_small, st.booleans()).map(_literal)
    return st.one_of(
        st.builds(ast.Compare, _ops, st.sampled_from([gender, country]),
                  st.one_of(_strings.map(_literal), anything)),
        st.builds(ast.Compare, _ops, st.sampled_from([age, points]),
                  st.one_of(_numbers_small.map(_literal), anything)),
        st.builds(ast.Compare, st.sampled_from(["=", "!="]), st.just(_path("optIn")),
                  st.one_of(st.booleans().map(_literal), anything)),
        st.builds(ast.Compare, st.sampled_from(["in", "notIn"]),
                  st.sampled_from([gender, country, _path("tags")]),
                  st.lists(st.sampled_from(_GENDERS + _COUNTRIES + _TAGS), max_size=3).map(
                      lambda xs: ast.ListLiteral(tuple(ast.String(x) for x in xs)))),
        st.builds(ast.Compare, _ops, st.just(_path("tags")), _strings.map(_literal)),
        st.builds(lambda p, m, s, flag: ast.MethodCall(p, m, (ast.String(s),) + (
            () if flag is None else (ast.Boolean(flag),))),
            st.sampled_from([gender, country, _path("tags")]),
            st.sampled_from(["contains", "startsWith", "endsWith", "equals",
                             "doesNotContain", "doesNotStartWith"]),
            st.sampled_from(["f", "US", "male", "", "ol"]), st.one_of(st.none(), st.booleans())),
        st.builds(lambda p, m: ast.MethodCall(p, m, ()),
                  st.sampled_from([gender, age, _path("tags"), _path("person")]),
                  st.sampled_from(["isNull", "isNotNull"])),
        st.builds(lambda p, r: ast.Compare("matches", p, ast.String(r)),
                  st.sampled_from([gender, country]),
                  st.sampled_from(["^f", "ale$", "(?i)us", "m.le", "^$", "[A-Z]"])),
        st.builds(lambda p, r: ast.Compare("like", p, ast.String(r)),
                  st.sampled_from([gender, country]), st.sampled_from(["%ale", "U_", "%", "f%"])),
        st.sampled_from([gender, age, _path("optIn"), _path("tags")]),
    )


def _event_conditions() -> st.SearchStrategy[ast.Expr]:
    phrases = st.one_of(
        st.builds(ast.RelativeTime, st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
                  st.integers(0, 60), st.sampled_from(["day", "week", "month", "hour"]),
                  st.sampled_from(["before", "after"]),
                  st.builds(ast.TimeKeyword, st.sampled_from(["now", "today", "yesterday"]))),
        st.builds(ast.AtTime, st.builds(ast.CalendarPeriod, st.sampled_from(["this", "last"]),
                                        st.sampled_from(["month", "week", "year", "day"]))),
        st.builds(ast.RelativeTime, st.none(), st.none(), st.none(),
                  st.sampled_from(["before", "after"]),
                  st.builds(ast.TimeKeyword, st.sampled_from(["today", "now"]))),
    )
    return st.one_of(
        st.builds(ast.Compare, st.sampled_from(["=", "!="]), st.just(ast.Name("eventType")),
                  st.sampled_from(_EVENT_TYPES + ["x"]).map(ast.String)),
        st.builds(ast.Occurs, st.just(ast.Name("timestamp")), phrases),
        st.builds(ast.Compare, _ops, st.just(_path("commerce", "order", "priceTotal")),
                  _numbers_small.map(_literal)),
        st.builds(lambda s, f: ast.MethodCall(_path("web", "name"), "equals",
                                              (ast.String(s),) + (() if f else (
                                                  ast.Boolean(False),))),
                  st.sampled_from(["luma sport", "Luma Sport", "home"]), st.booleans()),
    )


def _event_predicates() -> st.SearchStrategy[ast.Expr]:
    cond = st.recursive(_event_conditions(), lambda c: st.one_of(
        st.builds(ast.BoolOp, st.sampled_from(["and", "or"]), _tuples(c, 2, 2)),
        st.builds(ast.Not, c)), max_leaves=3)
    events = ast.Name("xEvent")
    counted = st.builds(lambda c, op, n: ast.Compare(op, ast.MethodCall(
        ast.Filter(events, c), "count", ()), ast.Number(n)), cond, _ops, st.integers(0, 3))
    var = "E"

    quantified = st.builds(lambda k, c: ast.Quantifier(k, (ast.Binding(var, events,
                                                                       _qualify(c, var)),)),
                           st.sampled_from(["exists", "forall"]), cond)
    aggregated = st.builds(lambda f, op, n, c: ast.Compare(op, ast.MethodCall(
        ast.Filter(events, c), f, (_path("commerce", "order", "priceTotal"),)),
        ast.Number(n)), st.sampled_from(["sum", "min", "max", "average"]), _ops,
        _numbers_small, cond)
    return st.one_of(counted, quantified, aggregated,
                     st.builds(lambda c: ast.MethodCall(events, "exists", (c,)), cond))


def _qualify(node: ast.Expr, var: str) -> ast.Expr:
    """An event condition written for an element scope, rewritten to read variable ``var``."""
    if isinstance(node, ast.Name):
        return ast.Attribute(ast.Name(var), node.id)
    if isinstance(node, ast.Attribute):
        return ast.Attribute(_qualify(node.receiver, var), node.name)
    if isinstance(node, ast.Compare):
        return ast.Compare(node.op, _qualify(node.left, var), node.right)
    if isinstance(node, ast.Occurs):
        return ast.Occurs(_qualify(node.subject, var), node.phrase)
    if isinstance(node, ast.MethodCall):
        return ast.MethodCall(_qualify(node.receiver, var), node.name, node.args)
    if isinstance(node, ast.BoolOp):
        return ast.BoolOp(node.op, tuple(_qualify(v, var) for v in node.values))
    if isinstance(node, ast.Not):
        return ast.Not(_qualify(node.operand, var))
    return node


def segment_exprs() -> st.SearchStrategy[ast.Expr]:
    """Segment definitions over the paths of ``segment_profiles`` and ``segment_events``."""
    leaves = st.one_of(_profile_predicates(), _event_predicates())
    return st.recursive(leaves, lambda c: st.one_of(
        st.builds(ast.BoolOp, st.sampled_from(["and", "or"]), _tuples(c, 2, 3)),
        st.builds(ast.Not, c)), max_leaves=4)
