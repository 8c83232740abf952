"""``pql parse``: parse expressions and show the tree (a debugging view)."""

from __future__ import annotations

import sys
from dataclasses import fields

import click

from pqltools.cli.inputs import Source, read_sources
from pqltools.syntax.ast import Node
from pqltools.syntax.parser import ParseOptions, parse_document


def tree_lines(node: Node, indent: int = 0) -> list[str]:
    """An indented, one-node-per-line view of ``node`` with each node's line:column."""
    lines: list[str] = []
    stack: list[tuple[str, Node | object, int]] = [("", node, indent)]
    while stack:
        label, item, depth = stack.pop()
        pad = "  " * depth
        if not isinstance(item, Node):
            lines.append(f"{pad}{label}{item!r}")
            continue
        scalars = []
        kids: list[tuple[str, Node | object]] = []
        for f in fields(item):
            name = f.name
            if name == "span":
                continue
            value = getattr(item, name)
            if isinstance(value, Node):
                kids.append((name, value))
            elif isinstance(value, tuple) and value and isinstance(value[0], Node):
                kids.extend((f"{name}[{i}]", v) for i, v in enumerate(value))
            else:
                scalars.append(f"{name}={value!r}")
        span = item.span
        lines.append(
            f"{pad}{label}{type(item).__name__}({', '.join(scalars)}) @{span.line}:{span.column}"
        )
        for name, kid in reversed(kids):
            stack.append((f"{name}: ", kid, depth + 1))
    return lines


@click.command("parse")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--tree/--no-tree", default=True, show_default=True,
              help="Show the syntax tree (one node per line, with line:column).")
@click.option("-e", "--expression", "as_expression", is_flag=True,
              help="Treat every INPUT as PQL text, even if a file of that name exists.")
def parse_command(inputs: tuple[str, ...], tree: bool, as_expression: bool) -> None:
    """Parse PQL and print its syntax tree.

    INPUTS are .pql files, segment-definition .json files, directories, `-` for standard input,
    or PQL expressions. Exit code 1 when any input has a syntax error, 2 when an input cannot be
    read.
    """
    failed = False
    for source in read_sources(inputs, as_expression=as_expression):
        failed |= _show(source, tree)
    sys.exit(1 if failed else 0)


def _show(source: Source, tree: bool) -> bool:
    result = parse_document(source.text, ParseOptions(comments=source.comments))
    if result.expr is None:
        for d in result.diagnostics:
            click.echo(source.render(d), err=True)
        return True
    click.echo(f"{source.label}: ok")
    if tree:
        click.echo("\n".join(tree_lines(result.expr, 1)))
    return False
