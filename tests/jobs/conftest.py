"""Small profile stores and definition files for the job tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pqltools.cli import main

NOW = "2026-12-01T00:00:00Z"
STAMP = "2026-12-01T00:00:00.000+00:00"

DEFINITIONS = {"segments": [
    {"id": "us", "name": "In the USA", "mergePolicyId": "mp-1",
     "expression": {"type": "PQL", "format": "pql/text",
                    "value": 'homeAddress.countryCode = "US"'}},
    {"id": "buyers", "name": "Bought this month",
     "expression": {"type": "PQL", "format": "pql/text",
                    "value": 'xEvent[eventType = "commerce.purchases" and '
                             'timestamp occurs < 30 days before now].count() >= 1'}},
    {"id": "us-buyers", "name": "US buyers",
     "expression": {"type": "PQL", "format": "pql/text",
                    "value": 'inSegment("us") and inSegment("buyers")'}},
]}


def profile(pid: str, country: str | None, *, purchases: int = 0,
            membership: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A profile with ``purchases`` purchase events in November 2026."""
    out: dict[str, Any] = {"_id": pid,
                           "identityMap": {"Email": [{"id": f"{pid}@example.com"}]}}
    if country is not None:
        out["homeAddress"] = {"countryCode": country}
    if membership is not None:
        out["segmentMembership"] = membership
    out["events"] = [{"_id": f"{pid}-e{i}", "eventType": "commerce.purchases",
                      "timestamp": f"2026-11-{10 + i:02d}T12:00:00Z",
                      "_repo": {"createDate": f"2026-11-{10 + i:02d}T12:05:00Z"}}
                     for i in range(purchases)]
    out.update(extra)
    return out


def write_ndjson(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


@pytest.fixture
def store(tmp_path: Path) -> dict[str, Path]:
    """Definitions, profiles and a segment job request in ``tmp_path``."""
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "audiences.json").write_text(json.dumps(DEFINITIONS, indent=2), "utf-8")
    profiles = write_ndjson(tmp_path / "profiles.ndjson", [
        profile("a", "US", purchases=2),
        profile("b", "US"),
        profile("c", "FR", purchases=1),
        profile("d", "US", purchases=1, membership={
            "UPS": {"us": {"status": "realized", "lastQualificationTime": "2026-11-01T00:00:00Z",
                           "timestamp": "2026-11-01T00:00:00Z"}}}),
        profile("e", "CA", membership={
            "ups": {"us": {"status": "existing", "lastQualificationTime": "2026-11-01T00:00:00Z"}},
            "Email": {"old": {"status": "exited", "lastQualificationTime": "2026-09-01T00:00:00Z"},
                      "new": {"status": "exited", "lastQualificationTime": "2026-11-20T00:00:00Z"}}}),
    ])
    request = tmp_path / "job.json"
    request.write_text(json.dumps([{"segmentId": "us"}, {"segmentId": "us-buyers"}], indent=2),
                       "utf-8")
    return {"defs": defs, "profiles": profiles, "request": request, "dir": tmp_path}


def run_cli(*args: str) -> Result:
    """Run ``pql`` with these arguments (standard error kept apart)."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)
