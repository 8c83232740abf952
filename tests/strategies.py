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

from functools import cache
from pathlib import Path

from hypothesis import strategies as st

from pqltools.syntax import ast

__all__ = ["KEYWORDS", "atoms", "exprs", "names", "reference_examples", "time_phrases"]

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
