"""Profile data in and job output out: NDJSON, JSON arrays and Parquet files.

``DATA`` arguments name a file, a directory (every ``.ndjson``, ``.jsonl``, ``.json`` and
``.parquet`` file in it, sorted) or a glob (``data/part-*.parquet``). A record is one merged
profile; its events are under ``events_key`` (``events`` by default, as ``pql eval`` has it).
Parquet is read and written with DuckDB (the ``duckdb`` extra); NDJSON needs nothing.

Every record carries its place (``file:line`` for NDJSON, ``file#row`` for Parquet), so that an
unusable record is reported where it is rather than stopping a long run.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import glob
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pqltools.errors import DefinitionError

__all__ = [
    "DATA_SUFFIXES",
    "DataError",
    "Record",
    "count_records",
    "expand_paths",
    "iter_records",
    "output_format",
    "write_records",
]

DATA_SUFFIXES = (".ndjson", ".jsonl", ".json", ".parquet")
OUTPUT_FORMATS = ("ndjson", "parquet")


class DataError(DefinitionError):
    """A data argument that names nothing readable (exit code 2)."""

    def __init__(self, message: str, path: str = "<data>") -> None:
        super().__init__(message, path=path, code="PQL094")


@dataclass(frozen=True, slots=True)
class Record:
    """One input record (or why the line holding it is unusable) and where it is."""

    value: Any
    where: str
    error: str | None = None


def expand_paths(source: str | Path) -> list[Path]:
    """The data files ``source`` names: a file, a directory's data files, or a glob's matches."""
    text = str(source)
    path = Path(text)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES
                       and not any(part.startswith(".") for part in p.relative_to(path).parts))
        if not found:
            raise DataError(f"{text}: directory holds no .ndjson, .jsonl, .json or .parquet file",
                            text)
        return found
    if path.is_file():
        return [path]
    if glob.has_magic(text):
        matches = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
        if not matches:
            raise DataError(f"{text}: no file matches", text)
        return matches
    raise DataError(f"{text}: no such file or directory", text)


def iter_records(sources: str | Path | Iterable[str | Path]) -> Iterator[Record]:
    """Every record of every data file ``sources`` names, in order, with its place."""
    items = [sources] if isinstance(sources, (str, Path)) else list(sources)
    for source in items:
        for path in expand_paths(source):
            if path.suffix == ".parquet":
                yield from _parquet_records(path)
            else:
                yield from _json_records(path)


def count_records(sources: str | Path | Iterable[str | Path]) -> int:
    """How many records the data files hold, without decoding them (NDJSON: non-blank lines;
    Parquet: the row count in its footer; a JSON array: its length)."""
    items = [sources] if isinstance(sources, (str, Path)) else list(sources)
    total = 0
    for source in items:
        for path in expand_paths(source):
            if path.suffix == ".parquet":
                duckdb = _duckdb()
                con = duckdb.connect()
                try:
                    row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)])
                    total += int(row.fetchone()[0])
                except duckdb.Error as exc:
                    raise DataError(f"{path}: not a readable Parquet file: {exc}",
                                    str(path)) from None
                finally:
                    con.close()
                continue
            with path.open("rb") as handle:
                head = handle.read(64).lstrip(b" \t\r\n\xef\xbb\xbf")
                if head.startswith(b"["):
                    total += sum(1 for _ in _json_records(path))
                    continue
                handle.seek(0)
                total += sum(1 for line in handle if line.strip())
    return total


def _json_records(path: Path) -> Iterator[Record]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc.strerror or exc}", str(path)) from None
    with handle:
        first = handle.read(1)
        while first in (b" ", b"\n", b"\r", b"\t", b"\xef", b"\xbb", b"\xbf"):
            first = handle.read(1)
        handle.seek(0)
        if first == b"[":  # one JSON array of records
            text = handle.read().decode("utf-8", "replace")
            try:
                values = json.loads(text)
            except ValueError as exc:
                yield Record(None, f"{path}", f"not valid JSON: {exc}")
                return
            for i, value in enumerate(values):
                yield Record(value, f"{path}[{i}]")
            return
        for number, raw in enumerate(handle, 1):
            line = raw.strip()
            if not line:
                continue
            try:
                yield Record(json.loads(line), f"{path}:{number}")
            except ValueError as exc:
                yield Record(None, f"{path}:{number}", f"not valid JSON: {exc}")


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise DataError("reading or writing Parquet needs DuckDB: pip install 'pqltools[duckdb]'"
                        ) from None
    return duckdb


def _parquet_records(path: Path) -> Iterator[Record]:
    duckdb = _duckdb()
    con = duckdb.connect()
    try:
        try:
            result = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        except duckdb.Error as exc:
            raise DataError(f"{path}: not a readable Parquet file: {exc}", str(path)) from None
        names = [d[0] for d in result.description]
        row_number = 0
        while True:
            rows = result.fetchmany(2048)
            if not rows:
                break
            for row in rows:
                yield Record({n: _plain(v) for n, v in zip(names, row) if v is not None},
                             f"{path}#{row_number}")
                row_number += 1
    finally:
        con.close()


def _plain(value: Any) -> Any:
    """A DuckDB value as the JSON value the interpreter reads (timestamps as ISO-8601)."""
    if isinstance(value, dict):
        # a NULL struct field is an absent JSON key (Parquet has one schema for every row)
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    return value


def output_format(path: str | Path, requested: str | None = None) -> str:
    """``ndjson`` or ``parquet``: ``requested``, else from the file suffix (default NDJSON)."""
    if requested:
        if requested not in OUTPUT_FORMATS:
            raise DataError(f"unknown output format {requested!r} (expected ndjson or parquet)")
        return requested
    return "parquet" if str(path).endswith(".parquet") else "ndjson"


#: The Parquet type of ``segmentMembership``: namespace -> audience id -> entry. A MAP, since
#: audience ids are data (and namespaces differ only by case: ``ups`` and ``UPS``).
MEMBERSHIP_PARQUET_TYPE = (
    "MAP(VARCHAR, MAP(VARCHAR, STRUCT(status VARCHAR, lastQualificationTime VARCHAR, "
    '"timestamp" VARCHAR, version VARCHAR, validUntil VARCHAR)))'
)
#: The Parquet type of ``identityMap``: namespace -> identities.
IDENTITY_MAP_PARQUET_TYPE = (
    'MAP(VARCHAR, STRUCT(id VARCHAR, "primary" BOOLEAN, authenticatedState VARCHAR)[])'
)
#: Columns whose Parquet type is fixed rather than inferred from the data.
TYPED_COLUMNS = {"segmentMembership": MEMBERSHIP_PARQUET_TYPE,
                 "identityMap": IDENTITY_MAP_PARQUET_TYPE}


def write_records(records: Iterable[dict[str, Any]], path: str | Path, fmt: str,
                  *, typed: dict[str, str] | None = None) -> int:
    """Write ``records`` to ``path`` as NDJSON or Parquet; return how many were written.

    NDJSON streams. Parquet goes through a temporary NDJSON file next to ``path`` that DuckDB
    converts, inferring each column's type from every record, except the ``typed`` columns
    (default :data:`TYPED_COLUMNS`: maps keyed by data). The output appears whole or not at all
    (written aside, then renamed).
    """
    typed = TYPED_COLUMNS if typed is None else typed
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".ndjson", dir=directory)
    count = 0
    present: set[str] = set()
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for record in records:
                if fmt == "parquet":
                    # typed columns travel as JSON text; DuckDB turns them into their type
                    record = {k: json.dumps(v) if k in typed and v is not None else v
                              for k, v in record.items()}
                    present.update(k for k in record if k in typed)
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                count += 1
        if fmt == "ndjson":
            os.replace(temp_name, target)
            return count
        _to_parquet(Path(temp_name), target, {k: typed[k] for k in sorted(present)}, count)
        return count
    finally:
        if os.path.exists(temp_name):
            os.unlink(temp_name)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _to_parquet(source: Path, target: Path, typed: dict[str, str], count: int) -> None:
    duckdb = _duckdb()
    fd, parquet_temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".parquet",
                                        dir=target.parent if str(target.parent) else ".")
    os.close(fd)
    con = duckdb.connect()
    try:
        if count == 0:
            con.execute("COPY (SELECT NULL::VARCHAR AS id LIMIT 0) TO ? (FORMAT parquet)",
                        [parquet_temp])
        else:
            replace = ", ".join(
                f"json_transform(\"{name}\", '{_sql_text(json.dumps(kind))}') AS \"{name}\""
                for name, kind in typed.items())
            select = f"* REPLACE ({replace})" if replace else "*"
            con.execute(f"COPY (SELECT {select} FROM read_json(?, format='newline_delimited', "
                        "sample_size=-1)) TO ? (FORMAT parquet)", [str(source), parquet_temp])
        os.replace(parquet_temp, target)
    except duckdb.Error as exc:
        raise DataError(f"{target}: cannot write Parquet: {exc}", str(target)) from None
    finally:
        con.close()
        if os.path.exists(parquet_temp):
            os.unlink(parquet_temp)
