"""``python -m pqltools.fuzz TARGET... --time SECONDS``: see :mod:`pqltools.fuzz`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pqltools.fuzz import fuzz
from pqltools.fuzz.targets import TARGETS


def main(argv: list[str] | None = None) -> int:
    """Fuzz the named targets (``all`` for every one), each for ``--time`` seconds."""
    parser = argparse.ArgumentParser(
        prog="python -m pqltools.fuzz",
        description="Fuzz pqltools: mutated and generated inputs against the contract "
                    "(only PQLError escapes the library; the CLI never prints a traceback).")
    parser.add_argument("targets", nargs="+", metavar="TARGET",
                        help=f"one of {', '.join(TARGETS)}, or all")
    parser.add_argument("--time", type=float, default=60.0,
                        help="seconds per target (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds one input may take before it is a finding (default 10)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write regression cases (default tests/data/fuzz)")
    parser.add_argument("--no-write", action="store_true", help="report findings only")
    parser.add_argument("--no-hypothesis", action="store_true",
                        help="mutation only (no Hypothesis-generated trees)")
    args = parser.parse_args(argv)
    names = list(TARGETS) if args.targets == ["all"] else args.targets
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)} or all")
    total = 0
    for name in names:
        report = fuzz(name, args.time, seed=args.seed, timeout=args.timeout, out=args.out,
                      write=not args.no_write, hypothesis=not args.no_hypothesis,
                      log=lambda message: print(message, flush=True))
        print(report.line(), flush=True)
        total += len(report.findings)
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
