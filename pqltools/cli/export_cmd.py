"""``pql export``: an export job request body run offline (docs/jobs.md).

Exit codes: 0 SUCCEEDED, 1 FAILED (see the response's ``errors``), 2 a bad request body, option
or data path.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pqltools.cli.job_cmd import (
    emit,
    fail,
    load_definition_files,
    load_previous,
    run_or_fail,
    shared_options,
)


@click.command("export")
@click.argument("request", type=click.Path(dir_okay=False, path_type=Path))
@shared_options
@click.option("--membership", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Membership records (a segment job's output) to filter on, by profile id "
              "(default: each profile's segmentMembership).")
@click.option("--definitions", "-d", "definitions", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="Definitions, for a request with evaluationInfo.segmentation true.")
def export_command(request: Path, profiles: str, engine: str, output: Path | None,
                   output_format: str | None, now: str | None, events_key: str,
                   id_key: str | None, response: Path | None, job_id: str | None,
                   membership: Path | None, definitions: tuple[Path, ...]) -> None:
    """Run the export job request body REQUEST over --profiles.

    Applies fields, filter (segments, segmentQualificationTime, fromIngestTimestamp,
    emptyProfiles), additionalFields.eventList, destination.segmentPerBatch and
    evaluationInfo.segmentation; prints an export job response in Adobe's shape with metrics.
    Without --output the exported records are in the response under "records".
    """
    from pqltools.jobs import RequestError, parse_body, parse_export_request
    from pqltools.jobs.export_job import run_export_job

    try:
        job = parse_export_request(parse_body(str(request)))
    except RequestError as exc:
        fail(exc)
    if job.evaluate and not definitions:
        fail(f"{request}: evaluationInfo.segmentation is true: give the segments' definitions "
             "with --definitions")
    defs = load_definition_files(definitions)
    previous = load_previous(membership)
    result = run_or_fail(lambda: run_export_job(
        job, profiles, definitions=defs, membership=previous, engine=engine, now=now,
        output=output, output_format_name=output_format, events_key=events_key, id_key=id_key,
        job_id=job_id))
    if output is None:
        result.response["records"] = result.records
    emit(result.response, response)
    sys.exit(0 if result.succeeded else 1)
