"""The VS Code extension's manifest, grammars and packaging files (packaging itself needs npm:
``npm ci && npm run package`` in lsp/vscode, see docs/editors.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

EXTENSION = Path(__file__).parents[2] / "lsp" / "vscode"


def _manifest() -> dict[str, object]:
    manifest: dict[str, object] = json.loads((EXTENSION / "package.json").read_text())
    return manifest


def test_manifest_has_what_packaging_asks_for_without_prompting() -> None:
    manifest = _manifest()
    assert manifest["license"] == "Apache-2.0" and (EXTENSION / "LICENSE").is_file()
    assert manifest["repository"]["url"].startswith("https://")  # type: ignore[index]
    ignored = (EXTENSION / ".vscodeignore").read_text().splitlines()
    assert "**/*.vsix" in ignored
    assert {"node_modules/", "*.vsix"} <= set((EXTENSION / ".gitignore").read_text().split())
    assert "vsce package" in manifest["scripts"]["package"]  # type: ignore[index]


def test_activates_on_json_definition_files_and_offers_a_restart_command() -> None:
    manifest = _manifest()
    events = manifest["activationEvents"]
    assert "onLanguage:json" in events and "onLanguage:pql" in events  # type: ignore[operator]
    commands = [c["command"] for c in manifest["contributes"]["commands"]]  # type: ignore[index]
    assert commands == ["pqltools.restartServer"]
    source = (EXTENSION / "extension.js").read_text()
    assert 'registerCommand("pqltools.restartServer"' in source


def _grammar(name: str) -> dict[str, object]:
    grammar: dict[str, object] = json.loads((EXTENSION / "syntaxes" / name).read_text())
    return grammar


def test_grammars_are_declared_and_exist() -> None:
    grammars = _manifest()["contributes"]["grammars"]  # type: ignore[index]
    for entry in grammars:  # type: ignore[attr-defined]
        grammar = _grammar(Path(entry["path"]).name)
        assert grammar["scopeName"] == entry["scopeName"]
    markdown = _grammar("pql.markdown.tmLanguage.json")
    assert markdown["injectionSelector"] == "L:text.html.markdown"
    assert "source.pql" in json.dumps(markdown["repository"])


def _patterns(node: object) -> list[tuple[str, str]]:
    """Every (scope, regex) of the PQL grammar's match rules."""
    out: list[tuple[str, str]] = []
    if isinstance(node, dict):
        if "match" in node:
            out.append((str(node.get("name", "")), str(node["match"])))
        for value in node.values():
            out.extend(_patterns(value))
    elif isinstance(node, list):
        for value in node:
            out.extend(_patterns(value))
    return out


def test_pql_grammar_colours_the_main_token_kinds() -> None:
    grammar = _grammar("pql.tmLanguage.json")
    order = [p["include"].lstrip("#") for p in  # type: ignore[index]
             grammar["repository"]["expression"]["patterns"]]  # type: ignore[index]
    rules = grammar["repository"]  # type: ignore[assignment]

    def scope_of(word: str, line: str) -> str:
        start = line.index(word)
        for name in order:
            for scope, regex in _patterns(rules[name]):  # type: ignore[index]
                for m in re.finditer(regex, line):
                    if m.start() <= start < m.end():
                        return scope or name
        return ""

    line = 'person.name.startsWith("Jo") and xEvent.timestamp occurs <= 7 days before now -- c'
    assert scope_of("and", line) == "keyword.operator.logical.pql"
    assert scope_of("occurs", line) == "keyword.operator.word.pql"
    assert scope_of("days", line) == "support.constant.time.pql"
    assert scope_of("startsWith", line) == "method"  # captures: entity.name.function.method
    assert rules["string"]["name"] == "string.quoted.double.pql"  # type: ignore[index]
    assert scope_of("-- c", line) == "comment.line.double-dash.pql"
    assert scope_of("7", line) == "constant.numeric.pql"
