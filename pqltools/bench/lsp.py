"""``python -m pqltools.bench lsp``: language-server latency, measured from a real client.

Starts ``pql lsp`` as a subprocess, talks to it over stdio with pygls' client, and measures,
on a ``.pql`` document of ``--lines`` lines (500) and a JSON file of ``--definitions``
segment definitions (200), with the server's debounce set to 0 ms so that the figures are the
work itself (parse, lint, mapping, JSON-RPC both ways) and not the deliberate typing delay:

* start-up: from starting the process to the answer to ``initialize`` (median of 5 starts);
* ``didChange`` -> ``publishDiagnostics``: from sending a one-character incremental edit (a
  digit typed into a number in the middle of the document, so every version is new text) to
  receiving the diagnostics *for that version*. Right after each edit the benchmark sends what
  VS Code sends: ``semanticTokens/full`` and ``documentSymbol``, concurrently with the
  analysis, and their round trips are measured too;
* ``hover`` over a keyword and ``completion`` (after ``.`` and after an operand), after each
  edit, once the diagnostics have arrived.

Each figure is the median / 95th percentile / maximum over ``--runs`` edits, after two warm-up
edits. ``--pythonpath DIR`` runs the server from another checkout (``DIR`` on ``PYTHONPATH``),
to compare two versions in one session. pygls is imported only when the benchmark runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from pqltools.bench import installed_environment

__all__ = ["definitions_file", "document", "main"]

_CLAUSES = (
    'homeAddress.countryCode = "US"',
    'person.name.firstName.startsWith("Jo")',
    "person.birthDate.getYear() < 1990",
    'favoriteColors.intersects(["red", "blue"])',
    'workAddress.city in ["Paris", "Lyon"]',
    "_acme.loyalty.points > 1200",
    'xEvent[eventType = "commerce.purchases"].count() > 2',
    "xEvent.timestamp occurs < 8 days before now",
)


def document(lines: int) -> str:
    """A formatted PQL expression of ``lines`` lines."""
    out = []
    for i in range(lines):
        clause = _CLAUSES[i % len(_CLAUSES)]
        out.append(clause if i == 0 else ("  or " if i % 4 == 0 else "  and ") + clause)
    return "\n".join(out) + "\n"


def definitions_file(count: int) -> str:
    """A JSON list of ``count`` segment definitions (2-4 conditions each), indented."""
    defs = []
    for i in range(count):
        clauses = [_CLAUSES[(i + k) % len(_CLAUSES)] for k in range(2 + i % 3)]
        if i % 7 == 0:
            clauses.append("_acme.loyalty.points > 1200")
        defs.append({"name": f"segment {i}", "description": f"benchmark segment {i}",
                     "expression": {"type": "PQL", "format": "pql/text",
                                    "value": " and ".join(clauses)},
                     "evaluationInfo": {"batch": {"enabled": True},
                                        "continuous": {"enabled": i % 2 == 0},
                                        "synchronous": {"enabled": False}}})
    return json.dumps(defs, indent=2) + "\n"


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"median {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
            f"max {ordered[-1] * 1000:7.1f} ms   (n={len(ordered)})")


def _environment(pythonpath: str | None) -> dict[str, str]:
    return installed_environment(pythonpath)


async def _startup(pythonpath: str | None) -> float:
    """Seconds from process start to the ``initialize`` answer (raw JSON-RPC over pipes)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                       "params": {"processId": None, "capabilities": {}}}).encode()
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pqltools", "lsp", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env=_environment(pythonpath))
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    await proc.stdin.drain()
    length = 0
    while (line := (await proc.stdout.readline()).strip()):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await proc.stdout.readexactly(length)
    elapsed = time.perf_counter() - started
    proc.kill()
    await proc.wait()
    return elapsed


class _Session:
    """A pygls client connected to one server, recording diagnostics by (uri, version)."""

    def __init__(self) -> None:
        from lsprotocol import types
        from pygls.lsp.client import LanguageClient

        self.types = types
        self.client = LanguageClient("pqltools-bench", "1")
        self.arrived: dict[tuple[str, int], float] = {}
        self.waiters: dict[tuple[str, int], asyncio.Event] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[misc,untyped-decorator,unused-ignore]
        def published(params: Any) -> None:
            key = (params.uri, params.version or 0)
            self.arrived[key] = time.perf_counter()
            self.waiters.setdefault(key, asyncio.Event()).set()

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)  # type: ignore[misc,untyped-decorator,unused-ignore]
        def register(params: Any) -> None:
            return None

    async def wait(self, uri: str, version: int) -> float:
        key = (uri, version)
        event = self.waiters.setdefault(key, asyncio.Event())
        await asyncio.wait_for(event.wait(), 120)
        return self.arrived[key]


async def _timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def _edits(session: _Session, uri: str, text: str, language: str, runs: int,
                 edit_line: int, edit_column: int, hover_at: tuple[int, int],
                 complete_at: list[tuple[int, int]]) -> dict[str, list[float]]:
    types = session.types
    client = session.client
    ident = types.TextDocumentIdentifier(uri=uri)

    def position(at: tuple[int, int]) -> Any:
        return types.Position(line=at[0], character=at[1])

    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                             text=text)))
    await session.wait(uri, 1)
    samples: dict[str, list[float]] = {}
    for version in range(2, runs + 4):
        column = edit_column + version - 2
        rng = types.Range(start=types.Position(line=edit_line, character=column),
                          end=types.Position(line=edit_line, character=column))
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(
                range=rng, text=str(version % 10))]))
        tokens, symbols = await asyncio.gather(
            _timed(lambda: client.text_document_semantic_tokens_full_async(
                types.SemanticTokensParams(text_document=ident))),
            _timed(lambda: client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=ident))))
        received = await session.wait(uri, version)
        hover = await _timed(lambda: client.text_document_hover_async(types.HoverParams(
            text_document=ident, position=position(hover_at))))
        completions = [await _timed(partial(client.text_document_completion_async,
                                            types.CompletionParams(text_document=ident,
                                                                   position=position(at))))
                       for at in complete_at]
        if version > 3:  # two warm-up rounds
            for name, value in (("didChange -> publishDiagnostics", received - sent),
                                ("semanticTokens/full (after an edit)", tokens),
                                ("documentSymbol (after an edit)", symbols),
                                ("hover over a keyword", hover),
                                ("completion", max(completions))):
                samples.setdefault(name, []).append(value)
    return samples


async def _run(lines: int, definitions: int, runs: int, pythonpath: str | None) -> list[str]:
    startups = [await _startup(pythonpath) for _ in range(5)]
    report = [(f"start-up to the initialize answer   median "
               f"{statistics.median(startups) * 1000:7.1f} ms   "
               f"(min {min(startups) * 1000:.1f}, max {max(startups) * 1000:.1f}, n=5)")]
    session = _Session()
    types = session.types
    await session.client.start_io(sys.executable, "-m", "pqltools", "lsp",
                                  env=_environment(pythonpath))
    await session.client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options={"debounceMs": 0}))
    session.client.initialized(types.InitializedParams())

    text = document(lines)
    rows = text.split("\n")
    edit = next(i for i in range(lines // 2, lines) if rows[i].endswith("1200"))
    dotted = next(i for i in range(lines // 2, lines) if "homeAddress." in rows[i])
    keyword = next(i for i in range(lines // 2, lines) if rows[i].startswith("  and "))
    pql = await _edits(session, "untitled:bench.pql", text, "pql", runs, edit, len(rows[edit]),
                       (keyword, 3), [(dotted, rows[dotted].index("homeAddress.") + 12),
                                      (edit, len(rows[edit]) + 1)])
    report += [f"{lines}-line .pql   {name:38s} {_stats(values)}" for name, values in pql.items()]

    text = definitions_file(definitions)
    rows = text.split("\n")
    middle = len(rows) // 2
    edit = next(i for i in range(middle, len(rows)) if "1200" in rows[i])
    column = rows[edit].index("1200") + 4
    dotted = next(i for i in range(middle, len(rows)) if "homeAddress." in rows[i])
    keyword = next(i for i in range(middle, len(rows)) if " and " in rows[i])
    js = await _edits(session, "untitled:bench.json", text, "json", runs, edit, column,
                      (keyword, rows[keyword].index(" and ") + 2),
                      [(dotted, rows[dotted].index("homeAddress.") + 12), (edit, column + 1)])
    report += [f"{definitions}-definition .json   {name:31s} {_stats(values)}"
               for name, values in js.items()]
    await session.client.shutdown_async(None)
    session.client.exit(None)
    await session.client.stop()  # type: ignore[no-untyped-call]
    return report


def main(argv: list[str]) -> int:
    """Run the benchmark and print one line per document and measurement."""
    parser = argparse.ArgumentParser(prog="python -m pqltools.bench lsp",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=500,
                        help="lines of the .pql document (default: 500)")
    parser.add_argument("--definitions", type=int, default=200,
                        help="definitions in the JSON file (default: 200)")
    parser.add_argument("--runs", type=int, default=40, help="edits per document (default: 40)")
    parser.add_argument("--pythonpath", default=None,
                        help="run the server with this directory first on PYTHONPATH (another "
                        "checkout, to compare versions)")
    args = parser.parse_args(argv)
    if args.lines < 16 or args.definitions < 8 or args.runs < 1:
        parser.error("--lines must be at least 16, --definitions at least 8, --runs at least 1")
    try:
        import pygls  # noqa: F401
    except ImportError:
        print("the lsp benchmark needs pygls: pip install 'pqltools[lsp]'", file=sys.stderr)
        return 2
    for line in asyncio.run(_run(args.lines, args.definitions, args.runs, args.pythonpath)):
        print(line)
    return 0
