"""``-o FILE`` on the SQL engines: the interpreter's records, built in SQL (DuckDB here; Spark in
tests/engines/test_engine_events_spark.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("duckdb")

from output_data import NOW, read_output, write

from pqltools.cli import main


def _output(engine: str, paths: dict[str, Path], out: Path, *more: str) -> list[dict]:
    result = CliRunner().invoke(main, ["eval", "--engine", engine, "--now", NOW, "-o", str(out),
                                       *more, str(paths["definitions"]), str(paths["profiles"])])
    assert result.exit_code == 0, result.output
    return read_output(out)


@pytest.mark.parametrize("previous", [False, True])
@pytest.mark.parametrize("suffix", [".ndjson", ".parquet"])
def test_duckdb_output_equals_interpreter(tmp_path: Path, previous: bool, suffix: str) -> None:
    paths = write(tmp_path)
    more = ("--previous", str(paths["previous"])) if previous else ()
    expected = _output("python", paths, tmp_path / "python.ndjson", *more)
    assert _output("duckdb", paths, tmp_path / f"duckdb{suffix}", *more) == expected
    by_id = {r["id"]: r["segmentMembership"] for r in expected}
    if not previous:  # what the interpreter's records hold, spelled out
        assert by_id["a"]["aam"] == {"z": {"status": "realized"}}
        assert set(by_id["a"]["ups"]) == {"s1", "s2", "recent", "other"}
        assert by_id["a"]["ups"]["other"]["version"] == 3
        assert by_id["b"]["ups"]["s1"]["status"] == "exited"
        assert "timestamp" in by_id["b"]["ups"]["s1"]
        assert set(by_id["d"]["ups"]) == {"s2", "s3"}
    else:
        assert by_id["c"]["ups"]["s1"]["status"] == "existing"
        assert by_id["b"]["ups"] == {"s2": by_id["b"]["ups"]["s2"]}


def test_namespace_casing_kept(tmp_path: Path) -> None:
    paths = write(tmp_path)
    text = paths["profiles"].read_text().replace('"ups"', '"UPS"')
    paths["profiles"].write_text(text)
    expected = _output("python", paths, tmp_path / "python.ndjson")
    by_id = {r["id"]: r["segmentMembership"] for r in expected}
    assert set(by_id["a"]) == {"UPS", "aam"} and set(by_id["9"]) == {"ups"}
    assert _output("duckdb", paths, tmp_path / "duckdb.ndjson") == expected


def test_segment_records_equal_interpreter(tmp_path: Path) -> None:
    """``pqltools.segment`` on DuckDB (records built in Python from the stored membership the
    query returns): the interpreter's records, null fields of the merged schema left out."""
    import json

    from output_data import DEFINITIONS, PROFILES

    import pqltools
    paths = write(tmp_path)
    definitions = {d["id"]: d["expression"]["value"] for d in DEFINITIONS}
    expected = list(pqltools.segment(definitions, [json.loads(json.dumps(p)) for p in PROFILES],
                                     now=NOW))
    assert list(pqltools.segment(definitions, str(paths["profiles"]), engine="duckdb",
                                 now=NOW)) == expected
