"""Incremental parsing of ``.pql`` documents gives exactly the whole parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pqltools_lsp.documents import parsed
from pqltools_lsp.incremental import MIN_CLAUSES, clause_bounds, split

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


# ---- the operators of an edited text: rescanned from the edited clause only -----------------

EDIT_PIECES = ["", "a", " ", "\n", '"', "\\", "(", ")", "[", "]", " and ", " or ", "and", "o",
               "r", "--", "-- c\n", "select ", "$", ".", "x", "1"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(CLAUSES), min_size=MIN_CLAUSES, max_size=14),
       st.lists(st.sampled_from(SEPARATORS), min_size=14, max_size=14),
       st.lists(st.tuples(st.floats(0, 1), st.integers(0, 6),
                          st.lists(st.sampled_from(EDIT_PIECES), max_size=3)),
                min_size=1, max_size=4))
def test_operators_after_edits_equal_a_fresh_scan(clauses: list[str], separators: list[str],
                                                   edits: list[tuple[float, int, list[str]]]
                                                   ) -> None:
    from pqltools_lsp import incremental

    text = clauses[0] + "".join(s + c for s, c in zip(separators, clauses[1:]))
    for where, removed, inserted in edits:
        incremental._operators(text, True)  # remembered when it can be cut
        at = round(where * len(text))
        text = text[:at] + "".join(inserted) + text[at + removed:]
        assert incremental._operators(text, True) == \
            incremental._top_level_operators(text, True), text


# ---- lint clause by clause: exactly the whole document's findings ---------------------------

LINT_CLAUSES = [
    'homeAddress.countryCode = "US"', 'homeAddress.countryCode = "CA"',
    'homeAddress.countryCode = "MX"', "person.name != null", "true", "1 = 1",
    'xEvent[eventType = "a"].count() > 2', "orders.sum(price) > 10",
    "xEvent.timestamp occurs < 8 days before now", "(not(a = 1))", "foo(1) = 2", "a.bar() = 1",
    '"<OrgID>" = a', "(exists X from xEvent where X.a = 1)", "X.timestamp occurs today",
    "(exists x from xEvent where x.a = 1)", "x.b = 1", 'a.equals("AL", "AK", "AZ")',
    'xEvent[productListItems[options[name = "size"]]]', "c != 2 -- pql: noqa: PQL132\n",
    "(Y.a = 1 or Y.a = 2 or Y.a = 3)", "Z.a = 1", "d.count() > 1 -- pql: noqa\n",
    "(select Z from xEvent where Z.a = 1).count() > 0",
]
#: Clauses the clause-by-clause lint leaves to the whole lint (syntax errors, a top-level word
#: that forbids the cut).
WHOLE_CLAUSES = ["e =", "_{TENANT_ID}.x = 1", "not(a = 1)", "if(true, a, b) = 1"]
LINT_SEPARATORS = [" and ", " or ", "\n  and ", "\n  or ", " OR ", " and -- c\n",
                   "\n-- pql: noqa: PQL131\n and "]


def _configs() -> list[object]:
    from pqltools.analysis.config import Config, Limits

    return [Config(), Config(limits=Limits(aggregations=1, in_list=2)),
            Config(select=("ALL",), ignore=("PQL130",)),
            Config(severity={"PQL131": "error", "PQL124": "info"})]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINT_CLAUSES), min_size=MIN_CLAUSES, max_size=14),
       st.lists(st.sampled_from(LINT_SEPARATORS), min_size=14, max_size=14),
       st.integers(0, 3), st.none() | st.tuples(st.integers(0, 13), st.sampled_from(WHOLE_CLAUSES)))
def test_lint_by_clause_equals_the_whole_lint(clauses: list[str], separators: list[str],
                                              which: int, whole_clause: tuple[int, str] | None
                                              ) -> None:
    from pqltools_lsp.clause_lint import lint_clauses

    from pqltools.analysis.lint import lint_source

    if whole_clause is not None:
        clauses[whole_clause[0] % len(clauses)] = whole_clause[1]
    config = _configs()[which]
    text = clauses[0] + "".join(s + c for s, c in zip(separators, clauses[1:])) + "\n"
    whole = lint_source(text, comments=True, config=config, schema=None, filename="a.pql")
    by_clause = lint_clauses(text, config, "a.pql", cold_limit=None)  # type: ignore[arg-type]
    if by_clause is not None:
        assert by_clause == whole
    names = ("X", "x.", "Y", "Z")
    if split(text, True) is not None and not any(
            c in WHOLE_CLAUSES or any(n in c for n in names) for c in clauses):
        assert by_clause is not None  # the clause-by-clause path does serve such texts


def test_lint_by_clause_serves_the_benchmark_document_and_its_edits() -> None:
    from pqltools_lsp.clause_lint import lint_clauses

    from pqltools.analysis.config import Config
    from pqltools.analysis.lint import lint_source
    from pqltools.bench.lsp import document

    config = Config()
    text = document(120)
    for edit in range(3):
        at = text.index("1200", 40 * edit + 1000)
        text = text[:at] + str(edit) + text[at:]
        whole = lint_source(text, comments=True, config=config, schema=None, filename=None)
        assert {d.code for d in whole} == {"PQL124", "PQL131"}
        assert lint_clauses(text, config, None, cold_limit=None) == whole


def test_names_bound_in_another_clause_lint_the_whole_text() -> None:
    from pqltools_lsp.clause_lint import lint_clauses

    from pqltools.analysis.config import Config

    rest = " and ".join(f"a{i} = {i}" for i in range(MIN_CLAUSES))
    bound = "(exists x from xEvent where x.a = 1) and "
    assert lint_clauses(bound + rest, Config(), None, cold_limit=None) is not None
    assert lint_clauses(bound + rest + " and x.b = 1", Config(), None, cold_limit=None) is None


def test_a_cold_document_is_linted_whole_until_warmed() -> None:
    from pqltools_lsp.clause_lint import COLD_LIMIT, lint_clauses, warm

    from pqltools.analysis.config import Config
    from pqltools.analysis.lint import lint_source

    config = Config()
    text = " and\n".join(f"a{i} = {i}" for i in range(COLD_LIMIT + 1))
    assert lint_clauses(text, config, None) is None
    warm(text, config)
    assert lint_clauses(text, config, None) == \
        lint_source(text, comments=True, config=config, schema=None)


# ---- semantic tokens and the eligibility verdict, clause by clause ---------------------------

TOKEN_CLAUSES = [c for c in CLAUSES if c not in ("", "AND", "e =", "1 +")] + [
    'name = "café ☕ 𝄞"', "é.ü = 1", 'a = "x\\\ny"', "b = 1 -- 𝄞 note\r\n", 'h.x = "tab\there"',
]
TOKEN_SEPARATORS = [*SEPARATORS, "\r\n and ", "\r or ", " and -- 𝄞\n"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKEN_CLAUSES), min_size=MIN_CLAUSES, max_size=12),
       st.lists(st.sampled_from(TOKEN_SEPARATORS), min_size=12, max_size=12),
       st.sampled_from(["utf-16", "utf-8", "utf-32"]), st.sampled_from(["", "\n", "é -- x\n"]))
def test_tokens_encoded_by_clause_equal_tokens_encoded_one_by_one(
        clauses: list[str], separators: list[str], encoding: str, head: str) -> None:
    from pqltools_lsp.documents import Snapshot
    from pqltools_lsp.tokens import _encode_each, encode

    text = head + clauses[0] + "".join(s + c for s, c in zip(separators, clauses[1:]))
    snap = Snapshot.build("untitled:t.pql", text, 1, language_id="pql", encoding=encoding)
    assert encode(snap) == _encode_each(snap, None)


ELIGIBILITY_CLAUSES = [
    'xEvent[eventType = "commerce.purchases"].count() > 2',
    "xEvent.timestamp occurs < 8 days before now", 'homeAddress.countryCode = "US"',
    "person.birthDate.getMonth() = 5", "person.birthDate.getYear() < 1990",
    "other.getDayOfMonth() = 1", 'inSegment("abc")', 'segmentMembership.get("aam").get("x")',
    'segmentMembership.get("ups").get("s1")', 'm.get("k") = 1', "$2.a = 1",
    "(exists X from xEvent where X.timestamp occurs < 1 hours before now)",
    "(select A from xEvent, B from xEvent where B.timestamp occurs after A.timestamp)",
    "xEvent[eventType = \"a\" and timestamp occurs today]", "(not(xEvent.a = 1))",
    "xEvent[a = 1].count() = 0", "(sum X.v over X from xEvent) > 3",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(ELIGIBILITY_CLAUSES), min_size=MIN_CLAUSES, max_size=12),
       st.lists(st.sampled_from(SEPARATORS), min_size=12, max_size=12),
       st.sampled_from(["2025", "legacy"]))
def test_eligibility_by_clause_equals_the_whole_classification(
        clauses: list[str], separators: list[str], rules: str) -> None:
    from pqltools_lsp.clause_facts import classify_clauses

    from pqltools.analysis.eligibility import classify

    text = clauses[0] + "".join(s + c for s, c in zip(separators, clauses[1:]))
    whole = parsed(text, True)
    by_clause = classify_clauses(text, rules, cold_limit=None)
    if split(text, True) is None or not whole.ok:
        assert by_clause is None
        return
    assert by_clause is not None and whole.expr is not None
    expected = classify(whole.expr, rules=rules)
    assert by_clause == expected
    assert by_clause.facts == expected.facts  # compare=False on the result: check them too


# ---- completion looks at the clause being typed -----------------------------------------------


def _labels(snap: object, line: int, character: int) -> list[str]:
    from lsprotocol import types
    from pqltools_lsp.completion import complete

    from pqltools.analysis.config import Config

    found = complete(snap, types.Position(line=line, character=character),  # type: ignore[arg-type]
                     Config())
    assert found is not None
    return [item.label for item in found.items]


def test_completion_in_a_long_document_reads_the_clause_being_typed() -> None:
    from lsprotocol import types
    from pqltools_lsp.completion import items_for
    from pqltools_lsp.documents import Region, Snapshot

    from pqltools.analysis.config import Config
    from pqltools.bench.lsp import document

    text = document(60)
    snap = Snapshot.build("untitled:c.pql", text, 1, language_id="pql")
    rows = text.split("\n")
    whole = Region(text, comments=True)
    for line, row in enumerate(rows):  # after a `.`: as in the whole text
        if "homeAddress." not in row:
            continue
        column = row.index("homeAddress.") + 12
        offset = snap.index.offset(types.Position(line=line, character=column))
        assert _labels(snap, line, column) == \
            [i.label for i in items_for(whole, offset, Config())]
    # a number after `occurs` in an earlier clause is not a time amount here
    text = "\n  and ".join(["xEvent.timestamp occurs < 8 days before now",
                            *(f"a{i} = {i}" for i in range(MIN_CLAUSES))]) + " and b = 3 "
    snap = Snapshot.build("untitled:c.pql", text, 1, language_id="pql")
    last = text.count("\n")
    labels = _labels(snap, last, len(text.split("\n")[-1]))
    assert "days" not in labels and "and" in labels
