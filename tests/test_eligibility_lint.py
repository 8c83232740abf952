"""The PQL301 lint rule: evaluationInfo asks for a method the expression cannot have."""

from __future__ import annotations

from typing import Any

import pytest

from pqltools.analysis.config import Config
from pqltools.analysis.lint import lint_source
from pqltools.analysis.rules import get_rule
from pqltools.definitions import Definition, load_definitions
from pqltools.errors import Diagnostic, Severity


def definition(value: str, **info: bool) -> Definition:
    return load_definitions({
        "id": "d", "name": "demo",
        "expression": {"type": "PQL", "format": "pql/text", "value": value},
        "evaluationInfo": {k: {"enabled": v} for k, v in info.items()},
    })[0]


def pql301(defn: Definition, config: Config | None = None) -> list[Diagnostic]:
    found = lint_source(defn.expression, comments=False, config=config or Config(), schema=None,
                        definition=defn)
    return [d for d in found if d.code == "PQL301"]


def test_rule_is_registered_as_info() -> None:
    rule = get_rule("requested-method-not-eligible")
    assert rule is not None and rule.code == "PQL301" and rule.severity is Severity.INFO


FAIL: list[tuple[str, dict[str, Any], str, tuple[int, int]]] = [
    ('xEvent[eventType = "checkout"]', {"continuous": True}, "streaming", (0, 30)),
    ('a = 1 and chain(xEvent, timestamp, [A: WHAT(b = 1) WHEN(< 3 days before now)])',
     {"synchronous": True}, "edge", (56, 75)),
    ("chain(xEvent, timestamp, [A: WHAT(b = 1) WHEN(today), B: WHAT(b = 2) WHEN(today)])",
     {"synchronous": True, "batch": True}, "edge", (54, 80)),
]


@pytest.mark.parametrize("value, info, method, span", FAIL)
def test_reports_unsatisfiable_request(value: str, info: dict[str, bool], method: str,
                                       span: tuple[int, int]) -> None:
    (diag,) = pql301(definition(value, **info))
    assert diag.severity is Severity.INFO
    assert diag.message.startswith(f"evaluationInfo asks for {method} (")
    assert (diag.span.start, diag.span.end) == span
    assert diag.help is not None and diag.help.endswith(
        "Adobe evaluates it in batch instead; `pql classify` lists every reason.")


PASS: list[tuple[str, dict[str, bool]]] = [
    ('xEvent[eventType = "checkout" and timestamp occurs today]', {"continuous": True}),
    ('xEvent[eventType = "checkout"]', {"batch": True}),
    ('xEvent[eventType = "checkout"]', {}),
    # the only obstacle is an unknown audience: not reported
    ('inSegment("x") and xEvent[timestamp occurs today]', {"continuous": True}),
    ('homeAddress.country = "US"', {"continuous": True, "synchronous": True}),
]


@pytest.mark.parametrize("value, info", PASS)
def test_silent_when_satisfiable_or_only_assumed(value: str, info: dict[str, bool]) -> None:
    assert pql301(definition(value, **info)) == []


def test_not_run_for_plain_expressions() -> None:
    found = lint_source('xEvent[eventType = "x"]', comments=False, config=Config(), schema=None)
    assert [d for d in found if d.code == "PQL301"] == []


def test_uses_configured_rule_set_and_severity() -> None:
    defn = definition('xEvent[timestamp occurs < 3 days before now]', continuous=True)
    assert len(pql301(defn)) == 1
    legacy = Config(eligibility_rules="legacy")
    assert pql301(defn, legacy) == []
    strict = Config(severity={"PQL301": Severity.ERROR})
    (diag,) = pql301(defn, strict)
    assert diag.severity is Severity.ERROR
