"""A compact, span-free s-expression of a syntax tree, for golden tree-shape tests.

Regenerate the golden file of the reference examples with
``python tests/shapes.py > tests/golden/reference_shapes.txt`` and review the diff; never edit
the golden file by hand.
"""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

import yaml

from pqltools import parse
from pqltools.syntax.ast import Node

EXAMPLES = Path(__file__).resolve().parent / "data" / "reference_examples.yaml"


def shape(node: object) -> str:
    """``(Compare = (Attribute (Name a) b) (Number 1))``-style rendering of ``node``."""
    if isinstance(node, tuple):
        return "[" + " ".join(shape(x) for x in node) + "]"
    if not isinstance(node, Node):
        return repr(node) if isinstance(node, str) else str(node)
    parts = [type(node).__name__]
    for f in fields(node):
        if f.name == "span":
            continue
        value = getattr(node, f.name)
        if value is None:
            continue
        parts.append(shape(value))
    return "(" + " ".join(parts) + ")"


def examples() -> list[dict[str, object]]:
    """The reference examples (id, section, text, error flag)."""
    return list(yaml.safe_load(EXAMPLES.read_text("utf-8")))


def golden_lines() -> list[str]:
    """One ``id: shape`` line per valid example, in file order."""
    return [f"{ex['id']}: {shape(parse(str(ex['text'])))}" for ex in examples()
            if not ex.get("error")]


if __name__ == "__main__":
    sys.stdout.write("\n".join(golden_lines()) + "\n")
