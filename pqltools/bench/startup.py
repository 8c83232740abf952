"""``python -m pqltools.bench startup [--runs N]``: how long does a cold ``pql`` take?

Times whole processes, hyperfine-style: each command runs ``--warmup`` times unmeasured (so the
operating system's file cache and Python's bytecode caches are warm, as for a user who runs ``pql``
more than once), then ``--runs`` times, interleaved with the other commands so that a burst of load
on a shared machine hits them alike. Printed: mean ± standard deviation, the minimum, and the
ratio of the means to ``python -c "import lark"`` (the reference: a parser built on Lark cannot
start faster than Lark imports).

Commands: ``python -c pass`` (the interpreter alone), ``import lark``, ``import pqltools``, the
first parse with the parser tables loaded from ``grammar/pql.lark.cache`` and built from the grammar
(what every cold start paid before the cache), ``pql lint one.pql``, ``pql format --check``
and ``pql eval`` on one profile.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pqltools.bench import installed_environment

__all__ = ["main"]

_FIRST_PARSE = "from pqltools.syntax.parser import parse; parse('a = 1')"
_FIRST_PARSE_UNCACHED = (
    "from pqltools.syntax import parser as p; "
    "p._parser = p._build(p.grammar_text(), p._BUILDER); p.parse('a = 1')"
)


def _commands(folder: Path) -> list[tuple[str, list[str]]]:
    one = folder / "one.pql"
    one.write_text('homeAddress.countryCode = "US" and person.age >= 21\n', encoding="utf-8")
    profile = folder / "profiles.ndjson"
    profile.write_text('{"homeAddress": {"countryCode": "US"}, "person": {"age": 30}}\n',
                       encoding="utf-8")
    py = sys.executable
    pql = [py, "-m", "pqltools"]
    return [
        ('python -c "pass"', [py, "-c", "pass"]),
        ('python -c "import lark"', [py, "-c", "import lark"]),
        ('python -c "import pqltools"', [py, "-c", "import pqltools"]),
        ("first parse (cached tables)", [py, "-c", _FIRST_PARSE]),
        ("first parse (tables built)", [py, "-c", _FIRST_PARSE_UNCACHED]),
        ("pql lint one.pql", [*pql, "lint", str(one)]),
        ("pql format --check one.pql", [*pql, "format", "--check", str(one)]),
        ("pql eval (1 profile)", [*pql, "eval", "-e", 'homeAddress.countryCode = "US"',
                                  str(profile)]),
    ]


def _run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def main(argv: list[str]) -> int:
    """Time each command and print a table; 1 if a command fails."""
    parser = argparse.ArgumentParser(prog="python -m pqltools.bench startup",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=20, help="measured runs per command (20)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured runs first (2)")
    args = parser.parse_args(argv)
    env = installed_environment()
    with tempfile.TemporaryDirectory() as tmp:
        commands = _commands(Path(tmp))
        times: dict[str, list[float]] = {label: [] for label, _ in commands}
        try:
            for _ in range(args.warmup):
                for _, command in commands:
                    _run(command, env)
            for _ in range(args.runs):
                for label, command in commands:
                    times[label].append(_run(command, env))
        except RuntimeError as exc:
            print(exc, file=sys.stderr)
            return 1
    reference = statistics.fmean(times['python -c "import lark"'])
    print(f"python {sys.version.split()[0]}, {args.runs} runs each after {args.warmup} warm-up "
          f"runs, {os.cpu_count()} cores")
    print(f"  {'command':<30} {'mean':>9} {'± sd':>8} {'min':>9}  vs import lark")
    for label, samples in times.items():
        mean = statistics.fmean(samples)
        sd = statistics.stdev(samples) if len(samples) > 1 else 0.0
        print(f"  {label:<30} {mean * 1000:7.1f}ms {sd * 1000:6.1f}ms {min(samples) * 1000:7.1f}ms"
              f"  {mean / reference:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
