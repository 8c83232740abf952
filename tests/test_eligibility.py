"""Eligibility analyzer: the data-driven cases of tests/data/eligibility_cases.yaml and the API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import exprs, reference_examples

from pqltools import classify as facade_classify
from pqltools.analysis.eligibility import (
    RULE_SETS,
    AudienceInfo,
    Eligibility,
    classify,
    requested_method_diagnostics,
    rules_markdown,
)
from pqltools.definitions import load_definitions
from pqltools.errors import PQLSyntaxError, Severity
from pqltools.syntax.parser import parse
from pqltools.syntax.printer import format as format_pql

CASES_FILE = Path(__file__).parent / "data" / "eligibility_cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text("utf-8"))["cases"]


def run_case(case: dict[str, Any]) -> Eligibility:
    """Classify one YAML case with its rule set, audiences and merge policy."""
    return classify(case["expression"], rules=case.get("rules", "2025"),
                    audiences=case.get("audiences"),
                    merge_policy_active_on_edge=case.get("merge_policy", True))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    result = run_case(case)
    assert result.method == case["method"]
    assert sorted(result.eligible) == sorted(case["eligible"])
    assert {r.rule for r in result.reasons} == set(case["reasons"])
    for rule, position in case.get("spans", {}).items():
        first = next(r for r in result.reasons if r.rule == rule)
        assert f"{first.span.line}:{first.span.column}" == position, rule


def test_case_ids_are_unique() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rules", sorted(RULE_SETS))
def test_every_rule_has_positive_and_negative_cases(rules: str) -> None:
    fired: dict[str, int] = {rule.id: 0 for rule in RULE_SETS[rules]}
    cases = [c for c in CASES if c.get("rules", "2025") == rules]
    for case in cases:
        for rule_id in case["reasons"]:
            if rule_id in fired:
                fired[rule_id] += 1
    assert [r for r, n in fired.items() if n == 0] == []  # every rule applies somewhere
    assert [r for r, n in fired.items() if n == len(cases)] == []  # ...and not everywhere


def test_rule_ids_are_stable_and_cited() -> None:
    for name, rules in RULE_SETS.items():
        prefix = "ELIG-2025-" if name == "2025" else "ELIG-LEGACY-"
        ids = [r.id for r in rules]
        assert len(ids) == len(set(ids))
        for rule in rules:
            assert rule.id.startswith(prefix)
            assert rule.citations and rule.summary.endswith(".")
            assert all(c.source.startswith("help/") for c in rule.citations)


def test_reason_cites_its_rule_documents() -> None:
    result = classify('xEvent[eventType = "a"]', merge_policy_active_on_edge=True)
    (reason,) = result.reasons
    assert reason.rule == "ELIG-2025-SINGLE-EVENT-NO-WINDOW"
    assert [str(c) for c in reason.citations] == ["ELIG \u00a7 Ruleset"]
    assert reason.effect == "excludes" and reason.methods == {"streaming", "edge"}
    assert reason.message == ("The single event (the event reference) has no time window; a "
                              "single event without one is evaluated in batch.")
    assert (reason.span.start, reason.span.end) == (0, 23)


def test_window_reason_points_at_the_time_phrase() -> None:
    text = 'chain(xEvent, timestamp, [A: WHAT(eventType = "x") WHEN(< 3 days before now)])'
    result = classify(text, merge_policy_active_on_edge=True)
    (reason,) = result.reasons
    assert text[reason.span.start:reason.span.end] == "< 3 days before now"
    assert "the last 3 days" in reason.message


def test_negation_reason_points_at_the_not() -> None:
    text = 'a = 1 and not chain(xEvent, timestamp, [A: WHAT(b = 2) WHEN(today)])'
    result = classify(text, merge_policy_active_on_edge=True)
    reason = next(r for r in result.reasons if r.rule == "ELIG-2025-NEGATION")
    assert text[reason.span.start:reason.span.end].startswith("not chain(")


def test_insegment_reason_points_at_the_call() -> None:
    text = 'xEvent[timestamp occurs today] and inSegment("seg-1")'
    result = classify(text, merge_policy_active_on_edge=True)
    reason = next(r for r in result.reasons if r.rule == "ELIG-2025-INSEGMENT-EVENT")
    assert text[reason.span.start:reason.span.end] == 'inSegment("seg-1")'
    assert '"seg-1"' in reason.message and "unknown" in reason.message


def test_events_report_their_windows() -> None:
    result = classify('chain(xEvent, timestamp, [A: WHAT(x = 1) WHEN(today), '
                      'B: WHAT(x = 2) WHEN(<= 30 minutes before now)])')
    assert [(e.label, e.window_status, e.describe_window()) for e in result.events] == [
        ("A", "bounded", "up to 24 hours back"), ("B", "bounded", "the last 30 minutes")]


def test_accepts_parsed_tree_and_facade() -> None:
    tree = parse('homeAddress.country = "US"')
    assert classify(tree).method == "streaming"
    assert facade_classify('homeAddress.country = "US"').eligible == {"streaming", "edge",
                                                                        "batch"}


def test_syntax_error_raises() -> None:
    with pytest.raises(PQLSyntaxError):
        classify("xEvent[")


def test_unknown_rule_set() -> None:
    with pytest.raises(ValueError, match="unknown eligibility rule set '2019'"):
        classify("a = 1", rules="2019")


def test_audience_info_object_and_definition_envelope() -> None:
    text = 'inSegment("p") and xEvent[timestamp occurs today]'
    assert classify(text, audiences={"p": AudienceInfo(profile_only=True)},
                    merge_policy_active_on_edge=True).method == "streaming"
    envelope = {"id": "p", "expression": {"type": "PQL", "format": "pql/text",
                                          "value": 'xEvent[eventType = "x"]'}}
    result = classify(text, audiences={"p": envelope}, merge_policy_active_on_edge=True)
    assert result.method == "batch"
    assert "not profile-only" in next(
        r.message for r in result.reasons if r.rule == "ELIG-2025-INSEGMENT-EVENT")


def test_audience_cycle_is_unknown_not_infinite() -> None:
    audiences = {"a": 'inSegment("b")', "b": 'inSegment("a")'}
    result = classify('inSegment("a")', audiences=audiences, merge_policy_active_on_edge=True)
    assert result.eligible == {"streaming", "batch"}


def _definition(value: str, **info: bool) -> Any:
    return load_definitions({
        "id": "d1", "name": "demo",
        "expression": {"type": "PQL", "format": "pql/text", "value": value},
        "evaluationInfo": {k: {"enabled": v} for k, v in info.items()},
    })[0]


def test_definition_requesting_streaming_but_batch_only() -> None:
    definition = _definition('xEvent[eventType = "x"]', continuous=True, batch=False)
    result = classify(definition, merge_policy_active_on_edge=True)
    assert result.method == "batch"
    assert result.requested == {"streaming"} and result.unsatisfied == {"streaming"}
    assert not result.satisfiable
    requested = [r for r in result.reasons if r.rule == "ELIG-REQUESTED-METHOD"]
    assert len(requested) == 1 and "asks for streaming (continuous)" in requested[0].message
    assert "ELIG-2025-SINGLE-EVENT-NO-WINDOW" in requested[0].message


def test_definition_requesting_edge_and_streaming_gets_streaming() -> None:
    definition = _definition("chain(xEvent, timestamp, [A: WHAT(a = 1) WHEN(today), "
                             "B: WHAT(a = 2) WHEN(today)])", continuous=True, synchronous=True)
    result = classify(definition, merge_policy_active_on_edge=True)
    assert result.method == "streaming"
    assert result.unsatisfied == {"edge"}


def test_definition_without_evaluation_info_is_batch() -> None:
    result = classify(_definition('a = "x"'), merge_policy_active_on_edge=True)
    assert result.method == "batch" and result.requested == frozenset()
    assert result.eligible == {"streaming", "edge", "batch"}


def test_requested_method_diagnostics() -> None:
    definition = _definition('a = 1 and xEvent[eventType = "x"]', continuous=True)
    (diag,) = requested_method_diagnostics(definition)
    assert diag.code == "PQL301" and diag.severity is Severity.INFO
    assert diag.message.startswith("evaluationInfo asks for streaming (continuous.enabled) but "
                                   "the expression is only batch-eligible: The single event")
    assert (diag.span.start, diag.span.end) == (10, 33)
    assert requested_method_diagnostics(_definition('a = 1', continuous=True)) == []


def test_to_json_shape() -> None:
    data = classify('xEvent[timestamp occurs today]', merge_policy_active_on_edge=True).to_json()
    assert data["method"] == "streaming"
    assert data["eligible"] == ["streaming", "edge", "batch"]
    assert data["events"][0]["window"] == "bounded"
    assert data["events"][0]["interval"]["lookback_ms"] == 86_400_000
    assert data["reasons"][0]["citations"][0]["document"] == "ELIG"


def test_docs_rule_tables_are_generated_from_the_rule_sets() -> None:
    text = (Path(__file__).parent.parent / "docs" / "eligibility.md").read_text("utf-8")
    section = text.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert section == rules_markdown(), "regenerate docs/eligibility.md from rules_markdown()"
    for rules in RULE_SETS.values():
        for rule in rules:
            assert f"`{rule.id}`" in section


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exprs(), st.sampled_from(sorted(RULE_SETS)), st.sampled_from([True, False, None]))
def test_classify_is_total_and_consistent(tree: Any, rules: str, merge: bool | None) -> None:
    text = format_pql(tree)
    result = classify(text, rules=rules, merge_policy_active_on_edge=merge)
    assert "batch" in result.eligible and result.method in result.eligible
    excluded = set().union(*(r.methods for r in result.reasons if r.effect == "excludes"))
    assert result.eligible == {"streaming", "edge", "batch"} - excluded | {"batch"}
    for reason in result.reasons:
        assert 0 <= reason.span.start <= reason.span.end <= len(text)
        assert reason.rule.startswith("ELIG-") and reason.citations


@pytest.mark.parametrize("example", reference_examples(errors=False),
                         ids=lambda e: str(e["id"]))
def test_every_reference_example_classifies(example: dict[str, Any]) -> None:
    text = str(example["text"])
    for rules in RULE_SETS:
        result = classify(text, rules=rules)
        assert result.method in result.eligible and "batch" in result.eligible


def test_exclusions_say_what_to_change() -> None:
    result = classify('xEvent[eventType = "a"]', merge_policy_active_on_edge=True)
    (reason,) = result.reasons
    assert reason.advice is not None and reason.advice.startswith("Add a window of at most 24")
    supported = classify("a = 1", merge_policy_active_on_edge=True).reasons
    assert [r.advice for r in supported] == [None]


def test_every_excluding_rule_has_advice() -> None:
    for case in CASES:
        for reason in run_case(case).reasons:
            if reason.effect == "excludes" and reason.rule != "ELIG-REQUESTED-METHOD":
                assert reason.advice, reason.rule


def test_unusable_audience_definition_is_unknown() -> None:
    text = 'inSegment("bad") and xEvent[timestamp occurs today]'
    result = classify(text, audiences={"bad": "xEvent[", "env": {"expression": 3}},
                      merge_policy_active_on_edge=True)
    reason = next(r for r in result.reasons if r.rule == "ELIG-2025-INSEGMENT-EVENT")
    assert reason.assumed and "unknown" in reason.message


def test_every_guide_sentence_has_both_outcomes() -> None:
    """Sentences 1-8 of the pre-2025 streaming guide each have a streaming-eligible case and an
    ineligible one under ``rules="legacy"`` (sentence 9 is the test below)."""
    outcomes: dict[int, set[bool]] = {n: set() for n in range(1, 9)}
    for case in CASES:
        if "sentence" in case:
            assert case.get("rules") == "legacy", case["id"]
            outcomes[case["sentence"]].add("streaming" in case["eligible"])
    assert {n: sorted(o) for n, o in outcomes.items()} == {n: [False, True] for n in outcomes}


def test_guide_sentence_9_modified_definition_switches_to_batch() -> None:
    """"If a segment definition is modified so it no longer meets the criteria for streaming
    segmentation, the segment definition will automatically switch from Streaming to Batch."""
    def definition(expression: str) -> Any:
        return load_definitions({"id": "s", "name": "s", "expression": {
            "type": "PQL", "format": "pql/text", "value": expression},
            "evaluationInfo": {"continuous": {"enabled": True}}})[0]

    before = definition('chain(xEvent, timestamp, [A: WHAT(eventType = "a") WHEN(today), '
                        'B: WHAT(eventType = "b") WHEN(today)])')
    after = definition('chain(xEvent, timestamp, [A: WHAT(eventType = "a") '
                       'WHEN(< 3 days before now), B: WHAT(eventType = "b") WHEN(today)])')
    first = classify(before, rules="legacy", merge_policy_active_on_edge=True)
    assert (first.method, first.unsatisfied) == ("streaming", frozenset())
    second = classify(after, rules="legacy", merge_policy_active_on_edge=True)
    assert (second.method, second.unsatisfied) == ("batch", frozenset({"streaming"}))
    assert "ELIG-REQUESTED-METHOD" in {r.rule for r in second.reasons}
