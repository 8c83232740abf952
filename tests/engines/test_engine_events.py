"""A separate events input joined by identity: the interpreter and DuckDB agree, nested or apart.

The Spark side is tests/engines/test_engine_events_spark.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

pytest.importorskip("duckdb")

from events_data import (
    DEFINITIONS,
    EXPECTED,
    IDS,
    NOW,
    nested_pairs,
    qualifying,
    separate_events,
    write_files,
)

import pqltools
from pqltools.cli import main


def _run(profiles: Any, engine: str = "duckdb", **options: Any) -> list[dict[str, Any]]:
    return list(pqltools.segment(DEFINITIONS, profiles, engine=engine, now=NOW, **options))


def _own_pairs(path: Path) -> list[tuple[dict[str, Any], Any]]:
    """The profiles of an NDJSON file as ``(profile, its own events)`` pairs."""
    pairs = []
    for line in path.read_text().splitlines():
        profile = json.loads(line)
        pairs.append((profile, profile.pop("events", None)))
    return pairs


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    return write_files(tmp_path)


def test_reference_nested_and_apart_agree(files: dict[str, Path]) -> None:
    nested = _run(nested_pairs(), "python")
    assert qualifying(nested) == EXPECTED
    own = _own_pairs(files["profiles"])
    assert _run(own, "python", events=separate_events()) == nested
    assert _run(own, "python", events=str(files["events"])) == nested


@pytest.mark.parametrize("kind", ["ndjson", "parquet", "relation", "objects"])
def test_duckdb_events_apart_equal_nested(files: dict[str, Path], tmp_path: Path,
                                          kind: str) -> None:
    import duckdb
    reference = _run(nested_pairs(), "python")
    assert _run(str(files["nested"])) == reference
    profiles: Any = str(files["profiles"])
    events: Any = str(files["events"])
    if kind == "parquet":
        con = duckdb.connect()
        for name in ("profiles", "events"):
            out = tmp_path / f"{name}.parquet"
            con.execute(f"COPY (SELECT * FROM read_json('{files[name]}', sample_size=-1)) "
                        f"TO '{out}' (FORMAT parquet)")
        profiles, events = str(tmp_path / "profiles.parquet"), str(tmp_path / "events.parquet")
    elif kind == "relation":
        con = duckdb.connect()
        profiles = con.read_json(str(files["profiles"]), sample_size=-1)
        events = con.read_json(str(files["events"]), sample_size=-1)
    elif kind == "objects":
        profiles = _own_pairs(files["profiles"])
        events = separate_events()
    assert _run(profiles, events=events) == reference


def test_stray_and_empty(files: dict[str, Path]) -> None:
    records = _run(str(files["profiles"]), events=str(files["events"]))
    by_id = dict(zip(IDS, records))
    # "ghost" events and the one without profileId belong to nobody
    assert by_id["quiet"] == {"ups": {"no-events": {
        "status": "realized", "lastQualificationTime": "2025-06-15T12:00:00.000+00:00"}}}
    assert "buyers" not in by_id["old"]["ups"]


def test_key_first_seen_late_in_events_file(tmp_path: Path) -> None:
    files = write_files(tmp_path, pad=21_000)
    records = _run(str(files["profiles"]), events=str(files["events"]))
    assert qualifying(records)["late"] == {"x2"}
    out = CliRunner().invoke(main, ["eval", "--engine", "duckdb", "--count", "--events",
                                    str(files["events"]), DEFINITIONS["late"],
                                    str(files["profiles"])])
    assert out.exit_code == 0 and out.output == "1\n", out.output


def test_identity_key_and_id_key(tmp_path: Path) -> None:
    profiles = tmp_path / "p.ndjson"
    profiles.write_text('{"crm": {"key": 5}, "_id": "ignored"}\n{"crm": {"key": 6}}\n')
    events = tmp_path / "e.ndjson"
    events.write_text('{"owner": {"crm": 5}, "eventType": "x"}\n'
                      '{"owner": {"crm": "ignored"}, "eventType": "x"}\n')
    query = {"x": 'xEvent[eventType = "x"].count() = 1'}
    for engine, source in (("duckdb", str(profiles)),
                           ("python", [json.loads(x) for x in profiles.read_text().splitlines()])):
        records = list(pqltools.segment(query, source, engine=engine, now=NOW,
                                        events=str(events), identity_key="owner.crm",
                                        id_key="crm.key"))
        assert ["x" in r["ups"] for r in records] == [True, False], engine


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_cli_events_file(files: dict[str, Path], engine: str) -> None:
    args = ["eval", "--engine", engine, "--now", NOW, "--events", str(files["events"]),
            DEFINITIONS["buyers"], str(files["profiles"])]
    result = CliRunner().invoke(main, args)
    # the interpreter reports the event without profileId (exit 1); both print the same ids
    assert sorted(line for line in result.output.splitlines()
                  if not line.startswith(str(files["events"]))) == sorted(EXPECTED["buyers"])
    counted = CliRunner().invoke(main, args[:2] + [engine, "--count"] + args[3:])
    assert counted.output.splitlines()[-1] == "4"


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_cli_events_missing(tmp_path: Path, engine: str) -> None:
    profiles = tmp_path / "p.ndjson"
    profiles.write_text('{"_id": "a"}\n')
    result = CliRunner().invoke(main, ["eval", "--engine", engine, "--events",
                                       str(tmp_path / "none*.ndjson"), "xEvent.count() = 0",
                                       str(profiles)])
    assert result.exit_code == 2 and "--events" in result.output


@pytest.mark.parametrize("suffix", [".ndjson", ".parquet"])
def test_events_in_several_files(files: dict[str, Path], tmp_path: Path, suffix: str) -> None:
    """A glob of events files: each profile gets its events from all of them, in file-name then
    line order (the joined list, read back through the engine's own relation)."""
    import duckdb

    from pqltools.engines import duckdb_engine as dd
    from pqltools.engines.plan import compile_run
    lines = files["events"].read_text().splitlines()
    half = len(lines) // 2
    parts = [tmp_path / f"ev-{k}.ndjson" for k in (1, 2)]
    parts[0].write_text("\n".join(lines[:half]) + "\n")
    parts[1].write_text("\n".join(lines[half:]) + "\n")
    if suffix == ".parquet":
        con = duckdb.connect()
        for part in parts:
            con.execute(f"COPY (SELECT * REPLACE (CAST(timestamp AS VARCHAR) AS timestamp) "
                        f"FROM read_json('{part}', sample_size=-1)) TO "
                        f"'{part.with_suffix('.parquet')}' (FORMAT parquet)")
            part.unlink()
    pattern = str(tmp_path / f"ev-*{suffix}")
    assert _run(str(files["profiles"]), events=pattern) == _run(nested_pairs(), "python")
    segments = compile_run({"t": 'xEvent[eventType = "commerce.purchases"].count() > 0'})
    source = dd.open_source(str(files["profiles"]), segments, events=pattern)
    from pqltools.engines.events import JOINED_EVENTS
    rows = source.relation.query("r", f'SELECT "_id", "{JOINED_EVENTS}" FROM r').fetchall()
    old = dict(rows)["old"]
    assert [e["eventType"] for e in old] == ["commerce.purchases",
                                              "web.webpagedetails.pageViews"]
