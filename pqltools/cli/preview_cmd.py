"""``pql preview`` and ``pql estimate``: qualifying profiles and audience size (docs/jobs.md).

DEF is a PQL expression, a ``.pql`` file or a definition ``.json`` file holding one definition
(``--segment-id`` picks one of several). Exit codes: 0 done, 1 some profiles could not be read
or evaluated (listed in the output), 2 a bad definition, option or data path.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from pqltools.cli.job_cmd import ENGINE_CHOICE, emit, fail, run_or_fail


def _expression(definition: str, segment_id: str | None) -> str:
    from pqltools.cli.inputs import read_sources
    from pqltools.definitions import request_kind
    from pqltools.jobs.requests import RequestError, parse_body, parse_preview_request

    if definition.endswith(".json") and os.path.isfile(definition):
        try:
            body = parse_body(definition)
            if request_kind(body.value) == "preview request":  # POST /preview's body
                return parse_preview_request(body)
        except RequestError as exc:
            fail(exc)

    sources = list(read_sources((definition,)))
    if segment_id is not None:
        sources = [s for s in sources if s.definition is not None
                   and segment_id in (s.definition.id, s.definition.name)]
        if not sources:
            fail(f"{definition}: no definition has the id or name {segment_id!r}")
    if len(sources) != 1:
        fail(f"{definition}: holds {len(sources)} definitions; choose one with --segment-id")
    return sources[0].text


def _common(function: Any) -> Any:
    for option in reversed([
        click.argument("definition"),
        click.argument("data"),
        click.option("--segment-id", help="Which definition of a file holding several."),
        click.option("--engine", type=ENGINE_CHOICE, default="python", show_default=True,
                     help="Evaluation engine."),
        click.option("--now", help="Evaluation time, ISO-8601 (default: the current UTC time)."),
        click.option("--events-key", default="events", show_default=True,
                     help="Key of a profile's events in the input records."),
        click.option("--id-key", help="Dotted path of the profile id."),
    ]):
        function = option(function)
    return function


@click.command("preview")
@_common
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1),
              help="Profiles per page.")
@click.option("--start", help="Page token (links.next of the previous page) or offset.")
@click.option("--with-profiles", is_flag=True, help="Include each qualifying profile.")
def preview_command(definition: str, data: str, segment_id: str | None, engine: str,
                    now: str | None, events_key: str, id_key: str | None, limit: int,
                    start: str | None, with_profiles: bool) -> None:
    """A page of the profiles in DATA that qualify for DEF, in Adobe's preview result shape."""
    from pqltools.jobs.preview import preview

    text = _expression(definition, segment_id)
    result = run_or_fail(lambda: preview(
        text, data, limit=limit, start=start, include_profiles=with_profiles, engine=engine,
        now=now, events_key=events_key, id_key=id_key), usage=(ValueError,))
    emit(result, None)
    sys.exit(1 if result["errors"] else 0)


@click.command("estimate")
@_common
@click.option("--sample-size", type=click.IntRange(min=1),
              help="Profiles to sample (default: Adobe's rule: all below 1M, 1M up to 20M, "
              "5% above).")
@click.option("--sample-fraction", type=click.FloatRange(0, 1, min_open=True),
              help="Share of profiles to sample, instead of --sample-size.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Sampling seed: the same seed samples the same profiles on every engine.")
@click.option("--interval", "method", default="auto", show_default=True,
              type=click.Choice(["auto", "wilson", "clopper-pearson"]),
              help="Interval: auto is Wilson, Clopper-Pearson when few profiles match.")
@click.option("--confidence", default=0.95, show_default=True,
              type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="Confidence level of the interval.")
@click.option("--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "json"]), help="Output format.")
def estimate_command(definition: str, data: str, segment_id: str | None, engine: str,
                     now: str | None, events_key: str, id_key: str | None,
                     sample_size: int | None, sample_fraction: float | None, seed: int,
                     method: str, confidence: float, fmt: str) -> None:
    """Estimate how many profiles of DATA qualify for DEF, from a deterministic sample."""
    from pqltools.jobs.estimate import estimate

    text = _expression(definition, segment_id)
    result = run_or_fail(lambda: estimate(
        text, data, sample_size=sample_size, sample_fraction=sample_fraction, seed=seed,
        engine=engine, now=now, confidence=confidence, method=method, events_key=events_key,
        id_key=id_key), usage=(ValueError,))
    if fmt == "json":
        emit(result, None)
    else:
        click.echo(_text(result))
    sys.exit(1 if result["state"] == "FAILED" else 0)


def _text(r: dict[str, Any]) -> str:
    lines = [
        (f"estimated size: {r['estimatedSize']:,} profiles "
        f"({r['confidenceInterval']} interval {r['lowerBound']:,} - {r['upperBound']:,}, "
        f"{r['interval']['method']})"),
        (f"sample: {r['profilesMatchedSoFar']:,} of {r['profilesReadSoFar']:,} sampled profiles "
        f"matched ({r['totalRows']:,} in total, seed {r['sample']['seed']})"),
    ]
    if r["standardError"] is not None:
        lines.append(f"standard error: {r['standardError']:,} profiles")
    if r["error"]["description"]:
        lines.append(f"errors: {r['error']['description']}")
    return "\n".join(lines)
