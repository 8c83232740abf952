"""``python -m pqltools.syntax.build_parser_cache``: rebuild ``grammar/pql.lark.cache``.

Run it after every change to ``grammar/pql.lark`` (a test fails until you do). The cache holds
Lark's LALR tables for the grammar, so that a cold ``pql`` does not spend most of its start-up
building them; a stale or unreadable cache is ignored and the tables are built from the grammar.
"""

from __future__ import annotations

import sys

from pqltools.syntax.parser import write_parser_cache


def main(argv: list[str]) -> int:
    """Write the cache next to the grammar (or to ``argv[0]``); print where."""
    from pathlib import Path

    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m pqltools.syntax.build_parser_cache [PATH]", file=sys.stderr)
        return 2
    print(f"wrote {write_parser_cache(Path(argv[0]) if argv else None)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
