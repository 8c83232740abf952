"""pql lint on request bodies: schedules (properties.segments, cron via cronsim) and ad-hoc
activation bodies (activationInfo), with positions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pqltools.jobs.cron import check_cron, next_runs, to_cronsim
from pqltools.jobs.requests import check_body, parse_body
from tests.jobs.conftest import run_cli

SCHEDULE = {"name": "profile-default", "type": "batch_segmentation",
            "properties": {"segments": ["*"]}, "schedule": "0 0 1 * * ?", "state": "inactive"}


def _findings(body: object) -> list[tuple[str, str, str]]:
    """(code, message, text at the finding's place) for a body."""
    text = json.dumps(body, indent=2)
    found = check_body(parse_body("<body>", text))
    assert found is not None
    return [(d.code, d.message, text[d.span.start:d.span.end]) for d in found]


@pytest.mark.parametrize("expr", [
    "0 0 1 * * ?", "0 30 2 ? * MON-FRI", "0 0 1 ? * 2-6", "0 0 1 L * ?", "0 0 1 15W * ?",
    "0 0 1 ? * 6#3", "0 0 1 ? * 6L", "0 0 1 * JAN ?", "0 0 1 * * ? 2030", "0 0 1 1/2 * ?",
    "0 0 1 ? * sun,sat",
])
def test_valid_daily_schedules(expr: str) -> None:
    assert check_cron(expr) == []


@pytest.mark.parametrize(("expr", "code", "message", "at"), [
    ("0 0 */6 * * ?", "PQL504", "fires more than once a day (runs as close as 6 hours apart)",
     "0 0 */6 * * ?"),
    ("0 */30 1 * * ?", "PQL504", "30 minutes apart", "0 */30 1 * * ?"),
    ("0 0 1 * *", "PQL503", "did you mean '0 0 0 1 * ?'", "0 0 1 * *"),
    ("0 0 25 * * ?", "PQL503", "bad hours '25'", "25"),
    ("0 61 1 * * ?", "PQL503", "bad minutes '61'", "61"),
    ("0 0 1 * * *", "PQL503", "must be `?`", "*"),
    ("0 0 1 ? * ?", "PQL503", "`?` in both", "?"),
    ("0 0 1 ? * 0", "PQL503", "day-of-week 0 is out of range", "0"),
    ("0 0 1 30 2 ?", "PQL503", "bad day-of-month '30'", "30"),
    ("0 0 1 * * ? 1969", "PQL503", "bad year '1969'", "1969"),
    ("? 0 1 * * ?", "PQL503", "`?` is only allowed in day-of-month and day-of-week", "?"),
    ("0 0 1 * FOO ?", "PQL503", "bad month 'FOO'", "FOO"),
    ("1 2", "PQL503", "2 fields", "1 2"),
])
def test_bad_schedules_are_located(expr: str, code: str, message: str, at: str) -> None:
    [(found_message, found_code, (start, end))] = check_cron(expr)
    assert found_code == code and message in found_message
    assert expr[start:end] == at


def test_next_runs_translate_quartz_days() -> None:
    from datetime import UTC, datetime

    runs = next_runs("0 30 2 ? * 2", datetime(2026, 12, 1, tzinfo=UTC), 2)  # Quartz 2 = MON
    assert [r.isoformat() for r in runs] == ["2026-12-07T02:30:00+00:00",
                                             "2026-12-14T02:30:00+00:00"]
    assert to_cronsim("0 0 1 ? * 1-7") == "0 0 1 * * 0-6"


def test_schedule_body_fields() -> None:
    assert _findings(SCHEDULE) == []
    bad = {"name": "", "type": "nightly", "properties": {"segments": ["*", "a", "a", 3]},
           "schedule": "0 0 */2 * * ?", "state": "on"}
    found = _findings(bad)
    codes = {(code, at) for code, _, at in found}
    assert ("PQL501", '""') in codes  # empty name
    assert ("PQL501", '"nightly"') in codes
    assert ("PQL501", '"on"') in codes
    assert ("PQL502", "3") in codes  # not a segment id
    assert ("PQL502", '"a"') in codes  # listed twice
    assert ("PQL504", "0 0 */2 * * ?") in codes
    assert any("redundant" in message for _, message, _ in found)


def test_schedule_needs_segments_for_batch_segmentation() -> None:
    found = _findings({"name": "s", "type": "batch_segmentation", "properties": {},
                       "schedule": "0 0 1 * * ?"})
    assert [(c, m) for c, m, _ in found] == [("PQL501", "`properties.segments` is required")]
    empty = _findings({**SCHEDULE, "properties": {"segments": []}})
    assert empty[0][0] == "PQL502" and "evaluates nothing" in empty[0][1]
    export = _findings({"name": "e", "type": "export", "properties": {}, "state": "active"})
    assert export == []


def test_activation_body() -> None:
    good = {"activationInfo": {"dest-1": ["s1", "s2"], "dest-2": ["s2"]}}
    assert _findings(good) == []
    bad = {"activationInfo": {"dest-1": ["s1", "s1", 7], "dest-2": "s2", "dest-3": []},
           "exportIds": ["e1"]}
    found = {(code, at) for code, _, at in _findings(bad)}
    assert found == {("PQL505", '"s1"'), ("PQL505", "7"), ("PQL505", '"s2"'),
                     ("PQL505", "[]"), ("PQL507", '[\n    "e1"\n  ]')}


def test_activation_audience_limit() -> None:
    many = {"activationInfo": {"d1": [f"s{i}" for i in range(50)],
                               "d2": [f"s{i}" for i in range(40, 90)]}}
    [(code, message, _)] = _findings(many)
    assert code == "PQL506" and "90 audiences" in message and "at most 80" in message
    assert _findings({"activationInfo": {"d1": [f"s{i}" for i in range(80)]}}) == []


def test_pql_lint_reports_request_bodies_with_positions(tmp_path: Path) -> None:
    (tmp_path / "schedule.json").write_text(json.dumps(
        {**SCHEDULE, "schedule": "0 0 */12 * * ?"}, indent=2))
    (tmp_path / "activation.json").write_text(json.dumps({"activationInfo": {"d": ["a"]}}))
    result = run_cli("lint", str(tmp_path))
    assert result.exit_code == 1
    assert f"{tmp_path / 'schedule.json'}:9:16: error PQL504: fires more than once a day" \
        in result.stdout
    assert "activation.json" not in result.stdout
    ignored = run_cli("lint", "--ignore", "PQL504", str(tmp_path))
    assert ignored.exit_code == 0
    as_json = run_cli("lint", "--format", "sarif", str(tmp_path / "schedule.json"))
    assert "PQL504" in as_json.stdout


def test_pql_lint_still_fails_on_json_that_is_no_body(tmp_path: Path) -> None:
    (tmp_path / "other.json").write_text(json.dumps({"hello": "world"}))
    result = run_cli("lint", str(tmp_path / "other.json"))
    assert result.exit_code == 2


def test_preview_request_body() -> None:
    assert _findings({"predicateExpression": "a = 1", "predicateType": "pql/text",
                      "predicateModel": "_xdm.context.profile"}) == []
    found = _findings({"predicateExpression": ["a"], "predicateType": "pql/json"})
    assert [(c, at) for c, _, at in found] == [("PQL501", '[\n    "a"\n  ]'),
                                               ("PQL501", '"pql/json"')]


def test_job_request_bodies_lint_clean_or_with_places(tmp_path: Path) -> None:
    (tmp_path / "job.json").write_text('[{"segmentId": "a"}, {"segmentId": 3}]')
    result = run_cli("lint", str(tmp_path / "job.json"))
    assert result.exit_code == 1
    assert "job.json:1:36: error PQL501: `[1].segmentId` must be a string" in result.stdout


def test_pql_lint_runs_the_rules_on_a_preview_requests_pql(tmp_path: Path) -> None:
    body = tmp_path / "preview.json"
    body.write_text('{\n  "predicateExpression": "person.age = null",\n'
                    '  "predicateType": "pql/text"\n}\n')
    result = run_cli("lint", str(body))
    assert f"{body}:2:40: warning PQL120:" in result.stdout
    fixed = run_cli("lint", "--fix", "--unsafe-fixes", str(body))
    assert fixed.exit_code == 0
    assert json.loads(body.read_text())["predicateExpression"] == "person.age.isNull()"
    broken = tmp_path / "broken.json"
    broken.write_text('{"predicateExpression": "a = = 1"}')
    assert run_cli("lint", str(broken)).exit_code == 1  # a syntax error inside, located
