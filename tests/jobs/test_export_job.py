"""pql export / run_export_job: one test per request field, outputs, located errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from pqltools.jobs import parse_body, parse_export_request, run_export_job
from tests.jobs.conftest import NOW, profile, run_cli, write_ndjson

MEMBER = {"status": "realized", "lastQualificationTime": "2026-11-10T00:00:00Z"}
OLD_MEMBER = {"status": "existing", "lastQualificationTime": "2026-06-01T00:00:00Z"}
EXITED = {"status": "exited", "lastQualificationTime": "2026-11-20T00:00:00Z"}
BASE = {"destination": {"datasetId": "ds-1"}, "schema": {"name": "_xdm.context.profile"}}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_ndjson(tmp_path / "profiles.ndjson", [
        profile("a", "US", purchases=2, membership={"ups": {"s1": MEMBER}},
                personalEmail={"address": "a@example.com"},
                _repo={"modifyDate": "2026-11-20T00:00:00Z"}),
        profile("b", "FR", membership={"UPS": {"s1": OLD_MEMBER, "s2": MEMBER}},
                _repo={"modifyDate": "2026-10-01T00:00:00Z"}),
        profile("c", "US", membership={"ups": {"s1": EXITED},
                                       "AdCloud": {"s9": MEMBER}}),
        {"_id": "empty", "identityMap": {"ECID": [{"id": "x"}]},
         "segmentMembership": {"ups": {"s1": MEMBER}}},
    ])


def _export(body: dict[str, Any], data: Path, **kwargs: Any) -> Any:
    request = parse_export_request(parse_body("<export>", json.dumps({**BASE, **body})))
    return run_export_job(request, data, now=NOW, job_id=100, **kwargs)


def _ids(result: Any) -> list[str]:
    return [r["_id"] for r in result.records]


def test_no_filter_exports_every_profile_with_records(data: Path) -> None:
    result = _export({}, data)
    assert _ids(result) == ["a", "b", "c"]  # the empty profile is left out by default
    assert result.response["metrics"]["totalExportedProfileCounter"] == 3
    assert result.response["metrics"]["profilesNotExportedByFilter"] == {"emptyProfiles": 1}
    assert "events" not in result.records[0]  # no eventList: no events


def test_response_shape(data: Path) -> None:
    r = _export({"filter": {"segments": [{"segmentId": "s1"}]}}, data).response
    assert r["id"] == 100 and r["jobType"] == "BATCH" and r["status"] == "SUCCEEDED"
    assert r["destination"] == {"datasetId": "ds-1", "segmentPerBatch": False}
    assert r["schema"] == {"name": "_xdm.context.profile"}
    assert r["filter"] == {"segments": [{"segmentId": "s1"}]}
    assert r["profileInstanceId"] == "ups" and r["errors"] == []
    m = r["metrics"]
    assert m["totalExportedProfileCounter"] == 2
    assert m["exportedProfileByNamespaceCounter"] == {"Email": 2}
    assert m["exportedProfileBySegmentCounter"] == {"s1": 2}
    for timer in ("totalTime", "profileExportTime"):
        assert m[timer]["totalTimeInMs"] >= 0


def test_fields_projects_dotted_paths(data: Path) -> None:
    result = _export({"fields": "personalEmail.address, homeAddress.countryCode,missing.x"},
                     data)
    assert result.records[0] == {"_id": "a", "personalEmail": {"address": "a@example.com"},
                                 "homeAddress": {"countryCode": "US"}}


def test_merge_policy_is_echoed_and_noted(data: Path) -> None:
    r = _export({"mergePolicy": {"id": "timestampOrdered-none-mp", "version": 1}}, data).response
    assert r["mergePolicy"] == {"id": "timestampOrdered-none-mp", "version": 1}
    assert any("already merged" in note for note in r["notes"])


def test_filter_segments_default_status_is_current_members(data: Path) -> None:
    result = _export({"filter": {"segments": [{"segmentId": "s1"}]}}, data)
    assert _ids(result) == ["a", "b"]  # c exited; namespace UPS matched case-insensitively
    assert result.records[1]["segmentMembership"] == {"UPS": {"s1": OLD_MEMBER}}


def test_filter_segments_status_list(data: Path) -> None:
    result = _export({"filter": {"segments": [{"segmentId": "s1", "status": ["exited"]}]}},
                     data)
    assert _ids(result) == ["c"]


def test_filter_segments_namespace(data: Path) -> None:
    result = _export({"filter": {"segments": [{"segmentId": "s9", "segmentNs": "adcloud"}]}},
                     data)
    assert _ids(result) == ["c"]
    assert _ids(_export({"filter": {"segments": [{"segmentId": "s9"}]}}, data)) == []


def test_filter_segments_are_alternatives(data: Path) -> None:
    result = _export({"filter": {"segments": [{"segmentId": "s2"},
                                              {"segmentId": "s1", "status": ["exited"]}]}}, data)
    assert _ids(result) == ["b", "c"]


def test_segment_qualification_time(data: Path) -> None:
    window = {"startTime": "2026-11-01T00:00:00Z", "endTime": "2026-11-30T00:00:00Z"}
    result = _export({"filter": {"segments": [{"segmentId": "s1"}],
                                 "segmentQualificationTime": window}}, data)
    assert _ids(result) == ["a"]  # b qualified in June
    only_start = _export({"filter": {"segments": [{"segmentId": "s1"}],
                                     "segmentQualificationTime": {
                                         "startTime": "2026-06-02T00:00:00Z"}}}, data)
    assert _ids(only_start) == ["a"]


def test_from_ingest_timestamp_for_profiles(data: Path) -> None:
    result = _export({"filter": {"fromIngestTimestamp": "2026-11-01T00:00:00Z"}}, data)
    assert _ids(result) == ["a"]  # b is older, c has no _repo date
    assert result.response["metrics"]["profilesNotExportedByFilter"]["fromIngestTimestamp"] == 2


def test_empty_profiles_true_exports_events_only_profiles(data: Path) -> None:
    assert _ids(_export({"filter": {"emptyProfiles": True}}, data)) == ["a", "b", "c", "empty"]


def test_event_list_fields_and_ingest_window(data: Path) -> None:
    body = {"additionalFields": {"eventList": {
        "fields": "_id,eventType",
        "filter": {"fromIngestTimestamp": "2026-11-10T12:00:00Z",
                   "toIngestTimestamp": "2026-11-11T12:06:00Z"}}}}
    result = _export(body, data)
    # a's events were ingested 11-10 12:05 and 11-11 12:05: both in the window
    assert result.records[0]["events"] == [{"_id": "a-e0", "eventType": "commerce.purchases"},
                                           {"_id": "a-e1", "eventType": "commerce.purchases"}]
    later = _export({"additionalFields": {"eventList": {
        "filter": {"fromIngestTimestamp": "2026-11-11T00:00:00Z"}}}}, data)
    assert [e["_id"] for e in later.records[0]["events"]] == ["a-e1"]
    assert later.records[0]["events"][0]["timestamp"] == "2026-11-11T12:00:00Z"  # all fields


def test_segment_per_batch_writes_one_file_per_segment(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.ndjson"
    result = _export({"filter": {"segments": [{"segmentId": "s1"}, {"segmentId": "s2"}]},
                      "destination": {"datasetId": "ds-1", "segmentPerBatch": True}},
                     data, output=out)
    batches = result.response["destination"]["batches"]
    assert [(b["segmentId"], b["segmentNs"], b["status"], b["records"]) for b in batches] == [
        ("s1", "ups", ["realized", "existing"], 2), ("s2", "ups", ["realized", "existing"], 1)]
    s1 = Path(batches[0]["batchId"])
    assert s1.name == "export.s1.ndjson"
    assert [json.loads(x)["_id"] for x in s1.read_text().splitlines()] == ["a", "b"]
    assert not out.exists()


def test_schema_name_is_echoed(data: Path) -> None:
    r = _export({"schema": {"name": "_xdm.context.profile"}}, data).response
    assert r["schema"] == {"name": "_xdm.context.profile"}


def test_evaluation_first_when_segmentation_is_true(data: Path) -> None:
    from pqltools.definitions import load_definitions

    definitions = load_definitions({"id": "s1", "expression": {
        "type": "PQL", "format": "pql/text", "value": 'homeAddress.countryCode = "US"'}})
    body = {"filter": {"segments": [{"segmentId": "s1"}]},
            "evaluationInfo": {"segmentation": True}}
    result = _export(body, data, definitions=definitions)
    # a stays (existing), c re-qualifies (realized), b leaves (exited)
    assert _ids(result) == ["a", "c"]
    assert result.records[1]["segmentMembership"]["ups"]["s1"]["status"] == "realized"
    without = _export({"filter": {"segments": [{"segmentId": "s1"}]}}, data)
    assert _ids(without) == ["a", "b"]


def test_membership_file_overrides_profiles_own(data: Path, tmp_path: Path) -> None:
    membership = write_ndjson(tmp_path / "m.ndjson", [
        {"id": "c", "segmentMembership": {"ups": {"s1": MEMBER}}}])
    result = run_cli("export", str(_body_file(tmp_path, {"filter": {
        "segments": [{"segmentId": "s1"}]}})), "--profiles", str(data),
        "--membership", str(membership), "--now", NOW)
    assert result.exit_code == 0
    assert [r["_id"] for r in json.loads(result.stdout)["records"]] == ["c"]


def _body_file(tmp_path: Path, body: dict[str, Any]) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps({**BASE, **body}, indent=2))
    return path


def test_cli_parquet_output(data: Path, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "out.parquet"
    result = run_cli("export", str(_body_file(tmp_path, {"filter": {
        "segments": [{"segmentId": "s1"}]}})), "-p", str(data), "-o", str(out), "--now", NOW)
    assert result.exit_code == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["output"] == [{"path": str(out), "format": "parquet", "records": 2}]
    rows = duckdb.sql(f"SELECT _id, segmentMembership FROM '{out}' ORDER BY _id").fetchall()
    assert rows[0][0] == "a" and rows[1][1]["UPS"]["s1"]["status"] == "existing"


def test_segmentation_without_definitions_is_a_usage_error(data: Path, tmp_path: Path) -> None:
    body = _body_file(tmp_path, {"evaluationInfo": {"segmentation": True}})
    result = run_cli("export", str(body), "-p", str(data))
    assert result.exit_code == 2 and "--definitions" in result.stderr


@pytest.mark.parametrize(("body", "message", "at"), [
    ({"fields": 3}, "`fields` must be a comma-separated string", "3"),
    ({"fields": "a,,b."}, "field path 'b.' has an empty part", "b."),
    ({"filter": {"segments": [{"segmentNs": "ups"}]}}, ("`filter.segments[0].segmentId` is "
     "required"), "{"),
    ({"filter": {"segments": [{"segmentId": "s", "status": ["gone"]}]}},
     "status 'gone' is not one of realized, existing, exited", '"gone"'),
    ({"filter": {"segmentQualificationTime": {"startTime": "yesterday"}}},
     "is not an RFC 3339 timestamp", '"yesterday"'),
    ({"filter": {"segmentQualificationTime": {"startTime": "2026-02-01T00:00:00Z",
                                              "endTime": "2026-01-01T00:00:00Z"}}},
     "`endTime` is before `startTime`", '"2026-01-01'),
    ({"filter": {"fromIngestTimestamp": "2026-01-01T00:00:00"}}, "has no time zone offset",
     '"2026-01-01T00:00:00"'),
    ({"filter": {"emptyProfiles": "yes"}}, "`filter.emptyProfiles` must be true or false",
     '"yes"'),
    ({"additionalFields": {"eventList": {"filter": {"toIngestTimestamp": 5}}}},
     "`additionalFields.eventList.filter.toIngestTimestamp` must be an RFC 3339", "5"),
    ({"destination": {"segmentPerBatch": True}}, "`destination.datasetId` is required", "{"),
    ({"schema": {"name": 1}}, "`schema.name` must be a string", "1"),
    ({"evaluationInfo": {"segmentation": "true"}},
     "`evaluationInfo.segmentation` must be true or false", '"true"'),
    ({"mergePolicy": {"id": 1}}, "`mergePolicy.id` must be a string", "1"),
])
def test_bad_export_bodies_exit_2_with_place(data: Path, tmp_path: Path, body: dict[str, Any],
                                             message: str, at: str) -> None:
    path = _body_file(tmp_path, body)
    result = run_cli("export", str(path), "-p", str(data))
    assert result.exit_code == 2, result.stdout
    assert message in result.stderr
    match = re.search(re.escape(str(path)) + r":(\d+):(\d+):", result.stderr)
    assert match is not None
    line, column = int(match.group(1)), int(match.group(2))
    assert path.read_text().splitlines()[line - 1][column - 1:].startswith(at)


def test_missing_destination_and_schema_are_errors(data: Path, tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text('{"fields": "a"}')
    result = run_cli("export", str(path), "-p", str(data))
    assert result.exit_code == 2 and "`destination` is required" in result.stderr
