"""Answer ``initialize`` at once, while pygls and lsprotocol are still being imported.

Importing lsprotocol's types takes about a quarter of a second and pygls needs them, so a server
that imports pygls first answers ``initialize`` half a second after it starts. Instead, on stdio:

1. a thread imports :mod:`pqltools_lsp.server` (pygls, lsprotocol, the features);
2. meanwhile the main thread reads the first message; when it is ``initialize`` it answers with
   the capabilities recorded in ``capabilities.json`` (what pygls computes for this server,
   adjusted to the client the way pygls adjusts it: the position encoding and whether rename
   has a prepare step);
3. once the import is done the ``initialize`` message is handed to pygls as the first message
   of its input, so its state (workspace, client capabilities, options) is set up as usual; its
   own answer to that message is not sent again.

``tests/lsp/test_lsp_startup.py`` checks that the recorded capabilities equal pygls' for
several clients; ``python -m pqltools_lsp.startup`` rewrites the file after a feature is added.
Any other first message (or TCP mode) takes the ordinary path.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["GC_THRESHOLDS", "capabilities_for", "read_message", "serve_stdio", "tune_gc"]

_RECORDED = Path(__file__).with_name("capabilities.json")
_ENCODINGS = ("utf-8", "utf-16", "utf-32")


def read_message(stream: BinaryIO) -> tuple[bytes, dict[str, Any] | None]:
    """The raw bytes of the next JSON-RPC message and its decoded body (None when unreadable
    or at the end of the input)."""
    raw = b""
    length = None
    while True:
        line = stream.readline()
        raw += line
        if not line:
            return raw, None
        if not line.strip():
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length" and value.strip().isdigit():
            length = int(value.strip())
    if length is None:
        return raw, None
    body = stream.read(length)
    raw += body
    try:
        decoded = json.loads(body)
    except ValueError:
        return raw, None
    return raw, decoded if isinstance(decoded, dict) else None


def capabilities_for(client: Any) -> dict[str, Any]:
    """The server capabilities pygls would announce to a client with these capabilities."""
    capabilities: dict[str, Any] = json.loads(_RECORDED.read_text("utf-8"))
    client = client if isinstance(client, dict) else {}
    general = client.get("general") if isinstance(client.get("general"), dict) else {}
    encodings = general.get("positionEncodings") if isinstance(general, dict) else None
    chosen = "utf-16"
    if isinstance(encodings, list):
        chosen = next((e for e in encodings if e in _ENCODINGS), "utf-16")
    capabilities["positionEncoding"] = chosen
    document = client.get("textDocument")
    rename = document.get("rename") if isinstance(document, dict) else None
    prepare = isinstance(rename, dict) and rename.get("prepareSupport") is True
    capabilities["renameProvider"] = {"prepareProvider": True} if prepare else True
    # pygls answers `false` for the will-save notifications a client declares (the server
    # registers neither) and leaves them out otherwise
    sync = document.get("synchronization") if isinstance(document, dict) else None
    for key in ("willSave", "willSaveWaitUntil"):
        if isinstance(sync, dict) and sync.get(key) is not None:
            capabilities["textDocumentSync"][key] = False
    return capabilities


class _Replay(io.RawIOBase):
    """The recorded first message, then the rest of the real input."""

    def __init__(self, first: bytes, rest: BinaryIO) -> None:
        super().__init__()
        self._first = io.BytesIO(first)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> bytes:
        line = self._first.readline()
        return line if line else self._rest.readline()

    def read(self, size: int | None = -1) -> bytes:
        data = self._first.read(size)
        if size is None or size < 0:
            return data + self._rest.read()
        if len(data) < size:
            data += self._rest.read(size - len(data))
        return data


def serve_stdio() -> None:
    """Run the server on stdio, answering ``initialize`` before pygls is imported."""
    loaded: dict[str, Any] = {}

    def load() -> None:
        try:
            from pqltools_lsp import server

            loaded["server"] = server
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            loaded["error"] = exc

    importer = threading.Thread(target=load, name="pqltools-import", daemon=True)
    importer.start()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    raw, message = read_message(stdin)
    answered = None
    if message is not None and message.get("method") == "initialize" and "id" in message:
        from pqltools import __version__

        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        result = {"capabilities": capabilities_for(params.get("capabilities")),
                  "serverInfo": {"name": "pqltools", "version": __version__}}
        body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result},
                          separators=(",", ":")).encode("utf-8")
        stdout.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        stdout.flush()
        answered = message["id"]
    importer.join()
    if "error" in loaded:
        raise loaded["error"]
    server = loaded["server"].create_server()
    server.protocol.already_answered = answered
    tune_gc()
    server.start_io(stdin=_Replay(raw, stdin), stdout=stdout)


#: Allocations between two collections of the youngest generation (Python's default: 700).
GC_THRESHOLDS = (10_000, 50, 100)


def tune_gc() -> None:
    """Keep the garbage collector out of the way of requests.

    Everything loaded at start-up (modules, the grammar's tables, the function catalog) lives
    as long as the server: frozen, the collector never scans it again. An edit of a long
    document allocates tens of thousands of objects (moved spans, tokens, findings) that are
    almost all freed by reference counting; with the default thresholds the collector runs
    dozens of times per edit and the older generations, which hold the memoised parses,
    every few edits, for pauses of tens of milliseconds. Collecting the youngest generation
    every 10,000 allocations (and the older ones 50 and 100 times less often) keeps the pauses
    to a few milliseconds, a few times a minute of typing.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _record() -> None:
    """Write what pygls announces for this server (with a client without capabilities)."""
    from pqltools_lsp.server import announced_capabilities

    _RECORDED.write_text(json.dumps(announced_capabilities({}), indent=1, sort_keys=True)
                         + "\n", "utf-8")


if __name__ == "__main__":
    _record()
