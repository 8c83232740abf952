"""Tests without a pytest-lsp session: position mapping, options, the TCP transport."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pqltools_lsp.documents import Snapshot
from pqltools_lsp.positions import LineIndex
from pqltools_lsp.settings import ServerOptions

from pqltools.definitions import load_definitions


def test_utf16_positions_count_astral_characters_twice() -> None:
    text = 'a = "😋"\nb = 1'
    index = LineIndex(text)
    closing_quote = text.index('"', 5)
    assert index.position(closing_quote) == types.Position(line=0, character=7)
    assert index.offset(types.Position(line=0, character=7)) == closing_quote
    # the middle of the surrogate pair clamps to before the emoji
    assert index.offset(types.Position(line=0, character=6)) == closing_quote - 1
    assert LineIndex(text, "utf-8").position(closing_quote) == types.Position(line=0,
                                                                              character=9)


def test_out_of_range_positions_are_clamped() -> None:
    index = LineIndex("ab\r\ncd")
    assert index.offset(types.Position(line=0, character=99)) == 2  # before the \r
    assert index.offset(types.Position(line=7, character=0)) == 6
    assert index.position(-5) == types.Position(line=0, character=0)
    assert index.position(99) == types.Position(line=1, character=2)


def test_expression_offset_inverts_file_offset_through_escapes() -> None:
    expression = 'name = "say \\"hi\\"" and x = "é"'
    text = json.dumps({"name": "n", "expression": {"type": "PQL", "format": "pql/text",
                                                   "value": expression}})
    (definition,) = load_definitions("d.json", text=text)
    assert definition.expression == expression
    for offset in range(len(expression) + 1):
        assert definition.expression_offset(definition.file_offset(offset)) == offset
    value_start = text.index('"name = ')
    assert definition.expression_offset(value_start) is None  # the opening quote
    assert definition.expression_offset(0) is None


def test_snapshot_maps_json_regions_and_ignores_other_json() -> None:
    text = json.dumps([{"name": "a", "expression": {"type": "PQL", "format": "pql/text",
                                                     "value": "x = 1"}}])
    snap = Snapshot.build("file:///w/defs.json", text)
    (region,) = snap.regions
    start = text.index("x = 1")
    assert snap.region_at(start + 2) == (region, 2)
    assert region.extent == (start, start + 5)
    assert Snapshot.build("file:///w/package.json", '{"name": "x"}').regions == []


def test_vscode_extension_settings_are_the_server_options() -> None:
    manifest = json.loads((Path(__file__).parents[2] / "lsp" / "vscode" / "package.json")
                          .read_text())
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["pqltools.server.command"]["default"] == ["pql", "lsp"]
    options = ServerOptions.from_client({"pqltools": {
        "debounceMs": settings["pqltools.debounceMs"]["default"],
        "eligibility": settings["pqltools.eligibility"]["default"]}})
    assert options == ServerOptions()
    assert ServerOptions.from_client({"debounceMs": -3, "eligibility": "no"}) == ServerOptions()


def test_tcp_mode_answers_initialize(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "pqltools", "lsp", "--tcp",
                               f"127.0.0.1:{port}"], stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the server never listened")
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"processId": None, "capabilities": {
                               "textDocument": {"rename": {"prepareSupport": True}}}}}).encode()
        with conn:
            conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            data = b""
            while b'"result"' not in data or not data.rstrip().endswith(b"}"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert reply["result"]["serverInfo"]["name"] == "pqltools"
        assert reply["result"]["capabilities"]["renameProvider"] == {"prepareProvider": True}
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize(("existing", "expected"), [
    ({}, {"noqa": ["PQL102"]}),
    ({"pqltools": {"noqa": ["PQL999"]}}, {"noqa": ["PQL999", "PQL102"]}),
    ({"pqltools": {"noqa": []}}, {"noqa": ["PQL102"]}),
    ({"pqltools": {"other": 1}}, {"noqa": ["PQL102"], "other": 1}),
])
def test_json_noqa_action_extends_what_is_there(existing: dict[str, object],
                                                expected: dict[str, object]) -> None:
    from pqltools_lsp.actions import code_actions
    from pqltools_lsp.diagnostics import analyse
    from pqltools_lsp.settings import ConfigStore

    definition = {"name": "n", **existing, "expression": {
        "type": "PQL", "format": "pql/text", "value": 'x.startwith("a")'}}
    text = json.dumps(definition)
    snap = Snapshot.build("file:///w/a.json", text)
    everything = types.Range(start=types.Position(line=0, character=0),
                             end=types.Position(line=0, character=len(text)))
    actions = code_actions(snap, analyse(snap, ConfigStore().for_path(None)), everything)
    assert actions[-1].title == "Suppress PQL102 with noqa"
    (edit,) = actions[-1].edit.changes["file:///w/a.json"]  # type: ignore[union-attr]
    at = edit.range.start.character
    assert json.loads(text[:at] + edit.new_text + text[at:])["pqltools"] == expected


def _lsp_exchange(messages: list[dict[str, object]], expect: int) -> list[dict[str, object]]:
    """Send raw JSON-RPC messages to a ``pql lsp`` subprocess; the first ``expect`` replies."""
    server = subprocess.Popen([sys.executable, "-m", "pqltools", "lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert server.stdin is not None and server.stdout is not None
    try:
        for message in messages:
            body = json.dumps(message).encode()
            server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        server.stdin.flush()
        replies: list[dict[str, object]] = []
        while len(replies) < expect:
            length = 0
            while (line := server.stdout.readline().strip()):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reply = json.loads(server.stdout.read(length))
            if "id" in reply and "method" not in reply:
                replies.append(reply)
        return replies
    finally:
        server.kill()
        server.wait(10)


def test_requests_before_initialize_are_refused_as_not_initialized() -> None:
    hover = {"jsonrpc": "2.0", "id": 1, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///nowhere/a.pql"}, "position": {"line": 0,
                                                                        "character": 0}}}
    opened = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///nowhere/a.pql", "languageId": "pql", "version": 1, "text": "a = "}}}
    init = {"jsonrpc": "2.0", "id": 2, "method": "initialize",
            "params": {"processId": None, "capabilities": {}}}
    first, second = _lsp_exchange([hover, opened, init], expect=2)
    assert first["id"] == 1
    assert first["error"]["code"] == -32002  # type: ignore[index]
    assert "not initialized" in first["error"]["message"]  # type: ignore[index]
    assert "Traceback" not in first["error"]["message"]  # type: ignore[index]
    assert second["id"] == 2 and "result" in second


def test_code_actions_on_a_huge_one_line_document_do_linear_work(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """1 MB on one line with non-ASCII text and thousands of findings: each position used to
    count code units from the start of the line (54 s for one code action request)."""
    from pqltools_lsp import positions
    from pqltools_lsp.actions import code_actions

    from pqltools.errors import Diagnostic, Severity, Span

    clause = 'x = "é" and '
    text = clause * (1_000_000 // len(clause)) + "y = 1"
    snap = Snapshot.build("file:///w/huge.pql", text)
    (region,) = snap.regions
    findings = [(region, Diagnostic("PQL120", "finding", Severity.WARNING,
                                    Span.from_offsets(text, i, i + 1)))
                for i in range(0, len(text) - 10, len(text) // 3000)]
    counted = 0
    budget = 3 * len(text)
    original = positions._units

    def counting(chunk: str, encoding: str) -> list[int]:
        nonlocal counted
        counted += len(chunk)
        if counted > budget:
            raise AssertionError(f"{counted} characters counted for a {len(text)}-character "
                                 "document")
        return original(chunk, encoding)

    monkeypatch.setattr(positions, "_units", counting)
    everything = types.Range(start=types.Position(line=0, character=0),
                             end=types.Position(line=1, character=0))
    actions = code_actions(snap, findings, everything)
    assert len(actions) == len(findings)  # one "noqa" action each
    assert counted <= budget


def _regions_shape(snap: Snapshot) -> list[object]:
    out: list[object] = []
    for region in snap.regions:
        d = region.definition
        assert d is not None
        out.append((region.text, d.expression, d.value_span, d.raw, d.name, d.index,
                    [d.file_offset(i) for i in range(len(d.expression) + 1)]))
    return out


@pytest.mark.parametrize(("old", "new"), [
    ("a = 1", "a = 12"), ("a = 12", "a = 1"), ("a = 1", "a ="), ('b.c = "x"', 'b.c = "xy"'),
    ("a = 1", 'a = "q"'), ("a = 1", "a = 1\\"), ("x = é", "x = é and y"),
    ("a = 1", "a = 1\n"),
])
@pytest.mark.parametrize("indent", [2, None])
@pytest.mark.parametrize("ascii_only", [True, False])
def test_json_edit_inside_one_expression_reuses_the_others(old: str, new: str,
                                                           indent: int | None,
                                                           ascii_only: bool) -> None:
    """The snapshot built from the previous one equals the one built from scratch."""
    def text(value: str) -> str:
        defs = [{"name": f"d{i}", "expression": {"type": "PQL", "format": "pql/text",
                                                  "value": value if i == 1 else "z = 0"}}
                for i in range(4)]
        return json.dumps(defs, indent=indent, ensure_ascii=ascii_only)

    before, after = text(old), text(new)
    previous = Snapshot.build("file:///w/d.json", before)
    assert previous.json_spans  # computed, so that it is moved too
    fresh = Snapshot.build("file:///w/d.json", after)
    reused = Snapshot.build("file:///w/d.json", after, previous=previous)
    assert _regions_shape(reused) == _regions_shape(fresh)
    assert reused.json_spans == fresh.json_spans
    from pqltools_lsp.documents import _edited_in_place

    in_place = _edited_in_place(previous, after, None) is not None
    assert in_place == (not any(c in old + new for c in '"\\\n') or old.startswith("b.c"))
