"""A fuzzer for pqltools: mutation (seeded from the tests) plus Hypothesis-generated trees.

``python -m pqltools.fuzz TARGET... --time SECONDS`` runs the checks of
:mod:`pqltools.fuzz.targets` on mutated inputs until the time is up. Each finding (an exception
outside the contract, a broken round trip, an input slower than ``--timeout``) is minimized and
written to ``tests/data/fuzz/`` as a JSON regression case that ``tests/test_fuzz.py`` replays.
docs/limits.md explains the contract and the long-run command.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pqltools.fuzz.mutate import Mutator, json_seeds, pql_seeds, repo_root
from pqltools.fuzz.targets import TARGETS, Finding, Target, signature

__all__ = ["Report", "fuzz", "minimize", "regression_dir", "replay"]


class _Timeout(BaseException):
    """Raised by the alarm when one input runs longer than the per-input limit."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread, POSIX); a no-op elsewhere."""
    usable = hasattr(signal, "setitimer") and _main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def run_one(target: Target, text: str, timeout: float) -> Finding | None:
    """Check one input; the finding it causes, or None."""
    try:
        with _deadline(timeout):
            target.check(text)
    except _Timeout:
        return Finding("timeout", f"more than {timeout:g} s for {len(text)} characters",
                       target.name)
    except Finding as finding:
        return finding
    except Exception as exc:  # noqa: BLE001 - a check that crashes itself is a finding too
        kind, where = signature(exc)
        return Finding(kind, str(exc)[:300], where)
    return None


def minimize(target: Target, text: str, finding: Finding, *, timeout: float,
             budget: float = 30.0) -> str:
    """A shorter input with the same finding (kind and place), by removing chunks."""
    key = (finding.kind, finding.where)
    stop = time.monotonic() + budget
    chunk = max(1, len(text) // 2)
    while chunk >= 1 and time.monotonic() < stop:
        i, changed = 0, False
        while i < len(text) and time.monotonic() < stop:
            candidate = text[:i] + text[i + chunk:]
            again = run_one(target, candidate, timeout)
            if again is not None and (again.kind, again.where) == key:
                text, changed = candidate, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return text


def regression_dir() -> Path:
    """Where regression cases live: ``tests/data/fuzz`` of the source checkout."""
    root = repo_root()
    return (root if root is not None else Path.cwd()) / "tests" / "data" / "fuzz"


def write_case(target: str, text: str, finding: Finding, directory: Path) -> Path:
    """Store a minimized finding as a regression case (JSON, surrogates escaped)."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    path = directory / f"{target}-{digest}.json"
    case = {"target": target, "input": text, "finding": f"{finding.kind} at {finding.where}: "
            f"{finding.detail[:200]}"}
    path.write_text(json.dumps(case, indent=1) + "\n", encoding="ascii")
    return path


def replay(path: Path, timeout: float = 20.0) -> Finding | None:
    """Run a stored regression case again; the finding it still causes, or None."""
    case = json.loads(path.read_text("ascii"))
    return run_one(TARGETS[case["target"]], case["input"], timeout)


@dataclass
class Report:
    """What one fuzzing run of one target did."""

    target: str
    inputs: int = 0
    findings: list[tuple[Finding, str, Path | None]] = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        """One line for the terminal."""
        return (f"{self.target}: {self.inputs} inputs in {self.seconds:.0f} s, "
                f"{len(self.findings)} finding(s)")


def _ndjson_seeds(rng: random.Random) -> list[str]:
    from pqltools.fuzz.targets import HOSTILE_PROFILES

    lines = []
    for profile, events in HOSTILE_PROFILES:
        record = dict(profile, events=events)
        lines.append(json.dumps(record, default=str).replace("\\ud800", "\\ud800"))
    for text in json_seeds():
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if isinstance(obj, dict):
            lines.append(json.dumps(obj))
    return ["\n".join(rng.sample(lines, min(3, len(lines)))) for _ in range(20)] + lines


_SEED_CACHE: dict[str, list[str]] = {}


def seeds_for(target: Target, rng: random.Random) -> list[str]:
    """The seed corpus of a target (computed once per process)."""
    kind = target.seeds
    if kind not in _SEED_CACHE:
        if kind == "ndjson":
            _SEED_CACHE[kind] = _ndjson_seeds(rng)
        elif kind == "pql+json":
            _SEED_CACHE[kind] = pql_seeds() + json_seeds()
        else:
            _SEED_CACHE[kind] = pql_seeds()
    return _SEED_CACHE[kind]


def _hypothesis_inputs(rng: random.Random) -> Callable[[], str] | None:
    """A generator of formatted random trees from tests/strategies.py, if available."""
    root = repo_root()
    try:
        from hypothesis import strategies as st  # noqa: F401 - test extra
    except ImportError:
        return None
    if root is None or not (root / "tests" / "strategies.py").exists():
        return None
    sys.path.insert(0, str(root / "tests"))
    try:
        from strategies import exprs
    except ImportError:
        return None
    finally:
        sys.path.remove(str(root / "tests"))
    from hypothesis import HealthCheck, Phase, given, settings

    from pqltools.syntax.printer import format as format_pql

    pool: list[str] = []
    strategy = exprs(3)

    @settings(max_examples=50, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(tree: Any) -> None:
        with suppress(Exception):  # the format target reports these
            pool.append(format_pql(tree))

    def draw() -> str:
        if not pool:
            collect()
            rng.shuffle(pool)
        return pool.pop() if pool else "a = 1"
    return draw


def fuzz(target_name: str, seconds: float, *, seed: int | None = None, timeout: float = 10.0,
         out: Path | None = None, write: bool = True, hypothesis: bool = True,
         log: Callable[[str], None] | None = None) -> Report:
    """Fuzz one target for ``seconds``; findings are minimized and, if ``write``, stored."""
    target = TARGETS[target_name]
    rng = random.Random(seed)
    seeds = seeds_for(target, rng)
    mutator = Mutator(rng, seeds, json_mode=target.seeds in ("ndjson",))
    json_mutator = Mutator(rng, seeds, json_mode=True)
    draw = _hypothesis_inputs(rng) if hypothesis and target.seeds != "ndjson" else None
    report = Report(target_name)
    seen: set[tuple[str, str]] = set()
    start = time.monotonic()
    stop = start + seconds
    while time.monotonic() < stop:
        choice = rng.random()
        if draw is not None and choice < 0.1:
            text = draw()
            if rng.random() < 0.5:
                text = mutator(text)
        else:
            base = rng.choice(seeds)
            text = (json_mutator if base.lstrip()[:1] in "{[" else mutator)(base)
        report.inputs += 1
        finding = run_one(target, text, timeout)
        if finding is None:
            continue
        key = (finding.kind, finding.where)
        if key in seen:
            continue
        seen.add(key)
        small = minimize(target, text, finding, timeout=timeout)
        path = write_case(target_name, small, finding, out or regression_dir()) if write else None
        report.findings.append((finding, small, path))
        if log is not None:
            log(f"{target_name}: {finding.kind} at {finding.where}: {finding.detail[:160]}"
                f"\n  input ({len(small)} chars): {small[:200]!r}"
                + (f"\n  written to {path}" if path else ""))
    report.seconds = time.monotonic() - start
    return report
