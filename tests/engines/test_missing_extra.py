"""Without the ``[duckdb]``/``[spark]`` extras, asking for a SQL engine says what to install
(exit 2 on the command line), never a ModuleNotFoundError traceback."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pqltools
from pqltools.cli import main
from pqltools.engines.run import MissingExtraError

REAL_FIND_SPEC = importlib.util.find_spec


@pytest.fixture
def without_sqlglot(monkeypatch: pytest.MonkeyPatch) -> None:
    def find_spec(name: str, *args: Any) -> Any:
        return None if name.split(".")[0] in ("sqlglot", "duckdb", "pyspark") else \
            REAL_FIND_SPEC(name, *args)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_library_calls_name_the_extra(without_sqlglot: None) -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'pqltools\[duckdb\]'"):
        pqltools.to_sql("a = 1", dialect="duckdb")
    with pytest.raises(MissingExtraError, match=r"pqltools\[spark\]"):
        list(pqltools.segment({"s": "a = 1"}, [{"a": 1}], engine="spark"))
    # the interpreter needs no extra
    assert list(pqltools.segment({"s": "a = 1"}, [{"a": 1}], now="2025-01-01T00:00:00Z"))


@pytest.mark.parametrize("args", [
    ["eval", "--engine", "duckdb", "--count", "-e", "a = 1", "PROFILES"],
    ["convert", "--to", "sql", "a = 1"],
])
def test_cli_says_what_to_install(without_sqlglot: None, tmp_path: Path,
                                  args: list[str]) -> None:
    profiles = tmp_path / "p.ndjson"
    profiles.write_text('{"a": 1}\n', encoding="utf-8")
    args = [str(profiles) if a == "PROFILES" else a for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "pip install 'pqltools[duckdb]'" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
