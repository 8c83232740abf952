"""Data files the SQL engines cannot read, reported in the interpreter's words.

DuckDB and Spark say that a file is not Parquet, or that some JSON is malformed, each in its own
way (DuckDB numbers NDJSON lines one too high; Spark's default mode turns a malformed line into
a row of nulls, which would be counted silently). The engines read NDJSON strictly and, when a
read fails, look for the first unusable line themselves so that the message names the file and
line as ``pql eval`` on the interpreter does: ``FILE:LINE: not valid JSON: ...``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pqltools.errors import NO_SPAN, DefinitionError, Span

__all__ = ["DATA_CODE", "DataInputError", "first_bad_line", "unreadable"]

#: The code of profile or event data that cannot be read (docs/rules.md, PQL094).
DATA_CODE = "PQL094"


class DataInputError(DefinitionError):
    """A profiles or events file the engine cannot read: ``PATH[:LINE]: message``."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.line = line
        span = NO_SPAN if line is None else Span(0, 0, line, 1, line, 1)
        super().__init__(message, path=path, span=span, code=DATA_CODE)

    def _summary(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.diagnostics[0].message}"


def first_bad_line(paths: Sequence[str]) -> DataInputError | None:
    """The first line of the NDJSON files ``paths`` that is not a JSON object (blank lines
    are skipped), as an error naming its file and line; None if every line is usable."""
    for path in paths:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below, read line by line
        except OSError as exc:
            return DataInputError(path, f"cannot read: {exc.strerror or exc}")
        with stream:
            for number, raw in enumerate(stream, 1):
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    return DataInputError(path, f"not valid UTF-8 (byte {exc.start + 1} of the "
                                                "line)", number)
                except ValueError as exc:
                    return DataInputError(path, f"not valid JSON: {exc}", number)
                except RecursionError:
                    return DataInputError(path, "JSON nested too deeply", number)
                if not isinstance(value, dict):
                    return DataInputError(path, "a profile must be a JSON object, got "
                                                f"{type(value).__name__}", number)
    return None


def unreadable(paths: Sequence[str], engine: str, message: str) -> DataInputError:
    """The error for files ``paths`` that ``engine`` failed to read with ``message``: the first
    unusable NDJSON line when there is one, else the engine's message about the files."""
    ndjson = [p for p in paths if not p.lower().endswith((".parquet", ".pq"))]
    found = first_bad_line(ndjson) if ndjson else None
    if found is not None:
        return found
    where = paths[0] if len(paths) == 1 else f"{paths[0]} (and {len(paths) - 1} more files)"
    return DataInputError(where, f"{engine} cannot read it: {message.strip()}")
