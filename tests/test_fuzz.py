"""The fuzzer's regression cases replay cleanly, and a short fuzz run finds nothing new.

Cases under tests/data/fuzz/ are minimized findings written by ``python -m pqltools.fuzz``
(docs/limits.md): each once broke the contract. The short run gives every target a few seconds
with a fixed seed (about a minute in all); the long run is a documented command.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pqltools.fuzz import fuzz, replay
from pqltools.fuzz.targets import TARGETS

CASES = sorted((Path(__file__).parent / "data" / "fuzz").glob("*.json"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_regression_case_replays_cleanly(path: Path) -> None:
    case = json.loads(path.read_text("ascii"))
    assert case["target"] in TARGETS
    finding = replay(path)
    assert finding is None, f"{case['finding']} -> still: {finding}"


#: Seconds per target in the suite (9 targets: about a minute); the long run is in docs.
SHORT_RUN = 6.0


@pytest.mark.parametrize("target", list(TARGETS))
def test_short_fuzz_run_finds_nothing(target: str, tmp_path: Path) -> None:
    report = fuzz(target, SHORT_RUN, seed=20261201, timeout=20.0, out=tmp_path,
                  hypothesis=True)
    assert report.inputs > 0
    assert not report.findings, "\n".join(
        f"{f.kind} at {f.where}: {f.detail}\n  input: {text[:300]!r}"
        for f, text, _ in report.findings)
