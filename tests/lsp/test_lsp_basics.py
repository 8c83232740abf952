"""Diagnostics over a real stdio connection: .pql files, JSON definitions, configuration."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from lsp_helpers import Docs, pos, published
from lsprotocol import types
from pytest_lsp import LanguageClient

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_syntax_error_is_published_on_open(docs: Docs) -> None:
    diags = await docs.open("broken.pql", 'homeAddress.countryCode = \n  and x = 1\n')
    assert [(d.code, d.severity, d.range.start.line) for d in diags] == [
        ("PQL001", types.DiagnosticSeverity.Error, 1)]
    assert diags[0].source == "pqltools"
    assert diags[0].range.start.character == 2


async def test_incremental_change_that_fixes_the_text_clears_diagnostics(docs: Docs) -> None:
    assert len(await docs.open("fixme.pql", "a = ")) == 1
    diags = await docs.change("fixme.pql", [types.TextDocumentContentChangePartial(
        range=types.Range(start=pos(0, 4), end=pos(0, 4)), text="1")])
    assert diags == []


async def test_lint_findings_carry_codes_and_help(docs: Docs) -> None:
    diags = await docs.open("typo.pql", 'person.name.startwith("Jo")')
    (diag,) = diags
    assert diag.code == "PQL102"
    assert "did you mean `startsWith`" in diag.message
    assert (diag.range.start.character, diag.range.end.character) == (12, 21)


def _definition(value: str, **extra: object) -> dict[str, object]:
    return {"name": "d", **extra,
            "expression": {"type": "PQL", "format": "pql/text", "value": value}}


async def test_json_definition_positions_map_through_escaped_quotes(docs: Docs) -> None:
    text = json.dumps([_definition('a = "x"'),
                       _definition('name = "say \\"hi\\"" and x.startwith("é")')], indent=2)
    diags = await docs.open("defs.json", text)
    (diag,) = diags
    line = text.splitlines()[diag.range.start.line]
    assert line[diag.range.start.character:diag.range.end.character] == "startwith"


async def test_json_syntax_error_points_into_the_file(docs: Docs) -> None:
    diags = await docs.open("bad.json", '{"expression": {"value": "a = 1",}}')
    (diag,) = diags
    assert diag.code == "PQL090"
    assert "not valid JSON" in diag.message
    assert diag.range.start == pos(0, 33)


async def test_other_json_files_are_left_alone(docs: Docs) -> None:
    assert await docs.open("package.json", '{"name": "x", "version": 1}') == []


async def test_configuration_is_read_and_reloaded_when_it_changes(
        docs: Docs, client: LanguageClient, workspace: Path) -> None:
    sub = workspace / "team"
    sub.mkdir()
    config = sub / "pqltools.toml"
    config.write_text('ignore = ["PQL102"]\n')
    assert await docs.open("team/q.pql", 'x.startwith("a")') == []
    config.write_text("ignore = []\n")
    stamp = config.stat().st_mtime + 5  # a visible change even on coarse-mtime filesystems
    os.utime(config, (stamp, stamp))
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]))
    diags = await docs.replace("team/q.pql", 'x.startwith("b")')
    assert [d.code for d in diags] == ["PQL102"]


async def test_bad_configuration_is_reported_in_the_document(
        docs: Docs, workspace: Path) -> None:
    sub = workspace / "broken-config"
    sub.mkdir()
    (sub / "pqltools.toml").write_text('select = 5\n')
    diags = await docs.open("broken-config/q.pql", "a = 1")
    (diag,) = diags
    assert diag.code == "PQL091"
    assert "pqltools.toml:1:1" in diag.message and "using defaults" in diag.message


async def test_config_watchers_are_registered(client: LanguageClient) -> None:
    methods = [r.method for r in client.registrations]  # type: ignore[attr-defined]
    assert methods == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]


async def test_closing_clears_diagnostics(docs: Docs, client: LanguageClient) -> None:
    assert len(await docs.open("closing.pql", "a = ")) == 1
    docs.close("closing.pql")
    assert await asyncio.wait_for(published(client, docs.uri("closing.pql"), None), 10) == []


async def test_debounce_is_configurable_at_runtime(docs: Docs, client: LanguageClient) -> None:
    await docs.open("slow.pql", "a = 1")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"pqltools": {"debounceMs": 400}}))
    try:
        started = time.perf_counter()
        diags = await docs.replace("slow.pql", "a = ")
        assert time.perf_counter() - started >= 0.38
        assert [d.code for d in diags] == ["PQL001"]
    finally:
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"pqltools": {"debounceMs": 20}}))



@pytest.mark.parametrize("ascii_only", [True, False])
async def test_astral_characters_before_a_finding(docs: Docs, ascii_only: bool) -> None:
    value = 'a = "😋" and x.startwith("é")'
    text = json.dumps(_definition(value), ensure_ascii=ascii_only)
    diags = await docs.open(f"emoji-{ascii_only}.json", text)
    (diag,) = diags
    start = text.index("startwith")
    units = start + (0 if ascii_only else 1)  # a raw emoji is two UTF-16 code units
    assert (diag.range.start.character, diag.range.end.character) == (units, units + 9)
