"""One name resolver: the compiler, the linter and the language server agree on every name.

docs/semantics.md "Names": a name equal to a variable in scope is that variable, even inside an
element scope; ``this.X`` reads an element field named like a variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pqltools_lsp.variables import Variables

import pqltools
from pqltools.analysis.scope import NameKind, resolve
from pqltools.runtime import compiler
from pqltools.syntax import ast
from pqltools.syntax.parser import parse

ISSUE = "exists X from xs where orders[X = 5].count() > 0"
PROFILE = {"xs": [1], "orders": [{"X": 5}]}


def test_a_variable_beats_an_element_field_of_the_same_name() -> None:
    assert pqltools.evaluate(ISSUE, PROFILE) is False  # X is 1, the variable
    assert pqltools.evaluate(ISSUE, {"xs": [5], "orders": [{"X": 1}]}) is True


def test_this_reads_the_element_field_named_like_a_variable() -> None:
    text = "exists X from xs where orders[this.X = 5].count() > 0"
    assert pqltools.evaluate(text, PROFILE) is True
    assert pqltools.evaluate(text, {"xs": [1], "orders": [{"X": 1}]}) is False


def test_linter_and_language_server_see_the_variable_the_compiler_reads() -> None:
    tree = parse(ISSUE)
    scopes = resolve(tree, ISSUE)
    inner = [n for n in tree.walk() if isinstance(n, ast.Name) and n.id == "X"]
    assert len(inner) == 1
    res = scopes.resolution(inner[0])
    assert res.kind is NameKind.VARIABLE and res.binder is scopes.binders[0]
    var = Variables.of(tree, ISSUE).at(ISSUE.index("X = 5"))
    assert var is not None and var.declaration == (7, 8)
    assert var.references == [(ISSUE.index("X = 5"), ISSUE.index("X = 5") + 1)]
    # the variable is used, so the linter reports nothing about it
    assert [d.code for d in pqltools.lint(ISSUE)] == []


def test_a_chain_label_is_a_variable_of_the_later_steps_only() -> None:
    text = ('chain(xEvent, timestamp, [A: WHAT(eventType = "v" and A = 1), '
            'B: WHAT(sku = A.sku)])')
    tree = parse(text)
    scopes = resolve(tree, text)
    kinds = {n.span.start: scopes.resolution(n).kind for n in tree.walk()
             if isinstance(n, ast.Name) and n.id == "A"}
    same_step, later_step = sorted(kinds)
    assert kinds[same_step] is NameKind.ELEMENT_FIELD
    assert kinds[later_step] is NameKind.VARIABLE
    events = [{"timestamp": 1, "eventType": "v", "A": 1, "sku": "s"},
              {"timestamp": 2, "sku": "s"}]
    assert pqltools.evaluate(text, {}, events=events, now=10) is True
    events[1]["sku"] = "t"
    assert pqltools.evaluate(text, {}, events=events, now=10) is False


def _conformance_expressions() -> list[str]:
    import yaml

    texts = []
    for path in sorted((Path(__file__).parent / "conformance").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text("utf-8"))["cases"]:
            if "error" not in case:
                texts.append(case["expr"])
    return texts


def test_compiler_element_depth_is_the_resolvers_for_every_name(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiler reads the kind from the resolver and the element from its own stack:
    over every conformance expression the two agree, name by name."""
    seen: list[tuple[ast.Name, int, Any]] = []
    original = compiler._Compiler.visit_Name

    def spy(self: Any, node: ast.Name) -> Any:
        seen.append((node, self.depth, self.scopes.resolution(node)))
        return original(self, node)

    monkeypatch.setattr(compiler._Compiler, "visit_Name", spy)
    monkeypatch.setattr(compiler._Compiler, "_dispatch_cache", {})  # methods are cached
    checked = 0
    for text in _conformance_expressions():
        seen.clear()
        compiler.compile(text)
        for node, depth, res in seen:
            if res.kind is NameKind.ELEMENT_FIELD:
                assert res.element is not None and res.element.depth == depth, (text, node)
                checked += 1
            elif res.kind is NameKind.PROFILE_FIELD:
                assert depth == 0, (text, node)
    assert checked > 50
