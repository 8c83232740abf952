"""``pql job run``: a segment job request body run offline (docs/jobs.md).

Exit codes: 0 the job SUCCEEDED, 1 it FAILED (the response's ``errors`` say why and where),
2 a bad request body, option or data path (a located error on standard error).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from pqltools.cli.inputs import EXIT_USAGE
from pqltools.errors import PQLError, render_snippet

ENGINE_CHOICE = click.Choice(["python", "duckdb", "spark"])
T = TypeVar("T")


def fail(exc: PQLError | str) -> NoReturn:
    """A usage error: the message (with the source line and caret when known), exit 2."""
    if isinstance(exc, str):
        click.echo(f"pql: error: {exc}", err=True)
    else:
        click.echo(f"pql: error: {exc}", err=True)
        if exc.text is not None:
            click.echo(render_snippet(exc.text, exc.span), err=True)
    sys.exit(EXIT_USAGE)


def run_or_fail(call: Callable[[], T], *, usage: tuple[type[Exception], ...] = ()) -> T:
    """``call()``, with unreadable data, a missing engine, a PQL error (a bad ``--now``, a
    cycle of segments) and the ``usage`` exceptions turned into a usage error (exit 2)."""
    from pqltools.jobs.common import EngineUnavailable
    from pqltools.jobs.data import DataError

    caught: tuple[type[Exception], ...] = (EngineUnavailable, PQLError, *usage)
    try:
        return call()
    except DataError as exc:
        fail(exc)
    except caught as exc:
        fail(str(exc))


def shared_options(function: Any) -> Any:
    """The options ``pql job run`` and ``pql export`` share."""
    for option in reversed([
        click.option("--profiles", "-p", "profiles", required=True,
                     help="Profiles: an NDJSON/JSON/Parquet file, a directory or a glob."),
        click.option("--engine", type=ENGINE_CHOICE, default="python", show_default=True,
                     help="Evaluation engine."),
        click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the records here (.parquet: Parquet, else NDJSON)."),
        click.option("--output-format", type=click.Choice(["ndjson", "parquet"]),
                     help="Output format (default: from the --output suffix)."),
        click.option("--now", help="Evaluation time, ISO-8601 (default: the current UTC time)."),
        click.option("--events-key", default="events", show_default=True,
                     help="Key of a profile's events in the input records."),
        click.option("--id-key", help="Dotted path of the profile id (default: _id, personID, "
                     "id, then identityMap)."),
        click.option("--response", type=click.Path(dir_okay=False, path_type=Path),
                     help="Write the job response here instead of standard output."),
        click.option("--job-id", help="Job id in the response (default: a random UUID)."),
    ]):
        function = option(function)
    return function


def emit(document: Any, response_path: Path | None) -> None:
    """Print (or write) a JSON response."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if response_path is None:
        click.echo(text, nl=False)
    else:
        response_path.write_text(text, "utf-8")


@contextmanager
def progress_bar(label: str, enabled: bool, data: str | None = None
                 ) -> Iterator[Callable[[int], None] | None]:
    """A rich progress display on standard error when it is a terminal, else nothing.

    With ``data`` (the profile files) the records are counted first (lines, not decoded), so
    the bar shows the share done and the time left.
    """
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from pqltools.jobs.data import DataError, count_records

    total: int | None = None
    if data is not None:
        try:
            total = count_records(data)
        except DataError:
            total = None  # the job itself reports the unreadable data
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.completed:,}" + (f"/{total:,}" if total else "")
                             + " profiles"),
                  TimeElapsedColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        last = [0]

        def update(done: int) -> None:
            if done - last[0] >= 500:
                bar.update(task, completed=done)
                last[0] = done

        yield update


def load_definition_files(paths: tuple[Path, ...]) -> list[Any]:
    """The definitions of ``--definitions``; a file that cannot be loaded is a warning with its
    place (a requested segment it would have defined is then an error of the job)."""
    from pqltools.jobs.common import find_definitions

    definitions, problems = find_definitions(paths)
    for problem in problems:
        click.echo(f"{problem.location}: warning {problem.code}: {problem.msg}", err=True)
    return definitions


def load_previous(path: Path | None) -> dict[str, Any] | None:
    """``--membership FILE``: membership records ``{"id", "segmentMembership"}`` by id."""
    if path is None:
        return None
    from pqltools.jobs.data import DataError, iter_records

    previous: dict[str, Any] = {}
    try:
        for record in iter_records(path):
            value = record.value
            if record.error is not None or not isinstance(value, dict) or not isinstance(
                    value.get("id"), str):
                fail(f"{record.where}: expected a membership record "
                     '{"id": ..., "segmentMembership": {...}}')
            previous[value["id"]] = value.get("segmentMembership") or {}
    except DataError as exc:
        fail(exc)
    return previous


@click.group("job")
def job_command() -> None:
    """Segment jobs offline (Adobe's POST /segment/jobs)."""


@job_command.command("run")
@click.argument("request", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--definitions", "-d", "definitions", multiple=True, required=True,
              type=click.Path(exists=True, path_type=Path),
              help="Definition files or directories that define the requested segment ids.")
@shared_options
@click.option("--membership", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Previous membership records (default: each profile's segmentMembership).")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Progress bar on a terminal.")
def run_command(request: Path, definitions: tuple[Path, ...], profiles: str, engine: str,
                output: Path | None, output_format: str | None, now: str | None,
                events_key: str, id_key: str | None, response: Path | None,
                job_id: str | None, membership: Path | None, progress: bool) -> None:
    """Run the segment job request body REQUEST over --profiles.

    Prints a segment job response in Adobe's shape: status, the segments with their
    definitions, metrics (profiles, qualified profiles and status counts per segment, times,
    profiles per second) and errors with their place.
    """
    from pqltools.jobs import RequestError, parse_body, parse_segment_job_request
    from pqltools.jobs.segment_job import SegmentJobResult, run_segment_job

    try:
        body = parse_body(str(request))
        job = parse_segment_job_request(body)
    except RequestError as exc:
        fail(exc)
    for warning in body.problems:  # errors were raised above; what is left are warnings
        click.echo(warning.render(body.text or "", str(request)), err=True)
    defs = load_definition_files(definitions)
    previous = load_previous(membership)
    where = ("segments",) if isinstance(body.value, dict) else ()

    def locate(i: int) -> str | None:
        span = body.span(where + (i, "segmentId"))
        return f"{request}:{span.line}:{span.column}"

    def run() -> SegmentJobResult:
        with progress_bar("segment job", progress, profiles) as update:
            return run_segment_job(job, defs, profiles, engine=engine, now=now, output=output,
                                   output_format_name=output_format, previous=previous,
                                   events_key=events_key, id_key=id_key, job_id=job_id,
                                   locate=locate, progress=update)

    result = run_or_fail(run)
    if output is None and response is None:
        result.response["memberships"] = result.memberships
    emit(result.response, response)
    sys.exit(0 if result.succeeded else 1)
