"""A separate events input joined by identity on Spark: the interpreter's answer, nested or apart.

One local session for the module; each source kind is one query.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark")

from events_data import (
    DEFINITIONS,
    EXPECTED,
    NOW,
    nested_pairs,
    qualifying,
    separate_events,
    write_files,
)

import pqltools


def _run(profiles: Any, **options: Any) -> list[dict[str, Any]]:
    return list(pqltools.segment(DEFINITIONS, profiles, engine="spark", now=NOW, **options))


# Parquet files read as a DataFrame: the "frame" case covers them (DuckDB tests Parquet)
@pytest.mark.parametrize("kind", ["ndjson", "frame", "objects"])
def test_spark_events_apart_equal_nested(spark: Any, tmp_path: Path, kind: str) -> None:
    files = write_files(tmp_path, pad=21_000 if kind == "ndjson" else 0)
    reference = list(pqltools.segment(DEFINITIONS, nested_pairs(), now=NOW))
    assert qualifying(reference) == EXPECTED
    profiles: Any = str(files["profiles"])
    events: Any = str(files["events"])
    if kind == "ndjson":
        assert _run(str(files["nested"])) == reference
    elif kind == "frame":
        profiles = spark.read.json(str(files["profiles"]))
        events = spark.read.json(str(files["events"]))
    else:
        pairs = []
        for line in files["profiles"].read_text().splitlines():
            profile = json.loads(line)
            pairs.append((profile, profile.pop("events", None)))
        profiles, events = pairs, separate_events()
    records = _run(profiles, events=events)
    if kind in ("ndjson", "objects"):  # input order
        assert records == reference
    else:  # a DataFrame's rows come back in its own order: compare by id
        assert sorted(map(json.dumps, records)) == sorted(map(json.dumps, reference))


def test_spark_output_equals_interpreter(spark: Any, tmp_path: Path) -> None:
    """``-o`` on Spark: the interpreter's records (other namespaces, audiences not in the run,
    expired exits, ``--previous``), built in Spark SQL."""
    from click.testing import CliRunner
    from output_data import NOW as OUT_NOW
    from output_data import read_output, write

    from pqltools.cli import main
    paths = write(tmp_path)
    for more, suffix in (((), ".ndjson"), (("--previous", str(paths["previous"])), ".parquet")):
        outputs = []
        for engine, out in (("python", tmp_path / "python.ndjson"),
                            ("spark", tmp_path / f"spark{len(more)}{suffix}")):
            result = CliRunner().invoke(main, ["eval", "--engine", engine, "--now", OUT_NOW,
                                               "-o", str(out), *more,
                                               str(paths["definitions"]),
                                               str(paths["profiles"])])
            assert result.exit_code == 0, result.output
            outputs.append(read_output(out))
        assert outputs[0] == outputs[1], more


def test_spark_names_unreadable_files(spark: Any, tmp_path: Path) -> None:
    """A malformed NDJSON line is an error naming its file and line (Spark's default would read
    it as a row of nulls and count it); a file that is not Parquet is named too."""
    from pqltools.engines.inputs import DataInputError
    profiles = tmp_path / "p.ndjson"
    profiles.write_text('{"_id": "a", "age": 30}\nnot json\n{"_id": "b", "age": 40}\n')
    with pytest.raises(DataInputError) as caught:
        list(pqltools.segment({"s": "age > 18"}, str(profiles), engine="spark"))
    assert str(caught.value).startswith(f"{profiles}:2: not valid JSON")
    broken = tmp_path / "p.parquet"
    broken.write_bytes(b"not Parquet")
    with pytest.raises(DataInputError) as caught:
        list(pqltools.segment({"s": "age > 18"}, str(broken), engine="spark"))
    assert str(caught.value).startswith(f"{broken}: Spark cannot read it: ")
    assert "An error occurred while calling" not in str(caught.value)
