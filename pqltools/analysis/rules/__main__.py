"""``python -m pqltools.analysis.rules``: print docs/rules.md generated from the rules."""

from __future__ import annotations

import sys

from pqltools.analysis.rules._docs import rules_markdown

if __name__ == "__main__":
    sys.stdout.write(rules_markdown())
