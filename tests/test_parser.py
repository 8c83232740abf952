"""The parser: tree shapes per construct, precedence, keywords, spans, errors, robustness."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pqltools import PQLSyntaxError, parse, parse_document
from pqltools.errors import Severity
from pqltools.syntax import ast as A
from pqltools.syntax.parser import ParseOptions


def n(name: str) -> A.Name:
    return A.Name(name)


def path(dotted: str) -> A.Expr:
    first, *rest = dotted.split(".")
    node: A.Expr = A.Name(first)
    for part in rest:
        node = A.Attribute(node, part)
    return node


def s(value: str) -> A.String:
    return A.String(value)


def num(value: float) -> A.Number:
    return A.Number(value)


NOW = A.TimeKeyword("now")
TODAY = A.TimeKeyword("today")

# ------------------------------------------------------------------ constructs: text -> tree

CONSTRUCTS: list[tuple[str, A.Expr]] = [
    # literals
    ('"pizza"', s("pizza")),
    (r'"a\"b\\c\n\t\u00e9"', s('a"b\\c\n\té')),
    ("412", num(412)),
    ("-201", num(-201)),
    ("0", num(0)),
    ("-51.24", num(-51.24)),
    (".45", num(0.45)),
    ("2.02E12", num(2.02e12)),
    ("2.02E-12", num(2.02e-12)),
    ("true", A.Boolean(True)),
    ("FALSE", A.Boolean(False)),
    ("[1, 4, 7]", A.ListLiteral((num(1), num(4), num(7)))),
    ("[]", A.ListLiteral(())),
    ('["US", "CA"]', A.ListLiteral((s("US"), s("CA")))),
    ("date(2020, 3, 14)", A.Call("date", (num(2020), num(3), num(14)))),
    ("date(currentYear() - 1, 10, 1)",
     A.Call("date", (A.BinOp("-", A.Call("currentYear", ()), num(1)), num(10), num(1)))),
    ('{"count": G.count(), "sum": 2}',
     A.ObjectLiteral((A.ObjectEntry("count", A.MethodCall(n("G"), "count", ())),
                      A.ObjectEntry("sum", num(2))))),
    ("{}", A.ObjectLiteral(())),
    # names and paths
    ("person", n("person")),
    ("_experience.analytics.endUser", path("_experience.analytics.endUser")),
    ("$1.homeAddress", A.Attribute(A.Param(1), "homeAddress")),
    ("$2", A.Param(2)),
    ("xEvent", n("xEvent")),
    ("^gender", A.Attribute(A.ParentRef(1), "gender")),
    ("^^.person.gender", A.Attribute(A.Attribute(A.ParentRef(2), "person"), "gender")),
    ("@{_xdm.context.additionalParameters;version=1}.score",
     A.Attribute(A.ContextRef("", "_xdm.context.additionalParameters;version=1"), "score")),
    ("@event{x}.y", A.Attribute(A.ContextRef("event", "x"), "y")),
    # operators
    ('a = "b"', A.Compare("=", n("a"), s("b"))),
    ("a != b", A.Compare("!=", n("a"), n("b"))),
    ("a < 1", A.Compare("<", n("a"), num(1))),
    ("a <= 1", A.Compare("<=", n("a"), num(1))),
    ("a > 1", A.Compare(">", n("a"), num(1))),
    ("a >= 1", A.Compare(">=", n("a"), num(1))),
    ('a in ["x"]', A.Compare("in", n("a"), A.ListLiteral((s("x"),)))),
    ('a notIn ["x"]', A.Compare("notIn", n("a"), A.ListLiteral((s("x"),)))),
    ('a NOTIN b', A.Compare("notIn", n("a"), n("b"))),
    ('name like "John%"', A.Compare("like", n("name"), s("John%"))),
    ('name matches "^J"', A.Compare("matches", n("name"), s("^J"))),
    ("a and b", A.BoolOp("and", (n("a"), n("b")))),
    ("a AND b And c", A.BoolOp("and", (n("a"), n("b"), n("c")))),
    ("a or b or c", A.BoolOp("or", (n("a"), n("b"), n("c")))),
    ("not a", A.Not(n("a"))),
    ("!(a)", A.Not(n("a"))),
    ("NOT(a OR b)", A.Not(A.BoolOp("or", (n("a"), n("b"))))),
    ("a + b", A.BinOp("+", n("a"), n("b"))),
    ("a % 5 = 0", A.Compare("=", A.BinOp("%", n("a"), num(5)), num(0))),
    ("-a", A.Neg(n("a"))),
    ("a - -5", A.BinOp("-", n("a"), num(-5))),
    # calls
    ("inSegment(\"abc\")", A.Call("inSegment", (s("abc"),))),
    ("currentMonth()", A.Call("currentMonth", ())),
    ('if(a, "x", "y")', A.Call("if", (n("a"), s("x"), s("y")))),
    ('person.name.startsWith("Joe", false)',
     A.MethodCall(path("person.name"), "startsWith", (s("Joe"), A.Boolean(False)))),
    ("orders.topN(price, 5).head()",
     A.MethodCall(A.MethodCall(n("orders"), "topN", (n("price"), num(5))), "head", ())),
    ('identityMap.get("ECID").id', A.Attribute(A.MethodCall(n("identityMap"), "get",
                                                             (s("ECID"),)), "id")),
    ('xEvent[productListItems[SKU = "PS"]]',
     A.Filter(n("xEvent"), A.Filter(n("productListItems"), A.Compare("=", n("SKU"), s("PS"))))),
    ('_coresvc.attributes[name = "product"].value',
     A.Attribute(A.Filter(path("_coresvc.attributes"), A.Compare("=", n("name"), s("product"))),
                 "value")),
    # binders
    ("select X from xEvent where X.a = 1",
     A.Select((A.Binding("X", n("xEvent"), A.Compare("=", path("X.a"), num(1))),))),
    ("select X from xEvent", A.Select((A.Binding("X", n("xEvent"), None),))),
    ("SELECT X FROM xEvent WHERE X.a",
     A.Select((A.Binding("X", n("xEvent"), path("X.a")),))),
    ("select X from xEvent where X.a, I from X.productListItems where I.price > 5",
     A.Select((A.Binding("X", n("xEvent"), path("X.a")),
               A.Binding("I", path("X.productListItems"),
                         A.Compare(">", path("I.price"), num(5)))))),
    ("exists E from xEvent where E.x = 1",
     A.Quantifier("exists", (A.Binding("E", n("xEvent"), A.Compare("=", path("E.x"), num(1))),))),
    ("forall E from xEvent : E.ok", A.Quantifier("forall", (A.Binding("E", n("xEvent"),
                                                                        path("E.ok")),))),
    ("some x FROM xEvent WHERE x.a", A.Quantifier("some", (A.Binding("x", n("xEvent"),
                                                                      path("x.a")),))),
    ("sum X.price over X from xEvent where X.ok",
     A.Aggregate("sum", path("X.price"), (A.Binding("X", n("xEvent"), path("X.ok")),))),
    ("sum X from integerArray where X > 0",
     A.Aggregate("sum", None, (A.Binding("X", n("integerArray"),
                                         A.Compare(">", n("X"), num(0))),))),
    ("let S = x + 1 in S > 2",
     A.Let("S", A.BinOp("+", n("x"), num(1)), A.Compare(">", n("S"), num(2)))),
    ("(K, G) => mapEntry(K, G.count())",
     A.Lambda(("K", "G"), A.Call("mapEntry", (n("K"), A.MethodCall(n("G"), "count", ()))))),
    ("(Profile) => Profile.homeAddress", A.Lambda(("Profile",), path("Profile.homeAddress"))),
    ("() => 1", A.Lambda((), num(1))),
    ("numbers.map((x) => x * x)",
     A.MethodCall(n("numbers"), "map", (A.Lambda(("x",), A.BinOp("*", n("x"), n("x"))),))),
    # time
    ("X.timestamp occurs <= 3 days before now",
     A.Occurs(path("X.timestamp"), A.RelativeTime("<=", 3, "day", "before", NOW))),
    ("ts occurs = 1 hour after today",
     A.Occurs(n("ts"), A.RelativeTime("=", 1, "hour", "after", TODAY))),
    ("ts occurs > 2 MONTHS from tomorrow",
     A.Occurs(n("ts"), A.RelativeTime(">", 2, "month", "from", A.TimeKeyword("tomorrow")))),
    ("ts occurs before today", A.Occurs(n("ts"), A.RelativeTime(None, None, None, "before",
                                                                  TODAY))),
    ("ts occurs today", A.Occurs(n("ts"), A.AtTime(TODAY))),
    ("ts occurs on yesterday", A.Occurs(n("ts"), A.AtTime(A.TimeKeyword("yesterday")))),
    ("ts occurs last month", A.Occurs(n("ts"), A.AtTime(A.CalendarPeriod("last", "month")))),
    ("ts occurs this year", A.Occurs(n("ts"), A.AtTime(A.CalendarPeriod("this", "year")))),
    ("ts occurs next Week", A.Occurs(n("ts"), A.AtTime(A.CalendarPeriod("next", "week")))),
    ("ts occurs on date(2019, 12, 31)",
     A.Occurs(n("ts"), A.AtTime(A.Call("date", (num(2019), num(12), num(31)))))),
    ("ts occurs between date(2020, 1, 1) and today",
     A.Occurs(n("ts"), A.BetweenTimes(A.Call("date", (num(2020), num(1), num(1))), TODAY))),
    ("O2.ts occurs < 2 weeks after O1.ts",
     A.Occurs(path("O2.ts"), A.RelativeTime("<", 2, "week", "after", path("O1.ts")))),
    ("ts occurs < 5 millennia before now",
     A.Occurs(n("ts"), A.RelativeTime("<", 5, "millennium", "before", NOW))),
    ("ts occurs < 1 century before now",
     A.Occurs(n("ts"), A.RelativeTime("<", 1, "century", "before", NOW))),
    # chains
    ('chain(xEvent, timestamp, [C0: WHAT(eventType = "a") WHEN(today)])',
     A.Chain(n("xEvent"), "timestamp", (
         A.ChainStep("C0", what=A.Compare("=", n("eventType"), s("a")), when=A.AtTime(TODAY)),))),
    ('CHAIN(xEvent, timestamp, [A: WHAT(eventType = "h") WHEN(< 24 hours before now) COUNT(5)])',
     A.Chain(n("xEvent"), "timestamp", (
         A.ChainStep("A", what=A.Compare("=", n("eventType"), s("h")),
                     when=A.RelativeTime("<", 24, "hour", "before", NOW), count=5),))),
    ("chain(xEvent, _acme.ts, [X: WHERE(a) WHAT(b), Y: what(c)])",
     A.Chain(n("xEvent"), "_acme.ts", (A.ChainStep("X", what=n("b"), where=n("a")),
                                      A.ChainStep("Y", what=n("c"))))),
    ("chain(xEvent, timestamp, [])", A.Chain(n("xEvent"), "timestamp", ())),
]


@pytest.mark.parametrize("text,expected", CONSTRUCTS, ids=[c[0][:40] for c in CONSTRUCTS])
def test_construct_tree(text: str, expected: A.Expr) -> None:
    assert parse(text) == expected


# ------------------------------------------------------------------ precedence

PRECEDENCE = [
    ("a or b and c", "(a or (b and c))"),
    ("a and b or c", "((a and b) or c)"),
    ("not a and b", "((not a) and b)"),
    ("not a = b", "(not (a = b))"),
    ("! a = b or c", "((not (a = b)) or c)"),
    ("a = b and c != d", "((a = b) and (c != d))"),
    ("a + b * c = d", "((a + (b * c)) = d)"),
    ("a - b - c", "((a - b) - c)"),
    ("a / b * c", "((a / b) * c)"),
    ("-a.b", "(-a.b)"),
    ("-a * b", "((-a) * b)"),
    ("a + b in c", "((a + b) in c)"),
    ("x occurs today and y", "((x occurs today) and y)"),
    ("x.y occurs before now or z", "((x.y occurs) or z)"),
    ("(a or b) and c", "((a or b) and c)"),
    ("a and (b and c)", "(a and (b and c))"),
    ("select X from e where X.a and X.b", "select[(X.a and X.b)]"),
    ("let S = a + 1 in S > 1 and S < 9", "let[((S > 1) and (S < 9))]"),
    ("a + 1 > 2", "((a + 1) > 2)"),
    ("(x) => x and y", "lambda[(x and y)]"),
    ("a.b.c(1).d[e]", "filter"),
]


def show(node: A.Node) -> str:
    """A fully parenthesised rendering that exposes the tree's grouping."""
    if isinstance(node, A.BoolOp):
        return "(" + f" {node.op} ".join(show(v) for v in node.values) + ")"
    if isinstance(node, (A.Compare, A.BinOp)):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    if isinstance(node, A.Not):
        return f"(not {show(node.operand)})"
    if isinstance(node, A.Neg):
        return f"(-{show(node.operand)})"
    if isinstance(node, A.Occurs):
        phrase = node.phrase
        if isinstance(phrase, A.AtTime) and isinstance(phrase.reference, A.TimeKeyword):
            return f"({show(node.subject)} occurs {phrase.reference.word})"
        return f"({show(node.subject)} occurs)"
    if isinstance(node, A.Select):
        return f"select[{show(node.bindings[0].condition)}]"  # type: ignore[arg-type]
    if isinstance(node, A.Let):
        return f"let[{show(node.body)}]"
    if isinstance(node, A.Lambda):
        return f"lambda[{show(node.body)}]"
    if isinstance(node, A.Filter):
        return "filter"
    if isinstance(node, A.Number):
        return str(node.value)
    dotted = A.dotted_path(node)
    if dotted:
        return ".".join(dotted)
    raise AssertionError(node)


@pytest.mark.parametrize("text,grouping", PRECEDENCE)
def test_precedence(text: str, grouping: str) -> None:
    assert show(parse(text)) == grouping


def test_comparisons_do_not_chain() -> None:
    with pytest.raises(PQLSyntaxError) as info:
        parse("a < b < c")
    assert "cannot be chained" in info.value.diagnostics[0].message


def test_binder_as_operand_needs_parentheses() -> None:
    assert isinstance(parse('a = 1 and (select X from xEvent where X.b)'), A.BoolOp)
    with pytest.raises(PQLSyntaxError):
        parse("a = 1 and select X from xEvent where X.b")


# ------------------------------------------------------------------ keywords and names

@pytest.mark.parametrize("word", ["today", "last", "this", "next", "now", "from", "count",
                                  "on", "between", "over", "where", "before", "after", "what",
                                  "when", "day", "days", "month", "sum", "min", "max", "average",
                                  "select", "exists", "forall", "some", "let", "chain", "like",
                                  "matches", "occurs", "in", "notIn", "tomorrow", "yesterday"])
def test_keyword_like_words_are_field_names(word: str) -> None:
    assert parse(f"{word}.value = 1") == A.Compare("=", path(f"{word}.value"), num(1))
    assert parse(f"profile.{word} = 1") == A.Compare("=", path(f"profile.{word}"), num(1))


def test_time_words_are_keywords_only_in_time_phrases() -> None:
    tree = parse("lastVisit occurs last week and today = 1")
    assert tree == A.BoolOp("and", (
        A.Occurs(n("lastVisit"), A.AtTime(A.CalendarPeriod("last", "week"))),
        A.Compare("=", n("today"), num(1))))


def test_aggregate_word_followed_by_operator_is_a_name() -> None:
    assert parse("sum > 3 and min = 1") == A.BoolOp("and", (
        A.Compare(">", n("sum"), num(3)), A.Compare("=", n("min"), num(1))))


@pytest.mark.parametrize("text", ["select X from xEvent", "SELECT X FROM xEvent",
                                  "Select X From xEvent"])
def test_keywords_case_insensitive(text: str) -> None:
    assert parse(text) == A.Select((A.Binding("X", n("xEvent")),))


def test_function_names_keep_their_case() -> None:
    assert parse("a.StartsWith(\"x\")") == A.MethodCall(n("a"), "StartsWith", (s("x"),))


def test_unknown_functions_are_not_syntax_errors() -> None:
    assert parse("workingSet()") == A.Call("workingSet", ())
    assert parse('a.startwith("x")') == A.MethodCall(n("a"), "startwith", (s("x"),))


@pytest.mark.parametrize("word", ["and", "or", "not"])
def test_reserved_words(word: str) -> None:
    with pytest.raises(PQLSyntaxError):
        parse(f"a = {word}")


# ------------------------------------------------------------------ spans

def test_spans_of_nodes() -> None:
    text = 'homeAddress.countryCode = "US" and\n  person.age >= 21'
    tree = parse(text)
    assert isinstance(tree, A.BoolOp)
    first, second = tree.values
    assert (tree.span.start, tree.span.end) == (0, len(text))
    assert text[first.span.start:first.span.end] == 'homeAddress.countryCode = "US"'
    assert text[second.span.start:second.span.end] == "person.age >= 21"
    assert (second.span.line, second.span.column) == (2, 3)
    assert (second.span.end_line, second.span.end_column) == (2, 19)
    assert isinstance(first, A.Compare)
    assert text[first.right.span.start:first.right.span.end] == '"US"'


def test_spans_include_closing_brackets() -> None:
    text = 'f(a, [1, 2]).g(x)[y]'
    tree = parse(text)
    assert (tree.span.start, tree.span.end) == (0, len(text))
    assert isinstance(tree, A.Filter)
    inner = tree.receiver
    assert text[inner.span.start:inner.span.end] == "f(a, [1, 2]).g(x)"


def test_chain_step_span() -> None:
    text = "chain(xEvent, timestamp, [C0: WHAT(a) WHEN(today) COUNT(2)])"
    tree = parse(text)
    assert isinstance(tree, A.Chain)
    step = tree.steps[0]
    assert text[step.span.start:step.span.end] == "C0: WHAT(a) WHEN(today) COUNT(2)"


def _all_spans_nested(tree: A.Node, text: str) -> None:
    for node in tree.walk():
        assert 0 <= node.span.start <= node.span.end <= len(text)
        for child in node.children():
            assert node.span.start <= child.span.start <= child.span.end <= node.span.end


def test_spans_nest_for_a_large_expression() -> None:
    text = ("select X from xEvent where X.a = 1 and X.timestamp occurs between date(2020, 1, 1)"
            " and today, I from X.items where I.price * 2 > ^^.limit")
    _all_spans_nested(parse(text), text)


# ------------------------------------------------------------------ comments

def test_comments_only_when_enabled() -> None:
    text = "-- header\na = 1 -- trailing\n"
    assert parse(text, comments=True) == A.Compare("=", n("a"), num(1))
    with pytest.raises(PQLSyntaxError):
        parse(text)
    result = parse_document(text, ParseOptions(comments=True))
    assert [c.text for c in result.comments] == ["-- header", "-- trailing"]
    assert result.comments[1].span.line == 2


def test_comment_marker_inside_string_is_text() -> None:
    assert parse('a = "x -- y"', comments=True) == A.Compare("=", n("a"), s("x -- y"))


# ------------------------------------------------------------------ errors

ERRORS = [
    # text, code, line, column, message fragment, help/fix fragment
    ("a == 1", "PQL001", 1, 4, "single `=`", "write `=`"),
    ("x = 'US'", "PQL002", 1, 5, "single-quoted", '"US"'),
    ('x = \u201cCA"', "PQL002", 1, 5, "typographic quote", '"CA"'),
    ('x = "abc', "PQL002", 1, 5, "unterminated string", 'closing `"`'),
    ("(a and b", "PQL005", 1, 1, "never closed", "add `)`"),
    ("f(a, [1, 2)", "PQL005", 1, 11, "the `[` at line 1, column 6 is not closed", "]"),
    ("a and b)", "PQL005", 1, 8, "unmatched `)`", "remove"),
    ("select X xEvent where X.a", "PQL001", 1, 8, "missing `from`", "from"),
    ("x && y", "PQL003", 1, 3, "`&&`", "and"),
    ("x || y", "PQL003", 1, 3, "`||`", "or"),
    ("a <> b", "PQL001", 1, 4, "`<>`", "!="),
    ('x = "\\w"', "PQL004", 1, 6, "unknown escape", "\\\\w"),
    ("x = 1e999", "PQL007", 1, 5, "out of range", None),
    ("$0.a", "PQL007", 1, 1, "numbered from `$1`", None),
    ("", "PQL001", 1, 1, "empty expression", None),
    ("a = and b = 1", "PQL001", 1, 5, "unexpected `and`; expected an expression", None),
    ("f(a b)", "PQL001", 1, 5, "unexpected `b`", None),
    ("a.", "PQL001", 1, 2, "ends too early; expected a name", None),
    ("a = 1 #", "PQL003", 1, 7, "unexpected character `#`", None),
    ("ts occurs < 8 dayz before now", "PQL001", 1, 15, "expected a time unit", None),
    ("chain(xEvent, timestamp, [C0: WHAT(a) WHAT(b)])", "PQL001", 1, 39,
     "second `WHAT` clause", None),
]


@pytest.mark.parametrize("text,code,line,column,fragment,hint", ERRORS,
                         ids=[e[0] or "<empty>" for e in ERRORS])
def test_error_message_and_position(text: str, code: str, line: int, column: int,
                                    fragment: str, hint: str | None) -> None:
    with pytest.raises(PQLSyntaxError) as info:
        parse(text)
    diag = info.value.diagnostics[0]
    assert diag.code == code
    assert diag.severity is Severity.ERROR
    assert (diag.span.line, diag.span.column) == (line, column), diag
    assert fragment in diag.message
    if hint is not None:
        offered = (diag.help or "") + (diag.fix.message if diag.fix else "")
        if diag.fix:
            offered += "".join(e.replacement for e in diag.fix.edits)
        assert hint in offered


def test_error_text_shows_line_and_caret() -> None:
    with pytest.raises(PQLSyntaxError) as info:
        parse('a = 1 and\nb == 2')
    assert str(info.value) == (
        "<input>:2:4: error PQL001: `==` is not PQL; equality is a single `=`\n"
        "  b == 2\n"
        "     ^\n"
        "  help: write `=`"
    )


def test_messages_use_pql_words_not_terminal_names() -> None:
    for text in ["a = ", "f(", "x occurs", "select X from", "[1, 2", "a.b(", "chain(xEvent,"]:
        with pytest.raises(PQLSyntaxError) as info:
            parse(text)
        message = info.value.diagnostics[0].message
        assert "__ANON" not in message and "RPAR" not in message and "$END" not in message


def test_fix_of_typographic_quotes_is_valid_pql() -> None:
    text = 'homeAddress.countryISO = \u201cCA" and x = 1'
    with pytest.raises(PQLSyntaxError) as info:
        parse(text)
    fix = info.value.diagnostics[0].fix
    assert fix is not None
    assert parse(fix.apply(text)) == parse('homeAddress.countryISO = "CA" and x = 1')


def test_every_error_is_reported_after_recovery() -> None:
    text = 'a == 1 and b = \'x\' and (c or d and e = "unterminated'
    with pytest.raises(PQLSyntaxError) as info:
        parse(text)
    codes = [(d.code, d.span.column) for d in info.value.diagnostics]
    assert codes == [("PQL001", 4), ("PQL002", 16), ("PQL005", 24), ("PQL002", 40)]


def test_one_typo_makes_one_error() -> None:
    with pytest.raises(PQLSyntaxError) as info:
        parse('a = \u201cCA\u201d and b = 1 and c = 2')
    assert len(info.value.diagnostics) == 1


def test_error_count_is_limited() -> None:
    result = parse_document("a = = 1 and " * 100 + "b", ParseOptions(max_errors=5))
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 5
    assert result.diagnostics[-1].message == "stopped after 5 errors"


# ------------------------------------------------------------------ robustness

@given(st.text(max_size=200))
def test_any_text_gives_tree_or_syntax_error(text: str) -> None:
    result = parse_document(text)
    assert (result.expr is None) == any(d.severity is Severity.ERROR for d in result.diagnostics)
    for d in result.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= len(text)
    if result.expr is not None:
        _all_spans_nested(result.expr, text)


PQL_ALPHABET = st.sampled_from(
    ["a", "b.c", " ", "(", ")", "[", "]", "{", "}", '"s"', "'", "1", "2.5", "=", "!=", "<",
     "and", "or", "not", "in", "select", "X", "from", "where", "exists", "occurs", "<", "8",
     "days", "before", "now", "today", "chain", ",", ":", "WHAT", "WHEN", "COUNT", "$1", "^",
     ".", "+", "-", "*", "let", "=>", "sum", "over", "xEvent", "\n", "\u201c", "@{x}", "--"])


@given(st.lists(PQL_ALPHABET, max_size=40).map("".join))
def test_pql_like_noise_never_crashes(text: str) -> None:
    try:
        tree = parse(text)
    except PQLSyntaxError as exc:
        assert exc.diagnostics
    else:
        _all_spans_nested(tree, text)


@pytest.mark.parametrize(("text", "code"), [
    ("(" * 10_000 + "x" + ")" * 10_000, None),
    ("(" * 10_000 + "x", "PQL006"),
    (")" * 10_000, "PQL006"),
    ("not " * 10_000 + "x", "PQL006"),
    ("f(" * 5_000 + "x" + ")" * 5_000, "PQL006"),
    (" + ".join(["1"] * 5_000), "PQL006"),
    ('x = "' + "a" * 1_000_000 + '"', None),
    ('x = "' + "a" * 1_000_000, "PQL002"),
    ("a b " * 100_000, "PQL006"),
    ("\x00\x01\xff" * 100_000, "PQL003"),
])
def test_huge_and_deep_inputs(text: str, code: str | None) -> None:
    """Each input has one expected outcome: parsed, or refused with ``code`` among the
    diagnostics (deep nesting is PQL006, the limit, never a RecursionError)."""
    result = parse_document(text)
    if code is None:
        assert result.expr is not None and result.diagnostics == []
    else:
        assert result.expr is None
        assert code in {d.code for d in result.diagnostics}


def test_bytes_input() -> None:
    assert parse(b'a = "\xc3\xa9"') == A.Compare("=", n("a"), s("é"))
    with pytest.raises(PQLSyntaxError) as info:
        parse(b"a = \xff")
    assert "UTF-8" in info.value.diagnostics[0].message


def test_depth_limit_is_configurable() -> None:
    text = "not " * 50 + "x"
    assert isinstance(parse(text), A.Not)
    with pytest.raises(PQLSyntaxError):
        parse(text, max_depth=20)


def test_binder_argument_needs_parentheses_with_a_hint() -> None:
    assert parse("f((select X from A where c), 2)") == A.Call("f", (
        A.Select((A.Binding("X", n("A"), n("c")),)), num(2)))
    with pytest.raises(PQLSyntaxError) as info:
        parse("f(select X from A where c, 2)")
    assert "parentheses" in (info.value.diagnostics[0].help or "")


DEEP_SHAPES = {
    "calls": lambda d: "f(" * d + "x" + ")" * d,
    "lists": lambda d: "[" * d + "]" * d,
    "sums": lambda d: " + ".join(["1"] * d) + " > 2",
    "filters": lambda d: "x" + "[y]" * d,
    "methods": lambda d: "a" + ".m(1)" * d,
    "nots": lambda d: "not " * d + "x",
    "lets": lambda d: "let a = 1 in " * d + "a",
    "objects": lambda d: '{"a": ' * d + "1" + "}" * d,
}


@pytest.mark.parametrize("shape", sorted(DEEP_SHAPES))
def test_every_pass_handles_the_deepest_tree_the_parser_accepts(shape: str) -> None:
    """Whatever parses within the default depth limit can be formatted, converted and linted."""
    import pqltools

    make = DEEP_SHAPES[shape]
    depth = 99
    while True:  # the deepest text of this shape that the default limit accepts
        try:
            tree = parse(make(depth))
            break
        except PQLSyntaxError:
            depth -= 1
    assert depth > 40
    assert parse(pqltools.format(tree)) == tree
    assert pqltools.from_json(pqltools.to_json(tree)) == tree
    pqltools.lint(make(depth))
    pqltools.classify(tree)
