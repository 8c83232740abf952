"""Start-up: ``initialize`` is answered before pygls is imported, with pygls' own answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from lsprotocol import converters
from pqltools_lsp.server import announced_capabilities
from pqltools_lsp.startup import capabilities_for
from pytest_lsp import client_capabilities

CLIENTS = {
    "none": {},
    "vscode": converters.get_converter().unstructure(client_capabilities("visual-studio-code")),
    "neovim": converters.get_converter().unstructure(client_capabilities("neovim")),
    "utf-8 first": {"general": {"positionEncodings": ["utf-8", "utf-16"]}},
    "unknown encodings": {"general": {"positionEncodings": ["utf-7"]}},
    "prepare rename": {"textDocument": {"rename": {"prepareSupport": True}}},
}


@pytest.mark.parametrize("name", list(CLIENTS))
def test_recorded_capabilities_are_what_pygls_announces(name: str) -> None:
    client = CLIENTS[name]
    assert capabilities_for(client) == announced_capabilities(client), (
        "lsp/capabilities.json is out of date: python -m pqltools_lsp.startup rewrites it")


def _session(messages: list[dict[str, Any]], fast: bool) -> list[dict[str, Any]]:
    env = dict(os.environ, PQLTOOLS_LSP_FAST_START="1" if fast else "0")
    data = b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                    for body in (json.dumps(m).encode() for m in messages))
    done = subprocess.run([sys.executable, "-m", "pqltools", "lsp"], input=data,
                          capture_output=True, env=env, timeout=120, check=False)
    replies = []
    rest = done.stdout
    while rest:
        head, _, rest = rest.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        replies.append(json.loads(rest[:length]))
        rest = rest[length:]
    return replies


def test_fast_initialize_answers_once_and_the_session_goes_on() -> None:
    uri = "untitled:fast.pql"
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": None, "capabilities": CLIENTS["vscode"]}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "pql", "version": 1, "text": 'a.startsWith("x")'}}},
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}}},
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    fast = [r for r in _session(messages, fast=True) if "id" in r and "method" not in r]
    slow = [r for r in _session(messages, fast=False) if "id" in r and "method" not in r]
    assert [r["id"] for r in fast] == [1, 2, 3]
    assert fast[0]["result"]["capabilities"] == slow[0]["result"]["capabilities"]
    assert fast[0]["result"]["serverInfo"] == slow[0]["result"]["serverInfo"]
    assert "startsWith" in fast[1]["result"]["contents"]["value"]
