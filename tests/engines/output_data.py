"""Profiles with stored memberships of every kind, for the -o output tests (all engines)."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

NOW = "2025-06-15T12:00:00Z"
_T = "2025-06-01T00:00:00Z"


def _entry(status: str, when: str | None = _T, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, **extra}
    if when is not None:
        out["lastQualificationTime"] = when
    return out


PROFILES = [
    # audiences not in the run, an expired and a recent exit, another namespace with an expired
    # exit, an entry with more fields
    {"_id": "a", "x": 1, "segmentMembership": {
        "ups": {"s1": _entry("realized"), "gone": _entry("exited", "2025-01-01T00:00:00Z"),
                "recent": _entry("exited", "2025-06-10T00:00:00Z"),
                "other": _entry("realized", version=3)},
        "aam": {"z": _entry("realized", None), "old": _entry("exited", "2024-01-01T00:00:00Z")}}},
    # a member no longer qualifying, whose entry had a timestamp
    {"_id": "b", "x": 2, "segmentMembership": {
        "ups": {"s1": _entry("existing", timestamp=_T)}}},
    {"_id": "c", "x": 1},
    # an exit kept for 30 days, and one without a readable time (kept as well)
    {"_id": "d", "x": 5, "segmentMembership": {
        "ups": {"s2": _entry("exited", "2025-06-12T00:00:00Z"), "s3": _entry("exited", None)}}},
    {"personID": 9, "x": 1},
]
#: a previous output: "c" twice (the last row counts), "a" replaced, "b" and "d" absent
PREVIOUS = [
    {"id": "a", "segmentMembership": {"ups": {"s2": _entry("realized")}}},
    {"id": "c", "segmentMembership": {"ups": {"s1": _entry("realized")}, "x": {"q": {}}}},
    {"id": "c", "segmentMembership": {"ups": {"s1": _entry("existing")}}},
]
DEFINITIONS = [
    {"id": "s1", "name": "s1", "expression": {"type": "PQL", "format": "pql/text",
                                              "value": "x = 1"}},
    {"id": "s2", "name": "s2", "expression": {"type": "PQL", "format": "pql/text",
                                              "value": 'x = 2 or inSegment("s1")'}},
    {"id": "s3", "name": "s3", "expression": {"type": "PQL", "format": "pql/text",
                                              "value": "x = 3"}},
]


def write(tmp: Path) -> dict[str, Path]:
    paths = {"profiles": tmp / "profiles.ndjson", "previous": tmp / "previous.ndjson",
             "definitions": tmp / "definitions.json"}
    paths["profiles"].write_text("".join(json.dumps(p) + "\n" for p in PROFILES))
    paths["previous"].write_text("".join(json.dumps(p) + "\n" for p in PREVIOUS))
    paths["definitions"].write_text(json.dumps(DEFINITIONS))
    return paths


def read_output(path: Path) -> list[dict[str, Any]]:
    """The records of an -o file (NDJSON, Parquet, or Spark's directory of either), by id."""
    files = sorted(glob.glob(str(path / "part-*"))) if os.path.isdir(path) else [str(path)]
    files = [f for f in files if not f.endswith(".crc")]
    rows: list[dict[str, Any]] = []
    for name in files:
        if name.endswith(".parquet"):
            import duckdb
            for pid, sm in duckdb.sql(f"SELECT id, segmentMembership FROM '{name}'").fetchall():
                rows.append({"id": pid, "segmentMembership": json.loads(sm)})
        else:
            rows += [json.loads(line) for line in Path(name).read_text().splitlines() if line]
    return sorted(rows, key=lambda r: str(r["id"]))
