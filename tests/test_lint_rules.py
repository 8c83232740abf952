"""Data-driven rule cases: one ``tests/rules/<CODE>.yaml`` per rule.

Each file names its ``rule``, an optional ``schema`` (path relative to the repository, or an
inline ``{path: type}`` map) and ``config`` (the TOML keys as a mapping), then ``pass`` cases
(no finding of the rule) and ``fail`` cases with the exact ``findings`` (``CODE line:col``),
optionally the exact ``messages``, the ``fixed`` text after applying the rule's fixes (``null``:
no fix offered), and ``no_syntax_errors`` (the rule replaces the parser's error). A case may
override ``schema``/``config``, set ``comments: true``, or give ``evaluationInfo`` to lint the
text as the expression of a JSON segment definition with that ``evaluationInfo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pqltools.analysis.config import Config
from pqltools.analysis.lint import lint_source
from pqltools.analysis.rules import all_rules
from pqltools.definitions import load_definitions
from pqltools.errors import Diagnostic, apply_fixes

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests" / "rules").glob("PQL*.yaml"))


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["rule"] == path.stem, f"{path.name} describes {data['rule']}"
    return data


def _cases() -> list[Any]:
    out = []
    for path in CASES:
        data = _load(path)
        for kind in ("pass", "fail"):
            for index, case in enumerate(data.get(kind) or []):
                case = {"text": case} if isinstance(case, str) else case
                out.append(pytest.param(data, kind, case, id=f"{path.stem}-{kind}-{index}"))
    return out


def _run(data: dict[str, Any], case: dict[str, Any]) -> tuple[list[Diagnostic], list[Diagnostic]]:
    schema = case["schema"] if "schema" in case else data.get("schema")
    if isinstance(schema, str):
        schema = ROOT / schema
    config = Config.from_dict(case.get("config", data.get("config", {})))
    definition = None
    if "evaluationInfo" in case:
        definition = load_definitions({
            "expression": {"type": "PQL", "format": "pql/text", "value": case["text"]},
            "evaluationInfo": case["evaluationInfo"]})[0]
    found = lint_source(case["text"], comments=bool(case.get("comments")), config=config,
                        schema=schema, definition=definition)
    return [d for d in found if d.code == data["rule"]], found


@pytest.mark.parametrize(("data", "kind", "case"), _cases())
def test_rule_case(data: dict[str, Any], kind: str, case: dict[str, Any]) -> None:
    own, everything = _run(data, case)
    if kind == "pass":
        assert own == [], [d.message for d in own]
        return
    assert [f"{d.code} {d.span.line}:{d.span.column}" for d in own] == case["findings"]
    if "messages" in case:
        assert [d.message for d in own] == case["messages"]
    if case.get("no_syntax_errors"):
        assert not [d for d in everything if d.code.startswith("PQL0")]
    if "fixed" in case:
        fixes = [d.fix for d in own if d.fix is not None]
        if case["fixed"] is None:
            assert fixes == []
        else:
            # every fix's offsets refer to the linted text: applied together, from the end
            assert apply_fixes(case["text"], fixes) == case["fixed"]


def test_every_rule_has_a_case_file_with_pass_and_fail_cases() -> None:
    files = {p.stem for p in CASES}
    for rule in all_rules():
        assert rule.code in files, f"no tests/rules/{rule.code}.yaml"
        data = _load(ROOT / "tests" / "rules" / f"{rule.code}.yaml")
        assert data.get("pass") and data.get("fail"), rule.code


def test_fixed_output_still_parses_and_no_longer_has_the_finding() -> None:
    for path in CASES:
        data = _load(path)
        for case in data.get("fail") or []:
            if not case.get("fixed"):
                continue
            again, _ = _run(data, {**case, "text": case["fixed"]})
            assert again == [], (path.stem, case["fixed"])
