"""Regenerate what the engine tests compare against: ``python tests/engines/regen.py``.

* the refusals table of docs/engines.md (between the REFUSALS markers): every conformance case
  an engine refuses, with the construct it names;
* golden SQL snapshots per dialect (tests/engines/golden/*.sql), so that a sqlglot upgrade that
  changes the generated SQL shows up as a diff.

Never edit those by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

DOC = HERE.parents[1] / "docs" / "engines.md"
BEGIN, END = "<!-- REFUSALS BEGIN (tests/engines/regen.py) -->", "<!-- REFUSALS END -->"


def refusals_table() -> str:
    from harness import run_duckdb
    from test_conformance import CASES
    lines = ["| case | what the engines refuse |", "| --- | --- |"]
    for case in CASES:
        outcome = run_duckdb(case)
        if outcome[0] == "refused":
            message = outcome[1].message.replace("the duckdb engine cannot compile ", "")
            message = message.replace("|", "\\|")
            lines.append(f"| `{case['section']}:{case['id']}` | {message} |")
    return "\n".join(lines)


def write_refusals() -> None:
    text = DOC.read_text("utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{refusals_table()}\n{END}{tail}", "utf-8")


def write_golden() -> None:
    from golden_cases import GOLDEN, render
    out = HERE / "golden"
    out.mkdir(exist_ok=True)
    for dialect in ("duckdb", "spark"):
        (out / f"{dialect}.sql").write_text(render(dialect), "utf-8")
    assert GOLDEN


if __name__ == "__main__":
    write_refusals()
    if (HERE / "golden_cases.py").exists():
        write_golden()
