"""pql job run / run_segment_job: response shape, metrics, located errors, outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pqltools.jobs import parse_body, parse_segment_job_request, run_segment_job
from pqltools.jobs.common import find_definitions
from tests.jobs.conftest import NOW, STAMP, profile, run_cli, write_ndjson


def _run(store: dict[str, Path], *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("job", "run", str(store["request"]), "--definitions", str(store["defs"]),
                     "--profiles", str(store["profiles"]), "--now", NOW, "--job-id", "job-1",
                     *extra)
    body = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, body, result.stderr


def test_response_in_adobes_shape(store: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "membership.ndjson"
    code, response, _ = _run(store, "--output", str(out))
    assert code == 0
    assert response["id"] == "job-1" and response["status"] == "SUCCEEDED"
    assert response["errors"] == []
    assert [s["segmentId"] for s in response["segments"]] == ["us", "us-buyers"]
    first = response["segments"][0]["segment"]
    assert first["id"] == "us" and first["mergePolicyId"] == "mp-1"
    assert first["expression"] == {"type": "PQL", "format": "pql/text",
                                   "value": 'homeAddress.countryCode = "US"'}
    metrics = response["metrics"]
    assert metrics["totalProfiles"] == 5
    # us: a, b, d qualify (d was realized before -> existing); e leaves
    assert metrics["segmentedProfileCounter"] == {"us": 3, "us-buyers": 2}
    assert metrics["segmentedProfileByStatusCounter"]["us"] == {
        "realized": 2, "existing": 1, "exited": 1}
    assert metrics["segmentedProfileByNamespaceCounter"]["us"] == {"Email": 3}
    assert metrics["totalProfilesByMergePolicy"] == {"mp-1": 5}
    for timer in ("totalTime", "profileSegmentationTime"):
        t = metrics[timer]
        assert t["endTimeInMs"] - t["startTimeInMs"] == t["totalTimeInMs"] >= 0
    assert metrics["profilesPerSecond"] > 0
    assert response["output"] == {"path": str(out), "format": "ndjson", "records": 5}
    records = [json.loads(line) for line in out.read_text().splitlines()]
    by_id = {r["id"]: r["segmentMembership"] for r in records}
    # the dependency `buyers` runs too (us-buyers reads it) and its membership is written,
    # but the metrics report the requested segments only
    assert by_id["a"] == {"ups": {
        "us": {"status": "realized", "lastQualificationTime": STAMP},
        "buyers": {"status": "realized", "lastQualificationTime": STAMP},
        "us-buyers": {"status": "realized", "lastQualificationTime": STAMP}}}
    assert "buyers" not in metrics["segmentedProfileCounter"]


def test_membership_casing_timestamp_and_retention(store: dict[str, Path],
                                                   tmp_path: Path) -> None:
    out = tmp_path / "m.ndjson"
    _run(store, "--output", str(out))
    by_id = {r["id"]: r["segmentMembership"]
             for r in map(json.loads, out.read_text().splitlines())}
    # "UPS" as written by the input is kept, and its `timestamp` key too
    assert set(by_id["d"]) == {"UPS"}
    assert by_id["d"]["UPS"]["us"] == {"status": "existing", "lastQualificationTime": STAMP,
                                       "timestamp": STAMP}
    # exited older than 30 days is dropped in every namespace, a recent one is kept
    assert by_id["e"]["Email"] == {"new": {"status": "exited",
                                           "lastQualificationTime": "2026-11-20T00:00:00Z"}}
    assert by_id["e"]["ups"]["us"]["status"] == "exited"


def test_parquet_output(store: dict[str, Path], tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    out = tmp_path / "m.parquet"
    code, response, _ = _run(store, "--output", str(out))
    assert code == 0 and response["output"]["format"] == "parquet"
    rows = duckdb.sql(f"SELECT id, segmentMembership FROM '{out}' ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["a", "b", "c", "d", "e"]
    d = dict(rows)["d"]
    assert d["UPS"]["us"]["status"] == "existing"
    assert d["UPS"]["us"]["timestamp"] == STAMP


def test_memberships_in_response_without_output(store: dict[str, Path]) -> None:
    code, response, _ = _run(store)
    assert code == 0
    assert [m["id"] for m in response["memberships"]] == ["a", "b", "c", "d", "e"]


def test_star_runs_every_definition(store: dict[str, Path]) -> None:
    store["request"].write_text(json.dumps({"schema": {"name": "_xdm.context.profile"},
                                            "segments": [{"segmentId": "*"}]}))
    code, response, _ = _run(store)
    assert code == 0
    assert set(response["metrics"]["segmentedProfileCounter"]) == {"us", "buyers", "us-buyers"}


def test_unknown_segment_is_a_located_error(store: dict[str, Path]) -> None:
    store["request"].write_text('[\n  {"segmentId": "us"},\n  {"segmentId": "nope"}\n]\n')
    code, response, _ = _run(store)
    assert code == 1 and response["status"] == "FAILED"
    [error] = response["errors"]
    assert error["code"] == "PQL096" and "nope" in error["msg"]
    assert error["location"] == f"{store['request']}:3:17"
    assert {"segmentId": "nope"} in response["segments"]


def test_bad_profile_lines_are_located_and_the_rest_runs(store: dict[str, Path]) -> None:
    with store["profiles"].open("a") as handle:
        handle.write("{not json\n")
        handle.write('{"homeAddress": {"countryCode": "US"}}\n')
        handle.write('{"_id": "z", "events": 3}\n')
    code, response, _ = _run(store)
    assert code == 1 and response["metrics"]["totalProfiles"] == 5
    locations = [e["location"] for e in response["errors"]]
    assert locations == [f"{store['profiles']}:{n}" for n in (6, 7, 8)]
    assert "not valid JSON" in response["errors"][0]["msg"]
    assert "no id" in response["errors"][1]["msg"]


def test_definition_that_does_not_compile_is_located(store: dict[str, Path]) -> None:
    (store["defs"] / "bad.json").write_text(json.dumps(
        {"id": "broken", "expression": {"type": "PQL", "format": "pql/text",
                                        "value": "a = = 1"}}))
    store["request"].write_text('[{"segmentId": "broken"}, {"segmentId": "us"}]')
    code, response, _ = _run(store)
    assert code == 1
    [error] = response["errors"]
    assert error["location"].startswith(f"{store['defs'] / 'bad.json'}:1:")
    assert response["metrics"]["segmentedProfileCounter"] == {"us": 3}


@pytest.mark.parametrize(("body", "message", "place"), [
    ('{"segments": 3}', "`segments` must be an array", "1:14"),
    ('[{"segmentId": 7}]', "`[0].segmentId` must be a string", "1:16"),
    ('[\n  {"id": "x"}\n]', "`[0].segmentId` is required", "2:3"),
    ("[]", "at least one segmentId", "1:1"),
    ('[{"segmentId": "a",}]', "not valid JSON", "1:20"),
    ('{"fields": "a", "destination": {}}', "this is an export job body", "1:1"),
])
def test_bad_request_body_exit_2_with_place(store: dict[str, Path], body: str, message: str,
                                            place: str) -> None:
    store["request"].write_text(body)
    code, _, err = _run(store)
    assert code == 2
    assert message in err
    assert f"{store['request']}:{place}:" in err


def test_library_call_with_in_memory_profiles(store: dict[str, Path]) -> None:
    request = parse_segment_job_request(parse_body("<job>", '[{"segmentId": "us"}]'))
    definitions, errors = find_definitions([store["defs"]])
    assert errors == []
    pairs = [(profile("x", "US"), []), {"_id": "y", "homeAddress": {"countryCode": "FR"}}]
    result = run_segment_job(request, definitions, pairs, now=NOW, job_id="j")
    assert result.succeeded
    assert [m["id"] for m in result.memberships] == ["x", "y"]
    assert result.memberships[0]["segmentMembership"]["ups"]["us"]["status"] == "realized"
    assert result.response["metrics"]["segmentedProfileCounter"] == {"us": 1}


def test_previous_membership_file(store: dict[str, Path], tmp_path: Path) -> None:
    first = tmp_path / "first.ndjson"
    _run(store, "--output", str(first))
    # second run against the first run's membership: stayers are `existing`
    second = tmp_path / "second.ndjson"
    code, response, _ = _run(store, "--output", str(second), "--membership", str(first))
    assert code == 0
    assert response["metrics"]["segmentedProfileByStatusCounter"]["us"] == {
        "realized": 0, "existing": 3, "exited": 0}


def test_profiles_from_a_glob_and_a_directory(store: dict[str, Path], tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    write_ndjson(parts / "part-1.ndjson", [profile("p1", "US")])
    write_ndjson(parts / "part-2.ndjson", [profile("p2", "US"), profile("p3", "FR")])
    for data in (str(parts), str(parts / "part-*.ndjson")):
        result = run_cli("job", "run", str(store["request"]), "-d", str(store["defs"]),
                         "-p", data, "--now", NOW)
        assert json.loads(result.stdout)["metrics"]["totalProfiles"] == 3
    missing = run_cli("job", "run", str(store["request"]), "-d", str(store["defs"]),
                      "-p", str(tmp_path / "none-*.ndjson"), "--now", NOW)
    assert missing.exit_code == 2 and "no file matches" in missing.stderr


def test_segment_job_response_is_read_back_as_definitions(store: dict[str, Path],
                                                          tmp_path: Path) -> None:
    _code, response, _ = _run(store)
    saved = tmp_path / "response.json"
    saved.write_text(json.dumps(response, indent=2))
    result = run_cli("job", "run", str(store["request"]), "-d", str(saved),
                     "-p", str(store["profiles"]), "--now", NOW)
    # the response holds us and us-buyers, but not `buyers`, which us-buyers reads: buyers
    # then comes from the stored membership (none), so nobody is a US buyer
    again = json.loads(result.stdout)
    assert again["metrics"]["segmentedProfileCounter"] == {"us": 3, "us-buyers": 0}


def test_parquet_profiles_give_the_ndjson_answers(store: dict[str, Path],
                                                  tmp_path: Path) -> None:
    pytest.importorskip("duckdb")
    from pqltools.jobs.data import iter_records, write_records

    parquet = tmp_path / "profiles.parquet"
    write_records((r.value for r in iter_records(store["profiles"])), parquet, "parquet")
    from_ndjson, from_parquet = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    _run(store, "--output", str(from_ndjson))
    code, response, _ = _run({**store, "profiles": parquet}, "--output", str(from_parquet))
    assert code == 0 and response["metrics"]["totalProfiles"] == 5
    assert from_parquet.read_text() == from_ndjson.read_text()


def test_progress_bar_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    import io
    import sys

    from pqltools.cli.job_cmd import progress_bar

    with progress_bar("job", enabled=True) as update:
        assert update is None  # pytest's standard error is not a terminal

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bar("segment job", enabled=True) as update:
        assert update is not None
        for done in range(0, 2001, 100):
            update(done)
    data = write_ndjson(tmp_path / "p.ndjson", [profile(f"x{i}", "US") for i in range(3)])
    with progress_bar("segment job", enabled=True, data=str(data)) as update:
        assert update is not None  # counted first: a bar with a total
    with progress_bar("segment job", enabled=True, data=str(tmp_path / "none")) as update:
        assert update is not None  # unreadable data: the job reports it, the bar has no total
    with progress_bar("segment job", enabled=False) as update:
        assert update is None


def test_no_progress_output_when_not_a_terminal(store: dict[str, Path]) -> None:
    _, _, err = _run(store, "--progress")
    assert err == ""


def test_segments_reading_each_other_in_a_cycle(store: dict[str, Path]) -> None:
    (store["defs"] / "loop.json").write_text(json.dumps({"segments": [
        {"id": "x", "expression": {"type": "PQL", "format": "pql/text",
                                   "value": 'inSegment("y")'}},
        {"id": "y", "expression": {"type": "PQL", "format": "pql/text",
                                   "value": 'inSegment("x")'}}]}))
    store["request"].write_text('[{"segmentId": "x"}]')
    code, _, err = _run(store)
    assert code == 2 and "cycle" in err


def test_a_segment_named_twice_is_a_warning(store: dict[str, Path]) -> None:
    store["request"].write_text('[{"segmentId": "us"}, {"segmentId": "us"}]')
    code, response, err = _run(store)
    assert code == 0 and [s["segmentId"] for s in response["segments"]] == ["us"]
    assert f"{store['request']}:1:37: warning PQL501: segment 'us' is named twice" in err


def test_an_unloadable_definition_file_is_a_warning(store: dict[str, Path]) -> None:
    (store["defs"] / "notes.json").write_text('{"segments": [{"id": "n"}]}')
    code, response, err = _run(store)
    assert code == 0 and response["status"] == "SUCCEEDED"
    assert f"{store['defs'] / 'notes.json'}:1:15: warning PQL090:" in err
    store["request"].write_text('[{"segmentId": "n"}]')
    code, response, _ = _run(store)
    assert code == 1 and response["errors"][0]["code"] == "PQL096"
