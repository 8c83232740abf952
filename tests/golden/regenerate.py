"""Regenerate the golden files of ``pql lint`` output: ``python tests/golden/regenerate.py``.

Never edit ``lint.*.txt`` by hand: change the code, run this script, review the diff. Each
golden file is the output of ``pql lint`` over ``tests/golden/cases/`` (run from inside that
directory, so paths are relative) in one format; ``tests/test_render_golden.py`` runs the same
function and compares.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from click.testing import CliRunner

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"

#: golden name -> extra ``pql lint`` arguments.
VARIANTS: dict[str, list[str]] = {
    "text": ["--format", "text", "--color", "never"],
    "text-color": ["--format", "text", "--color", "always"],
    "concise": ["--format", "concise"],
    "github": ["--format", "github"],
    "json": ["--format", "json"],
    "sarif": ["--format", "sarif"],
    "statistics": ["--statistics"],
}


def golden_path(name: str) -> Path:
    """Where the golden output of variant ``name`` lives."""
    return HERE / f"lint.{name}.txt"


def run_variant(name: str) -> tuple[int, str]:
    """``pql lint <args> .`` inside ``cases/``: (exit code, standard output)."""
    from pqltools.cli import main

    previous = Path.cwd()
    os.chdir(CASES)
    try:
        result = CliRunner().invoke(main, ["lint", *VARIANTS[name], "--jobs", "1", "."])
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def main() -> int:
    """Rewrite every golden file; print which ones changed."""
    for name in VARIANTS:
        _, output = run_variant(name)
        path = golden_path(name)
        old = path.read_text("utf-8") if path.exists() else None
        path.write_text(output, "utf-8")
        print(f"{'unchanged' if old == output else 'updated  '} {path.relative_to(HERE)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[1]))
    sys.exit(main())
