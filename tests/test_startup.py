"""Start-up: commands import only what they need (issue 9)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pqltools.analysis.eligibility import ELIGIBILITY_CODE
from pqltools.analysis.rules.eligibility_rules import RequestedMethodNotEligible


def test_lint_of_a_pql_file_imports_no_eligibility_analyzer(tmp_path: Path) -> None:
    """``pql lint one.pql`` loads only what it needs (start-up time, issue 9)."""
    assert RequestedMethodNotEligible.code == ELIGIBILITY_CODE
    one = tmp_path / "one.pql"
    one.write_text('homeAddress.countryCode = "US"\n', encoding="utf-8")
    script = ("import sys; from pqltools.cli import main\n"
              "try:\n    main(['lint', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m in ('pqltools.analysis.eligibility', "
              "'pqltools.runtime.compiler', 'multiprocessing', 'concurrent.futures', "
              "'tomllib', 'difflib', 'json')))")
    done = subprocess.run([sys.executable, "-c", script, str(one)], capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_evaluator_imports_the_linter_only_to_compile() -> None:
    """``import pqltools.runtime.compiler`` does not load the linter (``pql eval`` start-up)."""
    script = ("import sys, pqltools.runtime.compiler\n"
              "print('pqltools.analysis.lint' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"


def test_the_evaluator_imports_re2_only_for_a_pattern() -> None:
    """RE2 is imported with the first ``matches``/``like`` pattern, not by ``pql eval``'s start."""
    script = ("import sys, pqltools.runtime.compiler as c\n"
              "c.compile('a = 1').evaluate({'a': 1})\n"
              "before = 're2' in sys.modules\n"
              "assert c.compile('a matches \"x+\"').evaluate({'a': 'xx'})\n"
              "print(before, 're2' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip().splitlines()[-1] == "False True"
