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
    """Send ``messages`` to ``pql lsp``; the responses, until every request is answered."""
    env = dict(os.environ, PQLTOOLS_LSP_FAST_START="1" if fast else "0")
    server = subprocess.Popen([sys.executable, "-m", "pqltools", "lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert server.stdin is not None and server.stdout is not None
    try:
        for message in messages:
            body = json.dumps(message).encode()
            server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        server.stdin.flush()
        pending = {m["id"] for m in messages if "id" in m}
        replies: list[dict[str, Any]] = []
        while pending:
            length = 0
            while (line := server.stdout.readline().strip()):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            reply = json.loads(server.stdout.read(length))
            if "id" in reply and "method" not in reply:
                replies.append(reply)
                pending.discard(reply["id"])
        return replies
    finally:
        server.kill()
        server.wait(10)


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
    ]
    fast = _session(messages, fast=True)
    slow = _session(messages, fast=False)
    # initialize answered once, and the session goes on
    assert [r["id"] for r in fast] == [1, 2]
    assert fast[0]["result"]["capabilities"] == slow[0]["result"]["capabilities"]
    assert fast[0]["result"]["serverInfo"] == slow[0]["result"]["serverInfo"]
    hover = next(r for r in fast if r["id"] == 2)
    assert "startsWith" in hover["result"]["contents"]["value"]
