"""The lint engine: syntax diagnostics, configuration and noqa suppression."""

from __future__ import annotations

from pqltools.analysis.config import Config
from pqltools.analysis.lint import Suppressions, lint, lint_source, parse_noqa
from pqltools.errors import Diagnostic, Severity, Span


def test_syntax_errors_are_reported_with_parser_codes() -> None:
    found = lint('a = "x')
    assert [d.code for d in found] == ["PQL002"]
    assert found[0].severity is Severity.ERROR
    assert (found[0].span.line, found[0].span.column) == (1, 5)


def test_clean_expression_has_no_findings() -> None:
    assert lint('homeAddress.countryCode = "US"') == []


def test_parse_noqa_forms() -> None:
    assert parse_noqa("-- pql: noqa") == frozenset()
    assert parse_noqa("-- pql: noqa: PQL101, pql205") == {"PQL101", "PQL205"}
    assert parse_noqa("--PQL:NOQA:PQL101") == {"PQL101"}
    assert parse_noqa("-- just a comment") is None


def _diag(code: str, line: int) -> Diagnostic:
    return Diagnostic(code, "m", Severity.WARNING, Span(0, 1, line, 1, line, 2))


def test_own_line_noqa_covers_whole_expression_and_trailing_noqa_its_line() -> None:
    text = "-- pql: noqa: PQL101\na = 1 -- pql: noqa: PQL120\nand b = 2\n"
    from pqltools.syntax.parser import ParseOptions, parse_document

    comments = parse_document(text, ParseOptions(comments=True)).comments
    s = Suppressions.collect(comments, text)
    assert s.hides(_diag("PQL101", 3))
    assert s.hides(_diag("PQL120", 2))
    assert not s.hides(_diag("PQL120", 3))
    assert not s.hides(_diag("PQL001", 2))


def test_lint_source_accepts_comments() -> None:
    assert lint_source("-- a comment\na = 1", comments=True, config=Config(), schema=None) == []
