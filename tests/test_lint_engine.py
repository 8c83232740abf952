"""The lint engine: syntax diagnostics, configuration and noqa suppression."""

from __future__ import annotations

from pathlib import Path

import pytest

from pqltools.analysis.config import Config
from pqltools.analysis.lint import Suppressions, lint, lint_source, parse_noqa
from pqltools.analysis.rules import REGISTRY, Rule, all_rules, get_rule, register
from pqltools.analysis.rules._docs import rules_markdown
from pqltools.analysis.schema import SchemaError
from pqltools.definitions import load_definitions
from pqltools.errors import Diagnostic, Severity, Span

ROOT = Path(__file__).resolve().parent.parent
NULL_CMP = "person.name != null"


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


# ---- engine + configuration + suppression with real rules ----------------------------------


def codes(found: list[Diagnostic]) -> list[str]:
    return [d.code for d in found]


def test_docs_rules_md_is_generated_from_the_rules() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "run: python -m pqltools.analysis.rules > docs/rules.md"


def test_rule_lookup_by_code_and_name() -> None:
    rule = get_rule("PQL120")
    assert rule is not None and rule.name == "null-comparison"
    assert get_rule("null-comparison") is rule
    assert get_rule("pql120") is rule
    assert get_rule("PQL999") is None
    assert [r.code for r in all_rules()] == sorted(r.code for r in all_rules())


def test_register_rejects_incomplete_or_clashing_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from pqltools import codes as code_table

    class NoRow(Rule):
        code = "PQL998"
        severity = Severity.WARNING
        explanation = why = bad = good = "x"

    with pytest.raises(TypeError, match="'PQL998' has no lint row in pqltools/codes.py"):
        register(NoRow)

    row = code_table.Code("PQL998", "no-docs", code_table.Category.LINT, "s")
    monkeypatch.setitem(code_table.CODES, "PQL998", row)

    class NoDocs(Rule):
        code = "PQL998"
        severity = Severity.WARNING
        explanation = bad = good = "x"

    with pytest.raises(TypeError, match="has no why"):
        register(NoDocs)

    class OtherName(Rule):
        code = "PQL120"
        name = "another-null"
        severity = Severity.WARNING
        explanation = why = bad = good = "x"

    with pytest.raises(TypeError, match="name 'another-null' differs from its row"):
        register(OtherName)

    class Clash(Rule):
        code = "PQL120"
        severity = Severity.WARNING
        explanation = why = bad = good = "x"

    with pytest.raises(TypeError, match="rule code PQL120 used by NullComparison and Clash"):
        register(Clash)
    assert "PQL998" not in REGISTRY and REGISTRY["PQL120"].name == "null-comparison"


def test_severity_override_select_and_ignore() -> None:
    assert [(d.code, d.severity) for d in lint(NULL_CMP)] == [("PQL120", Severity.WARNING)]
    raised = lint(NULL_CMP, config=Config(severity={"PQL120": Severity.ERROR}))
    assert [(d.code, d.severity) for d in raised] == [("PQL120", Severity.ERROR)]
    assert lint(NULL_CMP, config=Config(ignore=("PQL12",))) == []
    assert lint(NULL_CMP, config=Config(select=("PQL2",))) == []
    # syntax errors survive any selection
    assert codes(lint('a = "x', config=Config(select=("PQL2",), ignore=("PQL0",)))) == ["PQL002"]


def test_findings_are_sorted_by_position() -> None:
    found = lint('x = null and inSegmnt("a") and "a" = "a"')
    assert [(d.code, d.span.column) for d in found] == [
        ("PQL120", 5), ("PQL101", 14), ("PQL121", 32)]


def test_noqa_comments_in_pql_source() -> None:
    text = f"{NULL_CMP} -- pql: noqa: PQL120\nand workingSet()"
    assert codes(lint_source(text, comments=True, config=None, schema=None)) == ["PQL101"]
    text = f"-- pql: noqa\n{NULL_CMP}\nand workingSet()"
    assert lint_source(text, comments=True, config=None, schema=None) == []
    text = f"{NULL_CMP} -- pql: noqa: PQL101\n"
    assert codes(lint_source(text, comments=True, config=None, schema=None)) == ["PQL120"]


def test_definition_noqa_and_per_file_ignores(tmp_path: Path) -> None:
    raw = {"expression": {"type": "PQL", "format": "pql/text", "value": NULL_CMP},
           "pqltools": {"noqa": ["PQL120"]}}
    definition = load_definitions(raw)[0]
    assert lint_source(definition.expression, comments=False, config=None, schema=None,
                       definition=definition) == []
    raw["pqltools"] = {"noqa": True}
    definition = load_definitions(raw)[0]
    assert lint_source(definition.expression, comments=False, config=None, schema=None,
                       definition=definition) == []
    config = Config.from_dict({"per-file-ignores": {"legacy/*.json": ["PQL120"]}},
                              path=tmp_path / "pqltools.toml")
    kwargs = {"comments": False, "config": config, "schema": None}
    assert lint_source(NULL_CMP, filename=tmp_path / "legacy" / "a.json", **kwargs) == []
    assert codes(lint_source(NULL_CMP, filename=tmp_path / "new" / "a.json", **kwargs)) == [
        "PQL120"]


def test_schema_from_argument_mapping_or_config(tmp_path: Path) -> None:
    text = "homeAddress.countryCod = 1"
    assert lint(text) == []
    assert codes(lint(text, schema={"homeAddress.countryCode": "string"})) == ["PQL201"]
    schema_file = tmp_path / "fields.json"
    schema_file.write_text('{"homeAddress.countryCode": "string"}', encoding="utf-8")
    assert codes(lint(text, config=Config(schema=schema_file))) == ["PQL201"]


def test_bad_schema_raises_schema_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"a.b": "strin"}', encoding="utf-8")
    with pytest.raises(SchemaError, match=r"bad.json: field 'a.b': unknown type 'strin'"):
        lint("a.b = 1", schema=bad)


def test_unparsable_text_still_gets_text_rules_and_syntax_errors() -> None:
    found = lint('"x" = <OrgID> and (b = 1')
    assert [(d.code, d.span.column) for d in found] == [("PQL111", 7), ("PQL005", 19)]


def test_lint_source_reuses_a_parse_made_with_the_same_options() -> None:
    from pqltools.analysis.lint import lint_source
    from pqltools.syntax.parser import ParseOptions, parse_document

    text = 'person.name.startwith("J")'
    fresh = lint_source(text, comments=False, config=None, schema=None)
    reused = parse_document(text, ParseOptions(comments=False))
    assert lint_source(text, comments=False, config=None, schema=None, parsed=reused) == fresh
    # a parse of other text (or with other options) is ignored, never trusted
    other = parse_document("a = 1", ParseOptions(comments=False))
    assert lint_source(text, comments=False, config=None, schema=None, parsed=other) == fresh
