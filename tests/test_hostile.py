"""Hostile input, one test per class at its root (issue 10); docs/limits.md lists the limits."""

from __future__ import annotations

import time

import pytest

import pqltools
from pqltools.errors import PQLError
from pqltools.limits import MAX_NUMBER, finite_number, parse_int_text
from pqltools.syntax.parser import ParseOptions, _tok_span, parse_document


# ------------------------------------------------------------------ parser


@pytest.mark.parametrize("text", [
    "(1e400 false",  # an out-of-range number reduced inside a repair trial
    "(1e400 false and (",
    "1e400 (",
    "[1e400 true",
    "x.f(1e400 false",
])
def test_recovery_with_out_of_range_number_reports_errors(text: str) -> None:
    result = parse_document(text)
    assert not result.ok
    codes = {d.code for d in result.diagnostics}
    assert "PQL007" in codes
    for d in result.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= len(text)
    with pytest.raises(pqltools.PQLSyntaxError):
        pqltools.parse(text)


def test_token_without_end_position_still_has_a_span() -> None:
    from lark import Token

    tok = Token("NUMBER", "1e400", start_pos=3, line=1, column=4)
    assert _tok_span(tok) == pqltools.Span(3, 8, 1, 4, 1, 9)


@pytest.mark.parametrize("text", [
    "9" * 5000,  # beyond Python's 4300-digit conversion limit
    "x occurs >= " + "9" * 5000 + " days before now",
    "chain(xEvent, timestamp, [A: COUNT(" + "9" * 5000 + ")])",
    "9" * 309,  # just beyond a double
    "-" + "9" * 320,
])
def test_numbers_beyond_the_range_are_syntax_errors(text: str) -> None:
    result = parse_document(text)
    assert [d.code for d in result.diagnostics] == ["PQL007"]
    assert "out of range" in result.diagnostics[0].message


def test_largest_integer_literal_is_exact() -> None:
    text = "9" * 308
    tree = pqltools.parse(text)
    assert tree.value == int(text)  # type: ignore[attr-defined]


def test_number_limits() -> None:
    assert parse_int_text("0" * 5000 + "7") == 7
    assert parse_int_text("9" * 400) is None
    assert finite_number(MAX_NUMBER) is None
    assert finite_number(MAX_NUMBER - 1) == MAX_NUMBER - 1
    assert finite_number(float("nan")) is None
    assert finite_number("x") == "x"


@pytest.mark.parametrize("text", [
    "a = 1\n  " + "not " * 1500 + "and " + "not " * 700 + 'x.startwith("a")',
    "r ts occurs = 1 hour after" + "a[" * 3000 + "\n" + "]" * 60,
    "(" * 5000 + "a b c d e" * 200,
    "x = 1 " + ") " * 5000,
    "not " * 3000 + "a b" * 1000,
])
def test_error_recovery_is_not_quadratic(text: str) -> None:
    # a linear parse takes milliseconds; before the fix these took 10 to 30 seconds
    start = time.process_time()
    result = parse_document(text, ParseOptions(comments=True))
    assert not result.ok
    assert time.process_time() - start < 5


def test_deep_stack_at_an_error_stops_with_a_limit() -> None:
    text = "not " * 2000 + "a b"
    result = parse_document(text)
    assert any(d.code == "PQL006" for d in result.diagnostics)
