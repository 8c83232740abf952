"""Definition envelopes (segment job responses, files without definitions) and memberships as
Adobe writes them (namespace casing, timestamp, 30-day retention of exits everywhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pqltools
from pqltools.definitions import NoDefinitionError, load_definitions, request_kind
from tests.jobs.conftest import run_cli

NOW = "2026-12-01T00:00:00Z"
STAMP = "2026-12-01T00:00:00.000+00:00"

JOB_RESPONSE = {
    "id": "b31aed3d", "status": "SUCCEEDED",
    "segments": [
        {"segmentId": "30230300", "segment": {
            "id": "30230300", "expression": {"type": "PQL", "format": "pql/text",
                                             "value": 'workAddress.country = "US"'},
            "mergePolicyId": "25c548a0"}},
        {"segmentId": "no-inner-id", "segment": {
            "expression": {"type": "PQL", "format": "pql/text", "value": "age > 1"}}},
        {"segmentId": "*"},
    ],
    "metrics": {"totalProfiles": 3},
}


def test_segment_job_response_definitions_one_level_down() -> None:
    text = json.dumps(JOB_RESPONSE, indent=2)
    first, second = load_definitions("job.json", text=text)
    assert (first.id, first.expression) == ("30230300", 'workAddress.country = "US"')
    assert second.id == "no-inner-id"  # segmentId names a definition without its own id
    # positions point into the response file
    assert text[first.value_span.start:first.value_span.end] == \
        json.dumps('workAddress.country = "US"')
    line = text.splitlines().index(next(x for x in text.splitlines() if "workAddress" in x))
    assert first.file_span(pqltools.parse(first.expression).span).line == line + 1


@pytest.mark.parametrize(("body", "kind"), [
    ({"fields": "a", "destination": {"datasetId": "d"}, "schema": {"name": "x"}},
     "export job"),
    ({"name": "s", "type": "batch_segmentation", "properties": {"segments": ["*"]},
      "schedule": "0 0 1 * * ?"}, "schedule"),
    ({"activationInfo": {"d": ["s"]}}, "ad-hoc activation request"),
    ([{"segmentId": "a"}], "segment job request"),
    ({"schema": {"name": "x"}, "segments": [{"segmentId": "*"}]}, "segment job request"),
    ({"predicateExpression": "a = 1", "predicateType": "pql/text"}, "preview request"),
])
def test_files_without_definitions_say_what_they_are(body: object, kind: str) -> None:
    assert request_kind(body) == kind
    with pytest.raises(NoDefinitionError) as caught:
        load_definitions("req.json", text=json.dumps(body))
    assert caught.value.kind == kind
    assert "holds no segment definition" in str(caught.value)
    assert "definition 0" not in str(caught.value)


def test_a_definition_is_never_taken_for_a_request() -> None:
    definition = {"name": "n", "expression": {"type": "PQL", "format": "pql/text",
                                              "value": "a = 1"}, "schedule": "x"}
    assert request_kind(definition) is None
    assert load_definitions("d.json", text=json.dumps(definition))[0].expression == "a = 1"


def test_commands_report_a_file_without_definitions(tmp_path: Path) -> None:
    preview = tmp_path / "preview.json"
    preview.write_text(json.dumps({"predicateExpression": "a = 1"}))
    result = run_cli("classify", str(preview))
    assert result.exit_code == 2
    assert "holds no segment definition: it is a preview request body" in result.stderr \
        + result.stdout
    assert run_cli("lint", str(preview)).exit_code == 0  # linted as a preview request body
    # pql format (a pre-commit hook over every .json file) has nothing to format: says so, skips
    result = run_cli("format", "--check", str(preview))
    assert result.exit_code == 0
    assert "skipped: holds no segment definition: it is a preview request body" in result.stderr


def _membership(previous: dict[str, object], qualifies: bool = True) -> dict[str, object]:
    profile = {"age": 30 if qualifies else 1, "segmentMembership": previous}
    [out] = pqltools.segment({"adults": "age >= 18"}, [profile], now=NOW)
    return out


def test_namespace_read_case_insensitively_and_casing_kept() -> None:
    out = _membership({"UPS": {"adults": {"status": "realized",
                                          "lastQualificationTime": "2026-11-01T00:00:00Z"}}})
    assert out == {"UPS": {"adults": {"status": "existing", "lastQualificationTime": STAMP}}}
    fresh = _membership({})
    assert fresh == {"ups": {"adults": {"status": "realized", "lastQualificationTime": STAMP}}}


def test_timestamp_kept_where_the_input_had_it() -> None:
    out = _membership({"ups": {"adults": {"status": "realized", "timestamp": "2026-11-01",
                                          "lastQualificationTime": "2026-11-01T00:00:00Z"}}},
                      qualifies=False)
    assert out["ups"] == {"adults": {"status": "exited", "lastQualificationTime": STAMP,
                                     "timestamp": STAMP}}


def test_old_exits_dropped_in_every_namespace() -> None:
    old = {"status": "exited", "lastQualificationTime": "2026-10-01T00:00:00Z"}  # 61 days
    recent = {"status": "EXITED", "lastQualificationTime": "2026-11-15T00:00:00Z"}
    member = {"status": "realized", "lastQualificationTime": "2026-01-01T00:00:00Z"}
    out = _membership({"ups": {"other-old": old, "other-recent": recent},
                       "Email": {"a": old, "b": recent, "c": member},
                       "AAM": {"x": old}})
    assert out["ups"] == {"adults": {"status": "realized", "lastQualificationTime": STAMP},
                          "other-recent": recent}
    assert out["Email"] == {"b": recent, "c": member}
    assert out["AAM"] == {}


def test_in_segment_reads_upper_case_namespace() -> None:
    profile = {"segmentMembership": {"UPS": {"seg": {"status": "existing"}}}}
    assert pqltools.evaluate('inSegment("seg")', profile)
    assert not pqltools.evaluate('inSegment("other")', profile)


def test_language_server_reads_segment_job_responses_and_skips_requests() -> None:
    from pqltools_lsp.documents import Snapshot

    text = json.dumps(JOB_RESPONSE, indent=2)
    snap = Snapshot.build("file:///w/job-response.json", text)
    assert [r.definition.id for r in snap.regions] == ["30230300", "no-inner-id"]
    start = text.index("workAddress")
    assert snap.region_at(start + 3) == (snap.regions[0], 3)
    schedule = json.dumps({"name": "s", "type": "batch_segmentation", "schedule": "0 0 1 * * ?",
                           "properties": {"segments": ["*"]}})
    body = Snapshot.build("file:///w/schedule.json", schedule)
    assert body.regions == [] and body.problems == []
