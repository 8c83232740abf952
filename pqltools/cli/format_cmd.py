"""``pql format`` (rewrite files in the canonical style) and ``pql convert`` (pql/text <-> pql/json).

Both are thin shells over :func:`pqltools.format`, :func:`pqltools.to_json` and
:func:`pqltools.from_json`. ``.pql`` files are rewritten whole (atomically); in segment-definition
``.json`` files only the ``expression.value`` strings change and every other byte stays.
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Any

import click

from pqltools.cli.inputs import EXIT_USAGE, Source, iter_paths
from pqltools.definitions import LIST_KEYS, Definition, NoDefinitionError, load_definitions
from pqltools.errors import DefinitionError, PQLError, render_snippet
from pqltools.fileio import UnreadableInput, read_stdin, read_text, write_atomic
from pqltools.records import record
from pqltools.syntax.parser import parse
from pqltools.syntax.pqljson import from_json, to_json
from pqltools.syntax.printer import E_COMMENT, ONE_LINE
from pqltools.syntax.printer import format as format_pql

# ----------------------------------------------------------------------------- reading


@record(frozen=True)
class _Input:
    """One argument's text: a file (``path`` set), standard input, or an expression."""

    label: str
    text: str
    path: Path | None = None
    is_expression: bool = False

    @property
    def is_json(self) -> bool:
        if self.path is not None and self.path.suffix in (".pql", ".json"):
            return self.path.suffix == ".json"
        return self.text.lstrip()[:1] in ("{", "[")


class _UsageError(click.ClickException):
    """An unreadable input: exit code 2, like every ``pql`` command."""

    exit_code = EXIT_USAGE



def _read_inputs(arguments: tuple[str, ...], *, allow_expressions: bool) -> list[_Input]:
    inputs: list[_Input] = []
    for item in iter_paths(arguments):
        if item == "-":
            try:
                inputs.append(_Input("<stdin>", read_stdin()))
            except UnreadableInput as exc:
                raise _UsageError(f"<stdin>: {exc}") from None
        elif isinstance(item, Path):
            try:
                # no newline translation: it would break byte-for-byte rewrites
                text = read_text(item)
            except UnreadableInput as exc:
                raise _UsageError(f"{item}: {exc}") from None
            inputs.append(_Input(str(item), text, item))
        elif allow_expressions:
            inputs.append(_Input("<expression>", str(item), is_expression=True))
        else:
            raise _UsageError(f"{item}: no such file or directory")
    return inputs


def _report(error: PQLError, source: Source) -> None:
    """Print every diagnostic of ``error`` as ``file:line:col: ...`` with the source line."""
    if isinstance(error, DefinitionError):
        click.echo(str(error), err=True)
        if error.text:
            click.echo(render_snippet(error.text, error.span), err=True)
        return
    for diag in error.diagnostics:
        click.echo(source.render(diag), err=True)
        if diag.code == E_COMMENT:
            click.echo(f"{source.label}: left unchanged: the file cannot be formatted without "
                       "moving comments", err=True)


def _definitions(inp: _Input) -> list[Definition]:
    return load_definitions(inp.label, text=inp.text)


# ----------------------------------------------------------------------------- pql format


def _format_json_file(inp: _Input, chain_case: str) -> str:
    """``inp.text`` with each pql/text ``expression.value`` string replaced by its canonical form.

    The canonical form of a JSON value is one line (see :data:`ONE_LINE`), as in the editor.
    """
    edits: list[tuple[int, int, str]] = []
    for definition in _definitions(inp):
        if definition.format != "pql/text" or definition.value_span is None:
            continue  # a pql/json value is data, not text to restyle
        source = Source(definition.label, definition.expression, path=inp.path,
                        definition=definition)
        try:
            new = format_pql(definition.expression, width=ONE_LINE, comments=False,
                             chain_case=chain_case)
        except PQLError as error:
            raise _SourceError(error, source) from None
        if new == definition.expression:
            continue  # keep the original escapes byte for byte
        span = definition.value_span
        old_token = inp.text[span.start:span.end]
        edits.append((span.start, span.end, json.dumps(new, ensure_ascii=old_token.isascii())))
    out = inp.text
    for start, end, token in sorted(edits, reverse=True):
        out = out[:start] + token + out[end:]
    return out


class _SourceError(Exception):
    """A PQLError together with the source it must be reported against."""

    def __init__(self, error: PQLError, source: Source):
        super().__init__(str(error))
        self.error = error
        self.source = source


def _formatted(inp: _Input, width: int, indent: int, chain_case: str) -> str:
    if inp.is_json:
        return _format_json_file(inp, chain_case)
    try:
        return format_pql(inp.text, width=width, indent=indent, chain_case=chain_case) + "\n"
    except PQLError as error:
        raise _SourceError(error, Source(inp.label, inp.text, comments=True,
                                         path=inp.path)) from None


@click.command("format")
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if any file would be reformatted.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Write nothing; print a unified diff of the changes.")
@click.option("--width", default=88, show_default=True, type=click.IntRange(20),
              help="Line width to fit .pql expressions into (JSON values stay on one line).")
@click.option("--indent", default=2, show_default=True, type=click.IntRange(1, 8),
              help="Spaces per indentation level.")
@click.option("--chain-case", type=click.Choice(["upper", "lower"]), default="upper",
              show_default=True,
              help="Case of CHAIN and its WHAT/WHEN/COUNT/WHERE clauses (upper: as Adobe's "
              "Segment Builder writes them).")
def format_command(paths: tuple[str, ...], check: bool, show_diff: bool, width: int,
                   indent: int, chain_case: str) -> None:
    """Rewrite PQL in the canonical style (docs/formatting.md).

    PATHS are .pql files, segment-definition .json files (only the pql/text `expression.value`
    strings change), directories (searched recursively) or `-` (standard input to standard
    output). Files with syntax errors, or with comments inside the expression, are reported with
    file:line:col and left untouched. Exit code 1 for errors or, with --check, when a file would
    change; 2 when a file cannot be read, is not valid JSON or is not a segment definition.
    """
    failed = would_change = unusable = False
    changed = unchanged = 0
    for inp in _read_inputs(paths, allow_expressions=False):
        try:
            new = _formatted(inp, width, indent, chain_case)
        except _SourceError as wrapped:
            _report(wrapped.error, wrapped.source)
            failed = True
            continue
        except NoDefinitionError as error:  # a request body (docs/jobs.md): nothing to format
            click.echo(f"{inp.label}: skipped: {error.diagnostics[0].message}", err=True)
            continue
        except DefinitionError as error:  # not JSON, or not a definition: go on with the rest
            _report(error, Source(inp.label, inp.text))
            unusable = True
            continue
        if inp.path is None:
            if not (check or show_diff):
                click.echo(new, nl=False)
            would_change |= new != inp.text
            if show_diff:
                _echo_diff(inp.label, inp.text, new)
            continue
        if new == inp.text:
            unchanged += 1
            continue
        changed += 1
        would_change = True
        if show_diff:
            _echo_diff(inp.label, inp.text, new)
        if check:
            click.echo(f"would reformat {inp.label}", err=True)
        elif not show_diff:
            try:
                write_atomic(inp.path, new)
            except OSError as exc:  # a full disk, a read-only file: the file is left as it was
                click.echo(f"{inp.label}: cannot write: {exc.strerror or exc}; left unchanged",
                           err=True)
                unusable = True
                continue
            click.echo(f"reformatted {inp.label}", err=True)
    if changed or unchanged:
        verb = "would be reformatted" if (check or show_diff) else "reformatted"
        click.echo(f"{changed} file{'s' if changed != 1 else ''} {verb}, {unchanged} unchanged",
                   err=True)
    sys.exit(_exit_code(unusable, failed or (check and would_change)))


def _exit_code(unusable: bool, failed: bool) -> int:
    """2 when an input could not be used at all, else 1 when something failed, else 0."""
    return EXIT_USAGE if unusable else 1 if failed else 0


def _echo_diff(label: str, old: str, new: str) -> None:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"{label} (original)", f"{label} (formatted)")
    for line in lines:
        click.echo(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n",
                   nl=False)


# ----------------------------------------------------------------------------- pql convert


def _convert_definitions(inp: _Input, to: str) -> Any:
    """The definition file's JSON with every expression in the ``to`` format."""
    definitions = _definitions(inp)
    converted: list[Any] = []
    for definition in definitions:
        source = Source(definition.label, definition.expression, path=inp.path,
                        definition=definition)
        try:
            tree = parse(definition.expression)
        except PQLError as error:
            raise _SourceError(error, source) from None
        expression = dict(definition.raw.get("expression") or {})
        if to == "json":
            expression.update(format="pql/json", value=to_json(tree))
        else:
            expression.update(format="pql/text", value=format_pql(tree, width=ONE_LINE))
        converted.append({**definition.raw, "expression": expression})
    original = json.loads(inp.text)
    if isinstance(original, list):
        return converted
    key = next((k for k in LIST_KEYS if isinstance(original.get(k), list)), None)
    if "expression" not in original and key is not None:
        return {**original, key: converted}
    return converted[0]


def _convert_one(inp: _Input, to: str, width: int, dialect: str = "duckdb",
                 now: str | None = None) -> str:
    if to == "sql":
        from pqltools.engines.run import MissingExtraError, require_engine
        try:
            require_engine(dialect, sql_only=True)
        except MissingExtraError as exc:
            raise _UsageError(str(exc)) from None
        from pqltools.cli.sql_cmd import convert_to_sql
        try:
            return convert_to_sql(inp.label, inp.text, inp.path, dialect, now)
        except PQLError as error:
            raise _SourceError(error, Source(inp.label, inp.text, path=inp.path)) from None
    if inp.is_json and not inp.is_expression or inp.is_expression and _is_pqljson(inp.text):
        try:
            obj = json.loads(inp.text)
        except (ValueError, RecursionError):
            obj = None  # not JSON: load_definitions says where, with the line and column
        if isinstance(obj, dict) and "nodeType" in obj:  # a bare pql/json tree
            tree = from_json(obj)
            return format_pql(tree, width=width) if to == "text" else _dump(to_json(tree))
        return _dump(_convert_definitions(inp, to))
    source = Source(inp.label, inp.text, comments=not inp.is_expression, path=inp.path)
    try:
        tree = parse(inp.text, comments=source.comments)
    except PQLError as error:
        raise _SourceError(error, source) from None
    return format_pql(tree, width=width) if to == "text" else _dump(to_json(tree))


def _is_pqljson(text: str) -> bool:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(obj, dict) and "nodeType" in obj


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, ensure_ascii=False)


@click.command("convert")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--to", "to", type=click.Choice(["json", "text", "sql"]), required=True,
              help="Target format: pql/json, (canonical) pql/text, or the SQL of the batch "
                   "engines (with --dialect).")
@click.option("--dialect", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              show_default=True, help="SQL dialect for --to sql.")
@click.option("--now", default=None,
              help="Evaluation time for --to sql (time windows become literals; default: now).")
@click.option("--width", default=88, show_default=True, type=click.IntRange(20),
              help="Line width for pql/text output (definition values stay on one line).")
def convert_command(inputs: tuple[str, ...], to: str, width: int, dialect: str,
                    now: str | None) -> None:
    """Convert PQL between pql/text and pql/json (docs/pqljson.md), or show its SQL.

    ``--to sql --dialect duckdb|spark`` prints the SQL the batch engines run (docs/engines.md);
    column types are guessed from how the expression uses each path.

    INPUTS are PQL expressions, pql/json trees, .pql files, segment-definition .json files or `-`.
    A definition file is printed back as JSON with each `expression` converted and its `format`
    updated. Each input's result is printed in turn. Exit code 1 when an input has a syntax error
    or an invalid pql/json tree, 2 when a file cannot be read or is not valid JSON.
    """
    failed = unusable = False
    for inp in _read_inputs(inputs, allow_expressions=True):
        try:
            click.echo(_convert_one(inp, to, width, dialect, now))
        except _SourceError as wrapped:
            _report(wrapped.error, wrapped.source)
            failed = True
        except DefinitionError as error:
            _report(error, Source(inp.label, inp.text))
            unusable = True
        except PQLError as error:  # from_json: the message names the JSON path
            click.echo(f"{inp.label}: invalid pql/json: {error}", err=True)
            failed = True
    sys.exit(_exit_code(unusable, failed))
