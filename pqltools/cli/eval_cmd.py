"""``pql eval``: evaluate segments over profiles in NDJSON, streaming.

Documented in docs/eval.md. One profile per line; its events under ``--events-key`` or in a
separate NDJSON file joined on ``--identity-key``. Prints the ids of qualifying profiles, or with
``--membership`` one ``{"id", "segmentMembership"}`` record per profile, or with ``--value`` one
``{"id", "value"}`` record per profile.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import click

from pqltools.cli.inputs import EXIT_USAGE, Source, read_sources
from pqltools.errors import PQLError
from pqltools.limits import load_json
from pqltools.runtime.compiler import compile as compile_pql
from pqltools.runtime.context import Clock, make_clock
from pqltools.runtime.membership import (
    CompiledSegment,
    compiled_segment,
    membership_for,
    order_segments,
    profile_id,
)

#: Inputs larger than this show a progress bar when standard error is a terminal.
PROGRESS_BYTES = 1 << 20


class InputError(click.ClickException):
    """An unreadable or malformed input file: exit code 2, like every usage error."""

    exit_code = EXIT_USAGE


@dataclass
class _Line:
    number: int
    text: str
    size: int
    #: why the line is not text (invalid UTF-8), else None
    problem: str | None = None


def _read_lines(stream: IO[bytes]) -> Iterator[_Line]:
    for number, raw in enumerate(stream, 1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark (Windows editors) is not data
        try:
            yield _Line(number, raw.decode("utf-8").strip(), len(raw))
        except UnicodeDecodeError as exc:
            yield _Line(number, "", len(raw), f"not UTF-8 text (byte {exc.start + 1} of the line)")


def _parse_line(text: str | bytes) -> Any:
    """One NDJSON record; ``ValueError`` with the reason (``load_json``'s strict numbers)."""
    try:
        return load_json(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


class EventIndex:
    """Events of a separate NDJSON file, grouped by profile id without holding them in memory.

    One pass records, for each id, the byte offsets of its events; :meth:`events_for` reads them
    back on demand. Memory grows with the number of events (one offset each), not their size.
    """

    def __init__(self, path: Path, identity_key: str) -> None:
        self.path = path
        self.identity_key = identity_key
        self.offsets: dict[str, list[int]] = {}
        self.errors: list[str] = []
        self._file = path.open("rb")
        offset = 0
        for number, raw in enumerate(self._file, 1):
            text = raw.strip()
            if text:
                try:
                    event = _parse_line(text)
                except ValueError as exc:
                    self.errors.append(f"{path}:{number}: not valid JSON: {exc}")
                    event = None
                owner = profile_id(event, identity_key) if isinstance(event, dict) else None
                if isinstance(event, dict) and owner is None:
                    self.errors.append(f"{path}:{number}: event has no `{identity_key}`")
                elif owner is not None:
                    self.offsets.setdefault(owner, []).append(offset)
            offset += len(raw)

    def events_for(self, pid: str | None) -> list[Any]:
        """The events of profile ``pid`` in file order ([] if none)."""
        out = []
        for offset in self.offsets.get(pid, []) if pid is not None else []:
            self._file.seek(offset)
            out.append(_parse_line(self._file.readline()))
        return out

    def close(self) -> None:
        """Close the events file."""
        self._file.close()


def _compile_sources(sources: list[Source]) -> list[CompiledSegment]:
    segments = []
    failed = False
    for index, source in enumerate(sources):
        try:
            program = compile_pql(source.text, comments=source.comments)
        except PQLError as exc:
            failed = True
            for diag in exc.diagnostics:
                click.echo(source.render(diag), err=True)
            continue
        definition = source.definition
        seg_id = (definition.id or definition.name if definition is not None else None) or (
            "expression" if len(sources) == 1 else f"expression{index + 1}")
        segments.append(compiled_segment(seg_id, source.label, program))
    if failed:
        sys.exit(EXIT_USAGE)
    try:
        return order_segments(segments)
    except PQLError as exc:
        raise InputError(str(exc)) from None


def _load_previous(path: Path) -> dict[str, Any]:
    previous: dict[str, Any] = {}
    with path.open("rb") as stream:
        for line in _read_lines(stream):
            if line.problem is not None:
                raise InputError(f"{path}:{line.number}: {line.problem}")
            if not line.text:
                continue
            try:
                record = _parse_line(line.text)
            except ValueError as exc:
                raise InputError(f"{path}:{line.number}: not valid JSON: {exc}") from None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise InputError(f"{path}:{line.number}: expected a record "
                                           '{"id": ..., "segmentMembership": {...}}')
            previous[record["id"]] = record.get("segmentMembership") or {}
    return previous


def _open_profiles(name: str) -> tuple[IO[bytes], int | None]:
    if name == "-":
        return sys.stdin.buffer, None
    path = Path(name)
    try:
        return path.open("rb"), os.path.getsize(path)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None


@click.command("eval")
@click.argument("query")
@click.argument("profiles", default="-")
@click.option("--events-key", default="events", show_default=True,
              help="Key of each profile line that holds its events (removed from the profile).")
@click.option("--events", "events_file", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path),
              help="NDJSON file of events, joined to profiles on --identity-key.")
@click.option("--identity-key", default="profileId", show_default=True,
              help="Dotted path, in each event of --events, to the id of its profile.")
@click.option("--id-key", default=None,
              help="Dotted path to a profile's id (default: _id, personID, personId, id, then "
                   "the primary identity of identityMap; else the line number).")
@click.option("--now", default=None,
              help="Evaluation time, ISO-8601 (default: the current UTC time, fixed for the run).")
@click.option("--membership", is_flag=True,
              help='Write {"id", "segmentMembership"} NDJSON records for every profile.')
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Previous --membership output, to tell realized from existing and exited.")
@click.option("--value", "values", is_flag=True,
              help='Write {"id", "value"} records with the value of each expression '
                   "(computed-attribute style) instead of qualifying ids.")
@click.option("-e", "--expression", "as_expression", is_flag=True,
              help="Treat QUERY as PQL text even if a file of that name exists.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: on a terminal, for inputs over 1 MB).")
def eval_command(query: str, profiles: str, events_key: str, events_file: Path | None,
                 identity_key: str, id_key: str | None, now: str | None, membership: bool,
                 previous: Path | None, values: bool, as_expression: bool,
                 progress: bool | None) -> None:
    """Evaluate QUERY (PQL text, a .pql file or a segment-definition .json) over PROFILES.

    PROFILES is NDJSON, one profile per line ("-" or omitted: standard input). Prints the id of
    every qualifying profile (with several definitions: "id<TAB>segment"). Exit code 1 if some
    lines could not be evaluated (reported on standard error, the run continues), 2 for a query
    that is not valid PQL or unusable options.
    """
    if membership and values:
        raise click.UsageError("--membership and --value are alternatives")
    sources = list(read_sources([query], as_expression=as_expression))
    if not sources:
        raise click.UsageError(f"{query}: no PQL expression found")
    segments = _compile_sources(sources)
    try:
        clock = make_clock(now)
    except PQLError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    prior = _load_previous(previous) if previous is not None else None
    index = EventIndex(events_file, identity_key) if events_file is not None else None
    stream, size = _open_profiles(profiles)
    show = progress if progress is not None else (
        size is not None and size > PROGRESS_BYTES and sys.stderr.isatty())
    run = _Run(segments, clock, events_key, index, id_key, prior, membership, values)
    try:
        if index is not None:
            for message in index.errors:
                run.fail(message)
        if show and size is not None:
            with click.progressbar(length=size, label="evaluating", file=sys.stderr) as bar:
                for line in _read_lines(stream):
                    run.line(line, profiles)
                    bar.update(line.size)
        else:
            for line in _read_lines(stream):
                run.line(line, profiles)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if index is not None:
            index.close()
    sys.exit(1 if run.failures else 0)


class _Run:
    """State of one ``pql eval`` run: what to evaluate and how to print it."""

    def __init__(self, segments: list[CompiledSegment], clock: Clock, events_key: str,
                 index: EventIndex | None, id_key: str | None, prior: dict[str, Any] | None,
                 membership: bool, values: bool) -> None:
        self.segments = segments
        self.clock = clock
        self.events_key = events_key
        self.index = index
        self.id_key = id_key
        self.prior = prior
        self.membership = membership
        self.values = values
        self.failures = 0
        self.out = sys.stdout

    def fail(self, message: str) -> None:
        """Report one unusable line and carry on."""
        self.failures += 1
        click.echo(message, err=True)

    def line(self, line: _Line, name: str) -> None:
        """Evaluate one NDJSON line and print its result."""
        where = f"{'<stdin>' if name == '-' else name}:{line.number}"
        if line.problem is not None:
            self.fail(f"{where}: {line.problem}")
            return
        if not line.text:
            return
        try:
            profile = _parse_line(line.text)
        except ValueError as exc:
            self.fail(f"{where}: not valid JSON: {exc}")
            return
        if not isinstance(profile, dict):
            self.fail(f"{where}: a profile must be a JSON object, got "
                      f"{type(profile).__name__}")
            return
        pid = profile_id(profile, self.id_key) or f"line:{line.number}"
        events = profile.pop(self.events_key, None)
        if self.index is not None:
            events = (events if isinstance(events, list) else []) + self.index.events_for(pid)
        try:
            self._emit(pid, profile, events)
        except PQLError as exc:
            self.fail(f"{where} (profile {pid}): {exc}")
        except Exception as exc:  # noqa: BLE001 - one bad line never stops the run
            self.fail(f"{where} (profile {pid}): cannot evaluate this profile "
                      f"({type(exc).__name__}: {exc!s:.200}); please report it as a bug")

    def _emit(self, pid: str, profile: dict[str, Any], events: Any) -> None:
        if self.values:
            for seg in self.segments:
                value = seg.program.evaluate_value(profile, events, now=self.clock)
                record = {"id": pid, "value": value}
                if len(self.segments) > 1:
                    record["segment"] = seg.id
                self.out.write(json.dumps(record) + "\n")
            return
        previous = None
        if self.prior is not None:
            previous = self.prior.get(pid, {})
        result = membership_for(self.segments, profile, events, self.clock, previous)
        if self.membership:
            self.out.write(json.dumps({"id": pid, "segmentMembership": result}) + "\n")
            return
        entries = result.get("ups", {})
        for seg in self.segments:
            if entries.get(seg.id, {}).get("status") in ("realized", "existing"):
                self.out.write(pid if len(self.segments) == 1 else f"{pid}\t{seg.id}")
                self.out.write("\n")
