"""Data files the SQL engines cannot read: the file and line named, exit code 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("duckdb")

import pqltools
from pqltools.cli import main
from pqltools.engines.inputs import DataInputError, first_bad_line

GOOD = json.dumps({"_id": "a", "person": {"age": 30}})
QUERY = "person.age > 18"


def _eval(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["eval", "--engine", "duckdb", "--count", "-e", QUERY,
                                       *args])
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("lines", "line", "message"), [
    ([GOOD, "not json", GOOD], 2, "not valid JSON"),
    ([GOOD, GOOD, GOOD[:-1]], 3, "not valid JSON"),
    ([GOOD, "", "[1, 2]"], 3, "a profile must be a JSON object, got list"),
    ([GOOD, '"text"'], 2, "a profile must be a JSON object, got str"),
])
def test_an_unusable_ndjson_line_is_named_by_file_and_line(
        tmp_path: Path, lines: list[str], line: int, message: str) -> None:
    path = tmp_path / "p.ndjson"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = _eval(str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}:{line}: {message}"), err
    with pytest.raises(DataInputError) as caught:
        list(pqltools.segment({"s": QUERY}, str(path), engine="duckdb"))
    assert (caught.value.path, caught.value.line) == (str(path), line)
    assert caught.value.diagnostics[0].code == "PQL094"


def test_bytes_that_are_not_utf8_are_named(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    path.write_bytes(GOOD.encode() + b'\n{"_id": "b\xff"}\n')
    code, _, err = _eval(str(path))
    assert code == 2 and err.startswith(f"{path}:2: not valid UTF-8 (byte 11 of the line)"), err


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(b"garbage, not Parquet")
    code, _, err = _eval(str(path))
    assert code == 2 and err.startswith(f"{path}: DuckDB cannot read it: "), err


@pytest.mark.parametrize(("name", "message"), [("none.ndjson", "no such file"),
                                               ("none-*.ndjson", "no file matches")])
def test_missing_files(tmp_path: Path, name: str, message: str) -> None:
    code, _, err = _eval(str(tmp_path / name))
    assert (code, err) == (2, f"{tmp_path / name}: {message}\n")


def test_a_malformed_events_file_is_named(tmp_path: Path) -> None:
    profiles = tmp_path / "p.ndjson"
    profiles.write_text(GOOD + "\n")
    events = tmp_path / "e.ndjson"
    events.write_text('{"profileId": "a", "eventType": "x"}\n{"profileId": \n')
    code, _, err = _eval("--events", str(events), str(profiles))
    assert code == 2 and err.startswith(f"{events}:2: not valid JSON"), err


def test_first_bad_line_accepts_good_files(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode() + b"\n\n  \n" + GOOD.encode())
    assert first_bad_line([str(path)]) is None
    assert _eval(str(path))[:2] == (0, "2\n")


def test_an_error_of_the_run_is_printed_without_a_made_up_position(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    path.write_text(json.dumps({"_id": "a", "t": "not a time"}) + "\n")
    result = CliRunner().invoke(main, ["eval", "--engine", "duckdb", "--count", "-e",
                                       "t occurs today", str(path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("the duckdb engine stopped: "), result.stderr
