"""What the fuzzer attacks: one check per target, each raising :class:`Finding` on a breach.

The contract (DEVELOPERS.md, docs/limits.md): only :class:`~pqltools.errors.PQLError` escapes
the library for any input; the CLI never prints a traceback and exits 0, 1 or 2; formatting and
``pql/json`` conversion round-trip. Anything else is a finding.
"""

from __future__ import annotations

import json
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pqltools.errors import PQLError

__all__ = ["TARGETS", "Finding", "Target", "signature"]


class Finding(Exception):
    """A breach of the contract: ``kind`` (exception type or property) and where it happened."""

    def __init__(self, kind: str, detail: str, where: str = "") -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.where = where


def signature(exc: BaseException) -> tuple[str, str]:
    """(kind, innermost pqltools frame) of an exception: what the minimizer keeps constant."""
    if isinstance(exc, Finding):
        return exc.kind, exc.where
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if "pqltools" in frame.filename or "/lsp/" in frame.filename:
            where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.name}"
            break
    return type(exc).__name__, where


def _guard(run: Callable[[], Any]) -> Any:
    """Run ``run``; a PQLError is fine, anything else becomes a :class:`Finding`."""
    try:
        return run()
    except PQLError:
        return None
    except Finding:
        raise
    except (MemoryError, RecursionError, Exception) as exc:
        kind, where = signature(exc)
        raise Finding(kind, f"{exc!s:.300}", where) from exc


@dataclass(frozen=True)
class Target:
    """A named check over one input text; ``seeds`` says which corpus feeds it."""

    name: str
    seeds: str  # "pql" or "json" or "ndjson"
    check: Callable[[str], None]
    doc: str


# ------------------------------------------------------------------ library targets


def check_parse(text: str) -> None:
    """``parse_document`` with and without comments, and strict ``parse``."""
    from pqltools.syntax.parser import ParseOptions, parse, parse_document

    def run() -> None:
        for comments in (False, True):
            result = parse_document(text, ParseOptions(comments=comments))
            for d in result.diagnostics:
                if not 0 <= d.span.start <= d.span.end <= len(text):
                    raise Finding("span-outside-input", f"{d.code} {d.span}", "parse")
        parse(text)
    _guard(run)
    _guard(lambda: parse_document(text.encode("utf-8", "surrogatepass")))


def check_lint(text: str) -> None:
    """``lint`` of the text as PQL, and of the text as a definitions file (JSON)."""
    from pqltools.analysis.lint import lint, lint_source
    from pqltools.definitions import load_definitions

    _guard(lambda: lint(text, comments=True))
    if text.lstrip()[:1] in ("{", "["):
        def definitions() -> None:
            for d in load_definitions("fuzz.json", text=text):
                lint_source(d.expression, comments=False, config=None, schema=None,
                            definition=d)
                for diag in lint_source(d.expression, comments=False, config=None,
                                        schema=None, definition=d):
                    d.file_span(diag.span)
        _guard(definitions)


def check_classify(text: str) -> None:
    """``classify`` under both rule sets."""
    from pqltools.analysis.eligibility import classify

    def verdict(rules: str) -> Any:
        return classify(text, rules=rules).to_json()

    for rules in ("2025", "legacy"):
        _guard(partial(verdict, rules))


def check_format(text: str) -> None:
    """``format``: no crash, idempotent, and the formatted text parses to the same tree."""
    from pqltools.syntax.parser import parse
    from pqltools.syntax.printer import format as format_pql

    try:
        tree = parse(text, comments=True)
    except PQLError:
        return
    except Exception as exc:
        raise Finding(*signature(exc)[:1], f"{exc!s:.300}", signature(exc)[1]) from exc
    once = _guard(lambda: format_pql(text, comments=True))
    if once is None:
        return
    again = _guard(lambda: format_pql(once, comments=True))
    if again != once:
        raise Finding("format-not-idempotent", repr(once[:200]), "printer")
    plain = _guard(lambda: format_pql(tree))
    if plain is not None:
        try:
            reparsed = parse(plain)
        except PQLError as exc:
            raise Finding("format-unparsable", f"{plain[:200]!r}: {exc}", "printer") from None
        if reparsed != tree:
            raise Finding("format-changes-tree", repr(plain[:200]), "printer")


def check_convert(text: str) -> None:
    """``to_json``/``from_json`` round trip, and ``from_json`` of arbitrary JSON."""
    from pqltools.syntax.parser import parse
    from pqltools.syntax.pqljson import from_json, to_json
    from pqltools.syntax.printer import format as format_pql

    try:
        obj: Any = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if obj is not None:
        tree = _guard(lambda: from_json(obj))
        printed = _guard(lambda: format_pql(tree)) if tree is not None else None
        if printed is not None:
            try:
                again = parse(printed)
            except PQLError as exc:
                raise Finding("json-text-unparsable", f"{printed[:200]!r}: {exc}",
                              "pqljson") from None
            if again != tree:
                raise Finding("json-text-changes-tree", repr(printed[:200]), "pqljson")
        return
    try:
        tree = parse(text)
    except PQLError:
        return
    except Exception:  # noqa: BLE001 - the parse target reports parser crashes
        return
    encoded = _guard(lambda: to_json(tree))
    if encoded is None:
        return
    back = _guard(lambda: from_json(json.loads(json.dumps(encoded))))
    if back is not None and back != tree:
        raise Finding("json-round-trip-changes-tree", text[:200], "pqljson")
    if back is not None:
        printed = _guard(lambda: format_pql(back))
        if printed is not None:
            try:
                again = parse(printed)
            except PQLError as exc:
                raise Finding("json-text-unparsable", f"{printed[:200]!r}: {exc}",
                              "pqljson") from None
            if again != tree:
                raise Finding("json-text-changes-tree", repr(printed[:200]), "pqljson")


#: Profiles an attacker (or a broken export) would send: huge, non-finite and odd values.
HOSTILE_PROFILES: list[tuple[dict[str, Any], list[Any]]] = [
    ({"a": 1, "b": "x", "person": {"name": "Ann", "age": 30}, "orders": [{"price": 2}],
      "homeAddress": {"countryCode": "US"}},
     [{"timestamp": "2024-05-01T10:00:00Z", "eventType": "a", "commerce": {"order": {
         "priceTotal": 5}}}, {"timestamp": "2024-05-02T10:00:00Z", "eventType": "b"}]),
    ({"a": 10**300, "b": -(10**300), "x": 10**4000, "orders": [{"price": 10**300}] * 3,
      "person": {"age": 10**300}},
     [{"timestamp": "9999-12-31T23:59:59Z", "eventType": "a"}]),
    ({"a": float("nan"), "b": float("inf"), "x": float("-inf"), "orders": [{"price": float(
        "nan")}], "name": "\ud800", "person": {"name": "\udfff\ud800"}},
     [{"timestamp": "0001-01-01T00:00:00Z", "eventType": "\ud800"}]),
    ({"a": [[[[[]]]]], "b": {}, "x": [None, True, 1.5, "s"], "name": "a" * 10_000,
      "homeAddress": None},
     [{"timestamp": 253402300799999, "eventType": None}, {"timestamp": -62135596800000}]),
    ({"a": True, "b": "1e400", "x": "NaN", "person": {"birthDate": "0000-00-00"},
      "segmentMembership": {"ups": {"abc": {"status": "realized"}}}},
     [{"timestamp": "2024-02-29T00:00:00Z", "eventType": "a", "x": 10**300}] * 20),
]
NOWS = ["2024-06-15T12:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
        "2024-12-31T23:59:59.999Z"]


def check_evaluate(text: str) -> None:
    """``compile`` and evaluate (test and value) against hostile profiles at odd times."""
    from pqltools.runtime.compiler import compile as compile_pql
    from pqltools.runtime.compiler import to_json_value

    program = _guard(lambda: compile_pql(text, comments=True))
    if program is None:
        return
    for index, (profile, events) in enumerate(HOSTILE_PROFILES):
        now = NOWS[index % len(NOWS)]
        _guard(partial(program.evaluate, profile, events, now=now))
        value = _guard(partial(program.evaluate_value, profile, events, now=now))
        if value is not None:
            try:
                json.dumps(to_json_value(value))
            except ValueError as exc:
                if "Out of range float" not in str(exc):
                    raise Finding(type(exc).__name__, f"value not printable: {exc}",
                                  "to_json_value") from exc


_SEGMENT_DEFINITIONS = {
    "s1": 'person.age > 20 and homeAddress.countryCode = "US"',
    "s2": 'xEvent.any(timestamp occurs < 30 days before now) or inSegment("s1")',
    "s3": "orders.price.sum() > 3 and a + b > 1",
    "s4": 'chain(xEvent, timestamp, [A: WHAT(eventType = "a"), B: WHAT(eventType = "b")])',
    "s5": "xEvent.groupBy(eventType).map((k, g) => g.count()).values().max() > 1",
}


def check_segment(text: str) -> None:
    """``pql eval --membership`` over the text as NDJSON profiles (every line on its own)."""
    from click.testing import CliRunner

    from pqltools.cli import main

    _run_cli(CliRunner(), main, ["eval", "-e", "--membership", "--now", "2024-06-15T12:00:00Z",
                                 _SEGMENT_DEFINITIONS["s3"]], text.encode("utf-8", "replace"))
    from pqltools.runtime.membership import segment

    def run() -> None:
        profiles = []
        for line in text.splitlines():
            try:
                profile = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(profile, dict):
                profiles.append(profile)
        for _ in segment(_SEGMENT_DEFINITIONS, profiles, now="2024-06-15T12:00:00Z"):
            pass
    _guard(run)


# ------------------------------------------------------------------ the command line

_CLI_COMMANDS = [
    ["parse"], ["parse", "--tree"], ["format", "-"], ["format", "--check", "-"],
    ["convert", "--to", "json", "-"], ["convert", "--to", "text", "-"], ["classify", "-"],
    ["lint", "-"], ["lint", "--format", "json", "-"], ["lint", "--format", "sarif", "-"],
    ["eval", "-e", "--now", "9999-12-31T23:59:59Z"], ["eval", "-e", "--value"],
    ["classify", "--format", "json", "-"],
]


def _run_cli(runner: Any, main: Any, args: list[str], stdin: bytes) -> None:
    result = runner.invoke(main, args, input=stdin, catch_exceptions=True)
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        kind, where = signature(result.exception)
        raise Finding(kind, f"pql {' '.join(args[:3])}: {result.exception!s:.300}", where)
    if "Traceback (most recent call last)" in output:
        raise Finding("traceback", f"pql {' '.join(args[:3])}", "cli")
    if result.exit_code not in (0, 1, 2):
        raise Finding("exit-code", f"pql {' '.join(args[:3])} exited {result.exit_code}", "cli")


def check_cli(text: str) -> None:
    """A ``pql`` subcommand (picked from the input's hash) on the text as stdin or argument."""
    from click.testing import CliRunner

    from pqltools.cli import main

    data = text.encode("utf-8", "surrogatepass")
    rng = random.Random(data)
    args = list(rng.choice(_CLI_COMMANDS))
    if rng.random() < 0.2:
        data = bytes(b ^ 0x80 if i % 7 == 3 else b for i, b in enumerate(data))
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    runner = CliRunner()
    if args[0] in ("parse", "eval"):
        # what a real argv holds: bytes, decoded with surrogateescape; never a NUL
        expression = data.replace(b"\x00", b"").decode("utf-8", "surrogateescape")
        if args[0] == "eval":
            _run_cli(runner, main, [*args, expression, "-"], b'{"a": 1}\n{"a": 1e400}\n')
        else:
            _run_cli(runner, main, [*args, expression], b"")
        return
    _run_cli(runner, main, args, data)


# ------------------------------------------------------------------ the language server


def check_lsp(text: str) -> None:
    """The language server, in process: open, change, hover, complete, format, act, close."""
    from pqltools.fuzz.lsp_driver import drive

    _guard(lambda: drive(text))


TARGETS: dict[str, Target] = {
    t.name: t for t in (
        Target("parse", "pql", check_parse, "parser, with and without comments"),
        Target("lint", "pql+json", check_lint, "linter on PQL and on definition files"),
        Target("classify", "pql", check_classify, "eligibility under both rule sets"),
        Target("format", "pql", check_format, "formatter: idempotent, round-trips"),
        Target("convert", "pql+json", check_convert, "pql/json both ways"),
        Target("evaluate", "pql", check_evaluate, "interpreter on hostile profiles"),
        Target("segment", "ndjson", check_segment, "segmentation over hostile NDJSON"),
        Target("cli", "pql+json", check_cli, "pql subcommands, stdin and arguments"),
        Target("lsp", "pql", check_lsp, "language server requests"),
    )
}

