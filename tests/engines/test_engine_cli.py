"""``pql eval --engine duckdb``, ``--count``, ``-o`` and ``pql convert --to sql`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("duckdb")

from pqltools.cli import main

NOW = "2024-05-15T12:00:00Z"
QUERY = ('homeAddress.countryCode = "US" and xEvent[eventType = "commerce.purchases" and '
         'timestamp occurs < 30 days before now].count() >= 1')
PROFILES = [
    {"_id": "a", "homeAddress": {"countryCode": "US"},
     "events": [{"eventType": "commerce.purchases", "timestamp": "2024-05-14T10:00:00Z"}]},
    {"_id": "b", "person": {"gender": "male"},
     "segmentMembership": {"ups": {"expression": {"status": "realized",
                                                  "lastQualificationTime": "2024-05-01T00:00:00Z"}}}},
    {"_id": "c", "homeAddress": {"countryCode": "US"},
     "events": [{"eventType": "web.pageView", "timestamp": "2024-05-14T10:00:00Z"}],
     "late": {"key": 1}},
]


@pytest.fixture()
def profiles(tmp_path: Path) -> Path:
    path = tmp_path / "profiles.ndjson"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROFILES))
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_ids_count_and_membership_agree(profiles: Path, engine: str) -> None:
    assert run("eval", "--engine", engine, "--now", NOW, QUERY, str(profiles)) == "a\n"
    assert run("eval", "--engine", engine, "--count", "--now", NOW, QUERY, str(profiles)) == "1\n"
    records = [json.loads(line) for line in run("eval", "--engine", engine, "--membership",
                                                "--now", NOW, QUERY, str(profiles)).splitlines()]
    assert [r["id"] for r in records] == ["a", "b", "c"]
    assert records[0]["segmentMembership"]["ups"]["expression"]["status"] == "realized"
    assert records[1]["segmentMembership"]["ups"]["expression"]["status"] == "exited"


def test_key_first_seen_late_is_read(profiles: Path) -> None:
    assert run("eval", "--engine", "duckdb", "--count", "late.key = 1", str(profiles)) == "1\n"


@pytest.mark.parametrize("suffix", [".ndjson", ".parquet"])
def test_output_file_built_in_sql(profiles: Path, tmp_path: Path, suffix: str) -> None:
    import duckdb
    out = tmp_path / f"membership{suffix}"
    run("eval", "--engine", "duckdb", "-o", str(out), "--now", NOW, QUERY, str(profiles))
    if suffix == ".ndjson":
        rows = sorted((r["id"], r["segmentMembership"]) for r in map(
            json.loads, out.read_text().splitlines()))
    else:
        # Parquet holds segmentMembership as JSON text: every namespace and field carried over
        rows = [(pid, json.loads(sm)) for pid, sm in duckdb.sql(
            f"SELECT id, segmentMembership FROM '{out}' ORDER BY id").fetchall()]
    assert [r[0] for r in rows] == ["a", "b", "c"]
    assert rows[0][1]["ups"]["expression"]["status"] == "realized"
    assert rows[1][1]["ups"]["expression"]["status"] == "exited"
    assert rows[2][1]["ups"] == {}


def test_convert_to_sql_and_refusal() -> None:
    sql = run("convert", "--to", "sql", "--dialect", "spark", "--now", NOW, QUERY)
    assert "FILTER(" in sql and "->" in sql
    sql = run("convert", "--to", "sql", "--now", NOW, QUERY)
    assert "LAMBDA" in sql and "->" not in sql
    result = CliRunner().invoke(main, ["convert", "--to", "sql",
                                       "person.orders.groupBy(storeId)"])
    assert result.exit_code == 1
    assert "cannot compile the method `groupBy`" in result.output and "^" in result.output
