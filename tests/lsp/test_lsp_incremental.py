"""Incremental parsing of ``.pql`` documents gives exactly the whole parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pqltools_lsp.documents import parsed
from pqltools_lsp.incremental import MIN_CLAUSES, clause_bounds

from pqltools.syntax.parser import ParseOptions, ParseResult, parse_document

CLAUSES = [
    'homeAddress.countryCode = "US"', 'a.b = "x and y or z"', "(a = 1 or b = 2)",
    "person.birthDate.getYear() < 1990", 'xEvent[eventType = "a" and x = 1].count() > 2',
    "xEvent.timestamp occurs < 8 days before now", "not a = 1",
    "xEvent.timestamp occurs between 2 days before now and now",
    "select X from xEvent where X.a = 1 and X.b = 2", "c in [1, 2]", "d = true", "AND",
    "", "e =", "f.and = 1", 'g = "unterminated', "-- only a comment", "x = 1 -- note",
    "let y = 1 in y > 0", "h.isNull()", "k = $1", "m = @{x}", "n : 1", "p => q", "1 +",
]
SEPARATORS = [" and ", " or ", "\n  and ", "\n  or ", " AND ", " Or ", "\r\n and ", " and -- c\n"]


def _shape(result: ParseResult) -> tuple[object, ...]:
    spans = [(type(n).__name__, n.span) for n in result.expr.walk()] if result.expr else []
    return (result.expr, spans, result.comments, result.ok,
            [(d.code, d.message, d.span) for d in result.diagnostics])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CLAUSES), min_size=1, max_size=14),
       st.lists(st.sampled_from(SEPARATORS), min_size=14, max_size=14),
       st.sampled_from(["", "-- head\n", "\n", "  "]), st.sampled_from(["", "\n", " -- t\n"]))
def test_assembled_parse_equals_the_whole_parse(clauses: list[str], separators: list[str],
                                                head: str, tail: str) -> None:
    text = head + clauses[0] + "".join(s + c for s, c in zip(separators, clauses[1:])) + tail
    assert _shape(parsed(text, True)) == _shape(parse_document(text, ParseOptions(comments=True)))


def test_a_long_document_is_cut_into_its_clauses() -> None:
    text = "\n  and ".join(f"a{i} = {i}" for i in range(MIN_CLAUSES + 2)) + "\n"
    bounds = clause_bounds(text, True)
    assert bounds is not None and len(bounds) == MIN_CLAUSES + 2
    assert text[bounds[3][0]:bounds[3][1]].strip() == "a3 = 3"
    assert clause_bounds("select X from xEvent where " + text, True) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([c for c in CLAUSES if c not in ("", "AND", "e =", "1 +")]),
                min_size=MIN_CLAUSES, max_size=12),
       st.lists(st.sampled_from(SEPARATORS), min_size=12, max_size=12))
def test_tokens_by_clause_equal_tokens_of_the_whole(clauses: list[str],
                                                    separators: list[str]) -> None:
    from pqltools_lsp.documents import Region
    from pqltools_lsp.tokens import _classify, classify

    text = clauses[0] + "".join(s + c for s, c in zip(separators, clauses[1:]))
    region = Region(text, comments=True)
    assert classify(region) == _classify(region)
