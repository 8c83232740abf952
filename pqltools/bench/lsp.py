"""``python -m pqltools.bench lsp``: language-server latency, measured from a real client.

Starts ``pql lsp`` as a subprocess, talks to it over stdio with pygls' client, and measures:

* ``didChange`` -> ``publishDiagnostics``: the time from sending a one-character incremental
  edit (typing a digit into a number on the middle line, so every version is new text) to
  receiving the diagnostics *for that document version*, with the server's debounce set to
  0 ms (``initializationOptions``), so the figure is the work itself (parse, lint, mapping,
  JSON-RPC both ways) and not the deliberate typing delay an editor session adds on top;
* completion: the round trip of a ``textDocument/completion`` request right after each edit,
  after a ``.`` (methods and schema fields) and at the start of a line (functions, keywords and
  the variables declared before the cursor).

Documents are realistic formatted PQL (one condition per line, ~40 characters a line) of 50 and
500 lines. Each figure is the median / 90th percentile / maximum over ``--runs`` edits, after
two warm-up rounds. pygls is imported only when the benchmark runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from typing import Any

__all__ = ["document", "main"]

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


def _stats(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (f"median {statistics.median(ordered) * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms   "
            f"max {ordered[-1] * 1000:7.1f} ms   (n={len(ordered)})")


async def _run(sizes: list[int], runs: int) -> list[str]:
    from lsprotocol import types
    from pygls.lsp.client import LanguageClient

    client = LanguageClient("pqltools-bench", "1")
    arrived: dict[tuple[str, int], float] = {}
    waiters: dict[tuple[str, int], asyncio.Event] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)  # type: ignore[untyped-decorator]
    def published(params: types.PublishDiagnosticsParams) -> None:
        key = (params.uri, params.version or 0)
        arrived[key] = time.perf_counter()
        if key in waiters:
            waiters[key].set()

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)  # type: ignore[untyped-decorator]
    def register(params: Any) -> None:
        return None

    await client.start_io(sys.executable, "-m", "pqltools", "lsp")
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), initialization_options={"debounceMs": 0}))
    client.initialized(types.InitializedParams())

    async def wait(uri: str, version: int) -> float:
        key = (uri, version)
        event = waiters.setdefault(key, asyncio.Event())
        if key not in arrived:
            await asyncio.wait_for(event.wait(), 60)
        return arrived[key]

    report = []
    for size in sizes:
        text = document(size)
        uri = f"untitled:bench-{size}.pql"
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="pql", version=1,
                                                 text=text)))
        await wait(uri, 1)
        change_samples: list[float] = []
        member_samples: list[float] = []
        start_samples: list[float] = []
        lines = text.split("\n")
        # `homeAddress.|` (methods and fields) and the start of a line (functions, keywords,
        # variables: needs the syntax tree of the new version)
        dotted = next(i for i in range(size // 2, size) if "homeAddress." in lines[i])
        member = types.Position(line=dotted,
                                character=lines[dotted].index("homeAddress.") + 12)
        start = types.Position(line=size // 2, character=2)
        # type digits at the end of a number in the middle of the document: every edit makes
        # a new, valid text (nothing can come from a cache)
        line = next(i for i in range(size // 2, size) if lines[i].endswith("1200"))
        for version in range(2, runs + 4):
            column = len(lines[line]) + version - 2
            rng = types.Range(start=types.Position(line=line, character=column),
                              end=types.Position(line=line, character=column))
            change = types.TextDocumentContentChangePartial(range=rng, text=str(version % 10))
            sent = time.perf_counter()
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[change]))
            received = await wait(uri, version)
            timings = []
            for where in (member, start):
                asked = time.perf_counter()
                await client.text_document_completion_async(types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=where))
                timings.append(time.perf_counter() - asked)
            if version > 3:  # two warm-up rounds
                change_samples.append(received - sent)
                member_samples.append(timings[0])
                start_samples.append(timings[1])
        report.append(f"{size:4d} lines  didChange -> publishDiagnostics  "
                      f"{_stats(change_samples)}")
        report.append(f"{size:4d} lines  completion after `.`            "
                      f"{_stats(member_samples)}")
        report.append(f"{size:4d} lines  completion at a line start      "
                      f"{_stats(start_samples)}")
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()  # type: ignore[no-untyped-call]
    return report


def main(argv: list[str]) -> int:
    """Run the benchmark and print one line per document size and measurement."""
    parser = argparse.ArgumentParser(prog="python -m pqltools.bench lsp",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="50,500",
                        help="document sizes in lines, comma-separated (default: 50,500)")
    parser.add_argument("--runs", type=int, default=30, help="edits per size (default: 30)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 2 or args.runs < 1:
        parser.error("sizes must be at least 2 lines and --runs at least 1")
    try:
        import pygls  # noqa: F401
    except ImportError:
        print("the lsp benchmark needs pygls: pip install 'pqltools[lsp]'", file=sys.stderr)
        return 2
    for line in asyncio.run(_run(sizes, args.runs)):
        print(line)
    return 0
