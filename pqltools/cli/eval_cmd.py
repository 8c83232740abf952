"""``pql eval``: evaluate segments over profiles in NDJSON, streaming.

Documented in docs/eval.md. One profile per line; its events under ``--events-key`` or in a
separate NDJSON file joined on ``--identity-key``. Prints the ids of qualifying profiles, or with
``--membership`` one ``{"id", "segmentMembership"}`` record per profile, or with ``--value`` one
``{"id", "value"}`` record per profile.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import click

from pqltools.cli.eval_lines import (
    LineEvaluator,
    Output,
    Settings,
    decode_line,
    default_jobs,
    evaluate_file,
)
from pqltools.cli.inputs import EXIT_USAGE, Source, read_sources
from pqltools.errors import PQLError
from pqltools.records import record
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
#: Files larger than this are split between worker processes (one per core, ``--jobs``).
PARALLEL_BYTES = 16 << 20


class InputError(click.ClickException):
    """An unreadable or malformed input file: exit code 2, like every usage error."""

    exit_code = EXIT_USAGE


@record
class _Line:
    number: int
    text: str
    size: int


def _record(raw: bytes) -> Any:
    """One NDJSON record of a side file, decoded as profile lines are; ValueError says why not."""
    try:
        return decode_line(raw)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start + 1} of the line)") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _read_lines(stream: IO[bytes]) -> Iterator[_Line]:
    for number, raw in enumerate(stream, 1):
        yield _Line(number, raw.decode("utf-8", "replace").strip(), len(raw))


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
                    event = _record(text)
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
            out.append(_record(self._file.readline()))
        return out

    def close(self) -> None:
        """Close the events file."""
        self._file.close()


def _compile_sources(sources: list[Source]) -> tuple[list[CompiledSegment], dict[str, bool]]:
    """Compile every query (all errors reported, then exit 2) in dependency order.

    Also returns, per segment id, whether its text may hold ``--`` comments (for workers, which
    compile the texts again).
    """
    segments = []
    comments: dict[str, bool] = {}
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
        comments[seg_id] = source.comments
    if failed:
        sys.exit(EXIT_USAGE)
    try:
        return order_segments(segments), comments
    except PQLError as exc:
        raise InputError(str(exc)) from None


def _load_previous(path: Path) -> dict[str, Any]:
    previous: dict[str, Any] = {}
    with path.open("rb") as stream:
        for line in _read_lines(stream):
            if not line.text:
                continue
            try:
                record = _record(line.text.encode("utf-8"))
            except ValueError as exc:
                raise InputError(f"{path}:{line.number}: not valid JSON: {exc}") from None
            if not isinstance(record, dict) or not isinstance(record.get("id"), str):
                raise InputError(f"{path}:{line.number}: expected a record "
                                           '{"id": ..., "segmentMembership": {...}}')
            previous[record["id"]] = record.get("segmentMembership") or {}
    return previous


def _open_profiles(name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    try:
        return Path(name).open("rb")
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None


@click.command("eval")
@click.argument("query")
@click.argument("profiles", default="-")
@click.option("--events-key", default="events", show_default=True,
              help="Key of each profile line that holds its events (removed from the profile).")
@click.option("--events", "events_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Events apart from the profiles, joined to them on --identity-key: NDJSON "
                   "(SQL engines: also Parquet, or a glob).")
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
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for a PROFILES file over 16 MB (default: one per core; "
                   "1: evaluate in this process).")
@click.option("--engine", type=click.Choice(["python", "duckdb", "spark"]), default="python",
              show_default=True,
              help="Where to evaluate: the interpreter, or one SQL query on DuckDB or Spark "
                   "(PROFILES: a path or glob of NDJSON or Parquet files; docs/engines.md).")
@click.option("--count", is_flag=True,
              help="Print only the number of qualifying profiles (per definition).")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=True, path_type=Path),
              default=None,
              help='Write {"id", "segmentMembership"} records to FILE.parquet or FILE.ndjson '
                   "(SQL engines: built in SQL, the interpreter's records; Parquet holds "
                   "segmentMembership as JSON text; Spark writes a directory).")
def eval_command(query: str, profiles: str, events_key: str, events_file: Path | None,
                 identity_key: str, id_key: str | None, now: str | None, membership: bool,
                 previous: Path | None, values: bool, as_expression: bool,
                 progress: bool | None, jobs: int | None, engine: str = "python",
                 count: bool = False, output_file: Path | None = None) -> None:
    """Evaluate QUERY (PQL text, a .pql file or a segment-definition .json) over PROFILES.

    PROFILES is NDJSON, one profile per line ("-" or omitted: standard input). Prints the id of
    every qualifying profile (with several definitions: "id<TAB>segment"). Exit code 1 if some
    lines could not be evaluated (reported on standard error, the run continues), 2 for a query
    that is not valid PQL or unusable options.
    """
    if membership and values:
        raise click.UsageError("--membership and --value are alternatives")
    if count and values:
        raise click.UsageError("--count and --value are alternatives")
    sources = list(read_sources([query], as_expression=as_expression))
    if not sources:
        raise click.UsageError(f"{query}: no PQL expression found")
    segments, comments = _compile_sources(sources)
    try:
        clock = make_clock(now)
    except PQLError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    prior = _load_previous(previous) if previous is not None else None
    if events_file is not None:
        _check_events(events_file, engine == "python" and not (
            output_file is not None and output_file.suffix.lower() == ".parquet"))
    if engine != "python" or output_file is not None:
        _engine_run(engine, segments, profiles, clock, events_key, events_file, id_key, prior,
                    membership, values, count, output_file, identity_key, previous)
        return
    output: Output = ("count" if count else "values" if values else
                      "membership" if membership else "ids")
    counts = [0] * len(segments)

    def tally(text: str) -> None:
        """Count the segment indexes that the ``count`` output writes, a line each."""
        for index in text.split():
            counts[int(index)] += 1

    sink = tally if count else sys.stdout.write
    name = "<stdin>" if profiles == "-" else profiles
    size = None if profiles == "-" else _file_size(profiles)
    show = progress if progress is not None else (
        size is not None and size > PROGRESS_BYTES and sys.stderr.isatty())
    workers = jobs or default_jobs()
    if (workers > 1 and size is not None and size > PARALLEL_BYTES and events_file is None
            and prior is None):
        settings = Settings(tuple((seg.id, seg.label, seg.program.text, comments[seg.id])
                                  for seg in segments), clock.now, events_key, id_key, output)
        failures = _evaluate_parallel(profiles, size, settings, workers, show, sink)
        _print_counts(segments, counts, count)
        sys.exit(1 if failures else 0)
    index = EventIndex(events_file, identity_key) if events_file is not None else None
    evaluator = LineEvaluator(segments, clock, events_key, id_key, output,
                              index.events_for if index is not None else None, prior)
    stream = _open_profiles(profiles)
    failures = 0
    try:
        if index is not None:
            for message in index.errors:
                failures += 1
                click.echo(message, err=True)
        failures += _evaluate_stream(evaluator, stream, name, size if show else None, sink)
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if index is not None:
            index.close()
    _print_counts(segments, counts, count)
    sys.exit(1 if failures else 0)


def _print_counts(segments: list[CompiledSegment], counts: list[int], count: bool) -> None:
    """With ``--count``: the number of qualifying profiles (per definition: ``id<TAB>n``)."""
    if count:
        for seg, n in zip(segments, counts, strict=True):
            click.echo(f"{n}" if len(segments) == 1 else f"{seg.id}\t{n}")


def _check_events(path: Path, one_file: bool) -> None:
    """``--events`` names a file (the interpreter) or files matching a glob (SQL engines)."""
    import glob
    if one_file and not path.is_file():
        raise click.BadParameter(f"{path}: no such file", param_hint="--events")
    if not one_file and not any(os.path.isfile(f) for f in glob.glob(str(path))):
        raise click.BadParameter(f"{path}: no file matches", param_hint="--events")


def _file_size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None


def _evaluate_stream(evaluator: LineEvaluator, stream: IO[bytes], name: str,
                     progress_size: int | None, write: Callable[[str], object]) -> int:
    """Evaluate every line of ``stream`` in this process, its output to ``write``; the number
    of unusable lines."""
    line = evaluator.line
    failures = 0
    bar = (click.progressbar(length=progress_size, label="evaluating", file=sys.stderr)
           if progress_size is not None else None)
    try:
        for number, raw in enumerate(stream, 1):
            problem = line(number, raw, write)
            if problem is not None:
                failures += 1
                click.echo(f"{name}:{number}{problem}", err=True)
            if bar is not None:
                bar.update(len(raw))
    finally:
        if bar is not None:
            bar.render_finish()
    return failures


def _evaluate_parallel(path: str, size: int, settings: Settings, jobs: int,
                       show: bool, write: Callable[[str], object]) -> int:
    """Evaluate a large file in ``jobs`` worker processes, their output to ``write`` in file
    order; the number of unusable lines."""
    failures = 0
    bar = click.progressbar(length=size, label="evaluating", file=sys.stderr) if show else None
    try:
        for text, problems, done in evaluate_file(path, size, settings, jobs):
            write(text)
            for number, problem in problems:
                failures += 1
                click.echo(f"{path}:{number}{problem}", err=True)
            if bar is not None:
                bar.update(done)
    finally:
        if bar is not None:
            bar.render_finish()
    return failures


def _engine_run(engine: str, segments: list[CompiledSegment], profiles: str, clock: Clock,
                events_key: str, events_file: Path | None, id_key: str | None,
                prior: dict[str, Any] | None, membership: bool, values: bool, count: bool,
                output: Path | None, identity_key: str = "profileId",
                previous: Path | None = None) -> None:
    """``--engine duckdb|spark`` (pqltools/cli/engine_eval.py), and ``-o`` on the interpreter."""
    if values:
        raise click.UsageError("--value runs on the interpreter only (--engine python)")
    if engine == "python":
        engine = "duckdb" if output is not None and output.suffix.lower() == ".parquet" \
            else engine
    if engine == "python":
        _python_count_or_output(segments, profiles, clock, events_key, id_key, prior, count,
                                output, events_file, identity_key)
        return
    from pqltools.engines.run import MissingExtraError, require_engine
    try:
        require_engine(engine)
    except MissingExtraError as exc:
        raise InputError(str(exc)) from None
    from pqltools.cli.engine_eval import run_engine
    run_engine(engine, segments, profiles, clock=clock, events_key=events_key, id_key=id_key,
               prior=prior, membership=membership, count=count, output=output, out=sys.stdout,
               events=str(events_file) if events_file is not None else None,
               identity_key=identity_key, previous=previous)


def _python_count_or_output(segments: list[CompiledSegment], profiles: str, clock: Clock,
                            events_key: str, id_key: str | None, prior: dict[str, Any] | None,
                            count: bool, output: Path | None, events_file: Path | None = None,
                            identity_key: str = "profileId") -> None:
    """The interpreter's ``--count`` and ``-o FILE.ndjson``."""
    import json
    counts = {seg.id: 0 for seg in segments}
    index = EventIndex(events_file, identity_key) if events_file is not None else None
    stream = _open_profiles(profiles)
    sink = output.open("w", encoding="utf-8") if output is not None else None
    failures = 0
    for message in index.errors if index is not None else []:
        failures += 1
        click.echo(message, err=True)
    try:
        for line in _read_lines(stream):
            if not line.text:
                continue
            try:
                profile = _record(line.text.encode("utf-8"))
            except ValueError as exc:
                click.echo(f"{profiles}:{line.number}: not valid JSON: {exc}", err=True)
                failures += 1
                continue
            if not isinstance(profile, dict):
                click.echo(f"{profiles}:{line.number}: a profile must be a JSON object", err=True)
                failures += 1
                continue
            pid = profile_id(profile, id_key) or f"line:{line.number}"
            events = profile.pop(events_key, None)
            if index is not None:
                events = (events if isinstance(events, list) else []) + index.events_for(pid)
            previous = prior.get(pid, {}) if prior is not None else None
            try:
                result = membership_for(segments, profile, events, clock, previous)
            except PQLError as exc:
                click.echo(f"{profiles}:{line.number} (profile {pid}): {exc}", err=True)
                failures += 1
                continue
            entries = result.get("ups", {})
            for seg in segments:
                if entries.get(seg.id, {}).get("status") in ("realized", "existing"):
                    counts[seg.id] += 1
            if sink is not None:
                sink.write(json.dumps({"id": pid, "segmentMembership": result}) + "\n")
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
        if sink is not None:
            sink.close()
        if index is not None:
            index.close()
    if count:
        for seg_id, n in counts.items():
            click.echo(f"{n}" if len(counts) == 1 else f"{seg_id}\t{n}")
    sys.exit(1 if failures else 0)
