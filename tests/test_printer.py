"""The canonical formatter: exact output for each style choice, layout, comments, properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from strategies import exprs, reference_examples

from pqltools import PQLError, PQLSyntaxError, PQLValidationError, format, parse
from pqltools.syntax import ast

# ----------------------------------------------------------------------------- canonical text


@pytest.mark.parametrize(("source", "expected"), [
    # keyword case: lower-case operators, binders, time words
    ("A AND B OR NOT C", "A and B or not C"),
    ("NOT(a OR b) AND NOT(c OR d)", "not (a or b) and not (c or d)"),
    ("!x", "not x"),
    ("a NOTIN b", "a notIn b"),
    ("a LIKE \"J%\"", 'a like "J%"'),
    ("SELECT X FROM xEvent WHERE X.a", "select X from xEvent where X.a"),
    ("EXISTS X FROM xEvent : X.a = 1", "exists X from xEvent where X.a = 1"),
    ("Forall X from xs where X > 1", "forall X from xs where X > 1"),
    ("SUM X.price OVER X FROM xEvent", "sum X.price over X from xEvent"),
    ("LET s = 1 IN s", "let s = 1 in s"),
    ("ts OCCURS ON TODAY", "ts occurs today"),
    # spacing
    ("a=1", "a = 1"),
    ("f( a ,b )", "f(a, b)"),
    ("[1,2 , 3]", "[1, 2, 3]"),
    ('{"a":1,"b" : x}', '{"a": 1, "b": x}'),
    ("(a,b)=>a+b", "(a, b) => a + b"),
    ("x [ y = 1 ] . z", "x[y = 1].z"),
    # minimal parentheses that keep the tree
    ("((a = 1))", "a = 1"),
    ("(a and b) and c", "(a and b) and c"),
    ("a and (b and c)", "a and (b and c)"),
    ("(a or b) and c", "(a or b) and c"),
    ("(a and b) or c", "a and b or c"),
    ("not (a = b)", "not a = b"),
    ("(not a) = b", "(not a) = b"),
    ("(a = b) = c", "(a = b) = c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("(a + b) * c", "(a + b) * c"),
    ("a * (b * c)", "a * (b * c)"),
    ("-(a + b)", "-(a + b)"),
    ("-(-a)", "-(-a)"),
    ("(-5).abs()", "(-5).abs()"),
    ("(a + b).c", "(a + b).c"),
    ("a and (select X from b)", "a and (select X from b)"),
    ("f((select X from a), 1)", "f((select X from a), 1)"),
    ("f(1, select X from a)", "f(1, select X from a)"),
    ("select X from a where (exists Y from b), Z from c",
     "select X from a where (exists Y from b), Z from c"),
    ("select X from (a + b)", "select X from (a + b)"),
    ("sum (-x) over X from a", "sum (-x) over X from a"),
    ("let x = (a = 1) in x", "let x = (a = 1) in x"),
    ("(a + b) occurs today", "a + b occurs today"),
    ("ts occurs before (a + b)", "ts occurs before (a + b)"),
    ("ts occurs on (today.x)", "ts occurs on (today.x)"),
    ("(x occurs today) = true", "(x occurs today) = true"),
    # time phrases: plural units except for 1, `on` only before expressions
    ("ts occurs < 1 days before now", "ts occurs < 1 day before now"),
    ("ts occurs <= 3 DAY before now", "ts occurs <= 3 days before now"),
    ("ts occurs > 2 century after today", "ts occurs > 2 centuries after today"),
    ("ts occurs = 0 millennium from now", "ts occurs = 0 millennia from now"),
    ("ts occurs on last month", "ts occurs last month"),
    ("ts occurs date(2019,12,31)", "ts occurs on date(2019, 12, 31)"),
    ("ts occurs between yesterday AND this year", "ts occurs between yesterday and this year"),
    # literals
    ('"a\\"b\\\\c\\nd\\te"', '"a\\"b\\\\c\\nd\\te"'),
    ('"\\u00e9"', '"é"'),
    ('"\\u0001"', '"\\u0001"'),
    ("2.02E12", "2020000000000.0"),
    (".45", "0.45"),
    ("1e20", "1e+20"),
    ("-201", "-201"),
    ("TRUE", "true"),
    ("$1.x", "$1.x"),
    ("^x", "^.x"),
    ("^^.person.gender", "^^.person.gender"),
    ("@event{a.b}", "@event{a.b}"),
    # chains: CHAIN and its clauses upper-case, like Adobe's Segment Builder
    ("chain(xEvent, timestamp, [C0: what(a = 1) when(today) count(2) where(b)])",
     "CHAIN(xEvent, timestamp, [C0: WHAT(a = 1) WHEN(today) COUNT(2) WHERE(b)])"),
    ("chain(xEvent, a.b, [])", "CHAIN(xEvent, a.b, [])"),
    ("CHAIN(xEvent, t, [A:])", "CHAIN(xEvent, t, [A:])"),
])
def test_canonical_text(source: str, expected: str) -> None:
    assert format(source) == expected
    assert parse(expected) == parse(source)


# ----------------------------------------------------------------------------- layout


def test_and_operands_one_per_line_with_leading_operator() -> None:
    text = " and ".join(f'field{i}.value = "something long {i}"' for i in range(4))
    assert format(text) == (
        'field0.value = "something long 0"\n'
        'and field1.value = "something long 1"\n'
        'and field2.value = "something long 2"\n'
        'and field3.value = "something long 3"'
    )


def test_nested_groups_break_outside_in() -> None:
    text = ('homeAddress.countryCode = "US" and (select X from xEvent where '
            'X.commerce.order.purchaseID.isNotNull() and X.timestamp occurs < 7 days before now)')
    assert format(text) == (
        'homeAddress.countryCode = "US"\n'
        "and (\n"
        "  select X from xEvent\n"
        "    where X.commerce.order.purchaseID.isNotNull()\n"
        "    and X.timestamp occurs < 7 days before now\n"
        ")"
    )


def test_long_argument_list() -> None:
    text = "inSegment(" + ", ".join(f'"segment-{i:02}-aaaaaaaaaaaa"' for i in range(4)) + ")"
    assert format(text, width=40) == (
        "inSegment(\n"
        '  "segment-00-aaaaaaaaaaaa",\n'
        '  "segment-01-aaaaaaaaaaaa",\n'
        '  "segment-02-aaaaaaaaaaaa",\n'
        '  "segment-03-aaaaaaaaaaaa"\n'
        ")"
    )


def test_chain_steps_one_per_line_and_long_steps_one_clause_per_line() -> None:
    text = ('chain(xEvent, timestamp, [C0: WHAT(eventType.equals("commerce.checkouts", false)) '
            'WHEN(today), C1: WHAT(eventType = "web.webpagedetails.pageViews") '
            "WHEN(< 24 hours before now) COUNT(5)])")
    assert format(text) == (
        "CHAIN(xEvent, timestamp, [\n"
        '  C0: WHAT(eventType.equals("commerce.checkouts", false)) WHEN(today),\n'
        "  C1:\n"
        '    WHAT(eventType = "web.webpagedetails.pageViews")\n'
        "    WHEN(< 24 hours before now)\n"
        "    COUNT(5)\n"
        "])"
    )


def test_select_bindings_break_one_per_line() -> None:
    text = ("select _Any1 from xEvent where _Any1.eventType = \"commerce.purchases\", "
            "_Any2 from _Any1.productListItems where _Any2.SKU = \"PS\"")
    assert format(text, width=50) == (
        "select _Any1 from xEvent\n"
        '  where _Any1.eventType = "commerce.purchases",\n'
        "  _Any2 from _Any1.productListItems\n"
        '  where _Any2.SKU = "PS"'
    )


def test_indent_option_and_no_trailing_spaces() -> None:
    text = "a = 1 and (b = 2 or c = 3)"
    out = format(text, width=14, indent=4)
    assert out == "a = 1\nand (\n    b = 2\n    or c = 3\n)"
    assert all(line == line.rstrip() for line in out.splitlines())


def test_lines_fit_width_when_possible() -> None:
    text = " or ".join(f"x{i} = {i}" for i in range(30))
    assert all(len(line) <= 20 for line in format(text, width=20).splitlines())


# ----------------------------------------------------------------------------- comments


def test_leading_and_trailing_comments_are_kept() -> None:
    text = "-- audience: US buyers\n\n-- owner: team\nhomeAddress.countryCode='US' -- why\n-- end\n"
    text = text.replace("'US'", '"US"')
    assert format(text) == (
        "-- audience: US buyers\n\n-- owner: team\n"
        'homeAddress.countryCode = "US" -- why\n-- end'
    )
    assert format(format(text)) == format(text)


def test_comment_inside_expression_is_an_error() -> None:
    text = "a = 1\n-- inside\nand b = 2"
    with pytest.raises(PQLError) as info:
        format(text)
    diag = info.value.diagnostics[0]
    assert diag.code == "PQL008"
    assert (diag.span.line, diag.span.column) == (2, 1)
    assert "cannot be formatted without moving comments" in diag.message


def test_comments_off_reads_double_minus_as_operators() -> None:
    assert format("a--5", comments=False) == "a - -5"
    assert format("a--5") == "a --5"  # the .pql form: `--5` is a comment, kept


# ----------------------------------------------------------------------------- errors


def test_syntax_error_is_raised() -> None:
    with pytest.raises(PQLSyntaxError) as info:
        format("a = ")
    assert info.value.diagnostics[0].span.line == 1


@pytest.mark.parametrize("node", [
    ast.Name("my-field"),
    ast.Attribute(ast.Name("a"), "and"),
    ast.Number(float("nan")),
])
def test_unprintable_trees_raise_validation_errors(node: ast.Expr) -> None:
    with pytest.raises(PQLValidationError):
        format(node)


# ----------------------------------------------------------------------------- properties


@given(exprs())
def test_parse_format_round_trip(tree: ast.Expr) -> None:
    text = format(tree)
    assert parse(text) == tree
    assert parse(format(tree, width=24, indent=3)) == tree


@given(exprs())
def test_format_is_idempotent(tree: ast.Expr) -> None:
    text = format(tree, width=40)
    assert format(text, width=40) == text


@pytest.mark.parametrize("example", reference_examples(errors=False), ids=lambda e: e["id"])
def test_reference_examples_round_trip(example: dict[str, str]) -> None:
    tree = parse(example["text"])
    text = format(tree)
    assert parse(text) == tree
    assert format(text) == text


@pytest.mark.parametrize("example", reference_examples(errors=True), ids=lambda e: e["id"])
def test_broken_reference_examples_are_rejected(example: dict[str, str]) -> None:
    with pytest.raises(PQLSyntaxError):
        format(example["text"])


def test_too_deep_hand_built_tree_is_an_error_not_a_crash() -> None:
    tree: ast.Expr = ast.Name("x")
    for _ in range(5000):
        tree = ast.Not(tree)
    with pytest.raises(PQLValidationError, match="nested too deeply"):
        format(tree)


def test_chain_case_option() -> None:
    text = "CHAIN(xEvent, timestamp, [C0: WHAT(a) WHEN(today) COUNT(2) WHERE(b)])"
    lower = "chain(xEvent, timestamp, [C0: what(a) when(today) count(2) where(b)])"
    assert format(text, chain_case="lower") == lower
    assert format(lower) == text
    assert parse(lower) == parse(text)
    with pytest.raises(ValueError, match="chain_case"):
        format(text, chain_case="title")
