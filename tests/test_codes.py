"""The one code table (pqltools/codes.py): every code used is in it, every row is used, each
range holds its category, rule docs behave as documented, declared fixes match emitted ones."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pqltools import codes
from pqltools.analysis.config import Config
from pqltools.analysis.lint import lint_source
from pqltools.analysis.rules import REGISTRY, Rule, all_rules
from pqltools.definitions import load_definitions
from pqltools.errors import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
CODE_RE = re.compile(r"PQL\d{3}")
RANGES = {
    codes.Category.SYNTAX: range(1, 90),
    codes.Category.INPUT: range(90, 100),
    codes.Category.CONFIGURATION: range(90, 100),
    codes.Category.TOOL: range(90, 100),
    codes.Category.LINT: range(100, 200),
    codes.Category.SCHEMA: range(200, 300),
    codes.Category.ELIGIBILITY: range(300, 400),
    codes.Category.EVALUATION: range(400, 500),
    codes.Category.REQUEST: range(500, 600),
}


def _code_literals() -> dict[str, list[str]]:
    """Every string constant of the library that is exactly a code -> where it stands."""
    found: dict[str, list[str]] = {}
    for folder in (ROOT / "pqltools", ROOT / "lsp"):
        for path in sorted(folder.rglob("*.py")):
            if path == ROOT / "pqltools" / "codes.py":
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                        CODE_RE.fullmatch(node.value)):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.value, []).append(where)
    return found


LITERALS = _code_literals()


def test_every_code_the_library_writes_is_in_the_table() -> None:
    assert len(LITERALS) > 10  # the scan finds the codes at all
    assert {code: where for code, where in LITERALS.items() if code not in codes.CODES} == {}


def test_every_row_is_reported_somewhere() -> None:
    """A row nothing reports is dead: rules are registered, other codes written as literals."""
    all_rules()
    unused = [code for code, row in codes.CODES.items()
              if code not in LITERALS and code not in REGISTRY]
    assert unused == []


def test_rows_are_in_their_range_with_unique_kebab_case_names() -> None:
    names = [row.name for row in codes.CODES.values()]
    assert len(set(names)) == len(names)
    for code, row in codes.CODES.items():
        assert row.code == code and CODE_RE.fullmatch(code)
        assert int(code[3:]) in RANGES[row.category], code
        assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", row.name), row.name
        assert row.summary and not row.summary.endswith(".")
        assert row.category.is_rule or row.explanation, f"{code} needs an explanation"


def test_rule_rows_and_registered_rules_are_the_same_codes() -> None:
    rule_rows = {code for code, row in codes.CODES.items() if row.category.is_rule}
    assert rule_rows == {rule.code for rule in all_rules()}


def test_renumbered_codes_are_gone_and_their_targets_exist() -> None:
    for old, new in codes.RENUMBERED.items():
        assert old not in codes.CODES and old not in LITERALS
        assert all(code.strip() in codes.CODES for code in new.split(","))


# ---------------------------------------------------------------- rule docs and fixes


def _case_file(rule: Rule) -> dict[str, Any]:
    path = ROOT / "tests" / "rules" / f"{rule.code}.yaml"
    return yaml.safe_load(path.read_text("utf-8")) if path.exists() else {}


def _lint(rule: Rule, text: str, schema: Any = None) -> list[Diagnostic]:
    data = _case_file(rule)
    if schema is None and isinstance(data.get("schema"), str):
        schema = ROOT / data["schema"]
    config = Config.from_dict(data.get("config", {}))
    if text.lstrip().startswith("{"):  # a whole segment definition
        (definition,) = load_definitions(json.loads(text))
        return lint_source(definition.expression, comments=False, config=config,
                           schema=schema, definition=definition)
    return lint_source(text, comments=False, config=config, schema=schema)


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_bad_example_is_reported_and_good_example_is_not(rule: Rule) -> None:
    assert rule.code in [d.code for d in _lint(rule, rule.bad)], rule.bad
    good = _lint(rule, rule.good)
    assert rule.code not in [d.code for d in good], rule.good
    assert [d.code for d in good if d.severity.value == "error"] == [], rule.good


def _emitted(rule: Rule) -> list[Diagnostic]:
    """The rule's findings on its bad example and on every fail case of its case file."""
    data = _case_file(rule)
    texts = [rule.bad] + [case if isinstance(case, str) else case["text"]
                          for case in data.get("fail") or []
                          if isinstance(case, str) or "evaluationInfo" not in case]
    found = []
    for text in texts:
        found.extend(d for d in _lint(rule, text) if d.code == rule.code)
    return found


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_declared_fix_availability_matches_what_the_rule_emits(rule: Rule) -> None:
    emitted = _emitted(rule)
    assert emitted, "no finding to judge"
    fixes = [d.fix for d in emitted if d.fix is not None]
    if rule.fix is None:
        assert fixes == [], f"{rule.code} emits fixes but declares none"
        return
    assert fixes, f"{rule.code} declares a {rule.fix} fix but never emits one"
    assert {f.safe for f in fixes} == {rule.fix == "safe"}, [f.message for f in fixes]


def test_docs_functions_md_is_generated_from_the_catalog() -> None:
    from pqltools import catalog

    committed = (ROOT / "docs" / "functions.md").read_text("utf-8")
    assert committed == catalog.functions_markdown(), (
        "run: python -m pqltools.catalog > docs/functions.md")
    for spec in catalog.ALL_FUNCTIONS:
        assert f"### `{spec.name}`\n\n`{spec.signature}`" in committed
