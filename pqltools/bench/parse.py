"""``python -m pqltools.bench parse``: parses per second, against Lark's own parse.

For three typical expressions (short, about 40 tokens, about 400 tokens) it times
``pqltools.parse`` (Lark LALR + our AST built inline, spans, depth check) and Lark's bare LALR
parse of the same text with the same grammar into a Lark tree (the floor for a Lark-based parser),
and prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import lark

from pqltools.syntax.parser import grammar_text, parse

SHORT = 'homeAddress.countryCode = "US"'
MEDIUM = (
    'homeAddress.countryCode = "US" and person.age >= 21 and '
    'xEvent[eventType = "commerce.purchases" and timestamp occurs < 30 days before now]'
    '.count() >= 2 and not (loyalty.tier in ["gold", "platinum"])'
)


def _long() -> str:
    parts = []
    for i in range(10):
        parts.append(
            f'(person.name.firstName.startsWith("J{i}", false) or homeAddress.city = "C{i}") '
            f'and chain(xEvent, timestamp, [C{i}: WHAT(eventType = "e{i}") WHEN(today)])'
        )
    return " and ".join(parts)


LONG = _long()


def _rate(fn: Callable[[str], object], text: str, seconds: float) -> float:
    """Calls per second of ``fn(text)`` over about ``seconds``."""
    fn(text)
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(10):
            fn(text)
        n += 10
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start)


def _best_rates(a: Callable[[str], object], b: Callable[[str], object], text: str,
                seconds: float, rounds: int) -> tuple[float, float]:
    """Best rate of each over interleaved rounds, so that load on the machine hits both alike."""
    best_a = best_b = 0.0
    for _ in range(rounds):
        best_a = max(best_a, _rate(a, text, seconds / rounds))
        best_b = max(best_b, _rate(b, text, seconds / rounds))
    return best_a, best_b


def count_tokens(counter: lark.Lark, text: str) -> int:
    """Number of tokens in ``text`` as the grammar lexes it (``counter`` keeps all tokens)."""
    tree = counter.parse(text)
    return sum(1 for _ in tree.scan_values(lambda v: isinstance(v, lark.Token)))


def main(argv: list[str] | None = None) -> int:
    """Print parses per second for pqltools and bare Lark, side by side."""
    ap = argparse.ArgumentParser(prog="python -m pqltools.bench parse", description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (best is kept)")
    args = ap.parse_args(argv)
    # The floor: the same grammar and options as pqltools' parser, minus our AST builder.
    bare = lark.Lark(grammar_text(), parser="lalr", lexer="contextual", maybe_placeholders=True)
    counter = lark.Lark(grammar_text(), parser="lalr", lexer="contextual", keep_all_tokens=True)
    print(f"{'expression':<10} {'tokens':>6} {'pqltools/s':>12} {'lark tree/s':>12} "
          f"{'ratio':>6} {'us/parse':>9}")
    for label, text in (("short", SHORT), ("medium", MEDIUM), ("long", LONG)):
        ours, floor = _best_rates(parse, bare.parse, text, args.seconds, args.rounds)
        tokens = count_tokens(counter, text)
        print(f"{label:<10} {tokens:>6} {ours:>12.0f} {floor:>12.0f} {floor / ours:>6.2f} "
              f"{1e6 / ours:>9.1f}")
    print("ratio = pqltools time / Lark bare-parse time (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
