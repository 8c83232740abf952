"""``pql stream``: simulate streaming segmentation over an ordered stream of records.

Documented in docs/streaming.md. Prints the membership transitions (who entered or left which
audience, when, and why) and, at the end, every profile's ``segmentMembership``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from pqltools.cli.inputs import EXIT_USAGE, read_sources
from pqltools.definitions import Definition
from pqltools.errors import PQLError
from pqltools.streaming import StreamInputError, Transition, parse_batch_time, parse_duration
from pqltools.streaming import stream as run_stream


def _definitions(argument: str) -> list[Definition] | dict[str, str]:
    sources = list(read_sources([argument]))
    if not sources:
        raise click.UsageError(f"{argument}: no PQL expression found")
    if all(s.definition is not None for s in sources):
        return [s.definition for s in sources if s.definition is not None]
    out: dict[str, str] = {}
    for source in sources:
        name = source.definition.id or source.definition.name if source.definition else None
        key = name or (source.path.stem if source.path is not None else source.label)
        out[key] = source.text
    return out


def _profiles(path: Path) -> list[dict[str, Any]]:
    """Profiles from a JSON array or NDJSON (one profile object per line)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from None
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise click.ClickException(f"{path}: not valid JSON: {exc}") from None
        items = list(enumerate(data, 1)) if isinstance(data, list) else []
    else:
        items = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append((number, json.loads(line)))
                except ValueError as exc:
                    raise click.ClickException(f"{path}:{number}: not valid JSON: {exc}") \
                        from None
    for number, item in items:
        if not isinstance(item, dict):
            raise click.ClickException(f"{path}:{number}: a profile must be a JSON object")
    return [item for _, item in items]


def _describe(t: Transition) -> str:
    cause = t.cause
    kind = cause["kind"]
    if kind == "expiry":
        what = f"window `{cause['window']}` expired"
        if "timestamp" in cause:
            what += f" for the event at {cause['timestamp']}"
    elif kind in ("event", "new-profile"):
        what = f"event at line {cause['line']}"
        if "eventType" in cause:
            what += f" ({cause['eventType']})"
    elif kind == "profile":
        what = f"profile update at line {cause['line']}"
    elif kind == "segment":
        what = f"audience {cause['audience']} changed"
    else:
        what = "daily batch run"
    return f"{t.at}  {t.profile}  {t.audience}  {t.status:<8}  {what}"


@click.command("stream")
@click.argument("definitions")
@click.argument("events", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--profiles", "profiles_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="Initial profiles (JSON array or NDJSON); their "
              "segmentMembership gives the initial memberships.")
@click.option("--until", default=None, help="After the last record, move the clock to this "
              "time (ISO-8601 or epoch ms) so that the window expiries due by then happen.")
@click.option("--rules", type=click.Choice(["2025", "legacy"]), default="2025",
              show_default=True, help="Eligibility rule set that decides which definitions "
              "are streamed.")
@click.option("--batch-time", default="00:00", show_default=True,
              help="Daily batch run, HH:MM UTC (batch definitions; segment-of-segments exits).")
@click.option("--allowed-lateness", default="24h", show_default=True,
              help="Events older than their ingest time by more than this are left to batch.")
@click.option("--id-key", default=None, help="Dotted field holding a profile's id (default: "
              "_id, personID, id, or the primary identity).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: one line per transition; json: NDJSON.")
def stream_command(definitions: str, events: Path, profiles_file: Path | None,
                   until: str | None, rules: str, batch_time: str, allowed_lateness: str,
                   id_key: str | None, output: str) -> None:
    """Simulate streaming segmentation of DEFINITIONS over the records in EVENTS (NDJSON).

    DEFINITIONS is a segment-definition .json file, a .pql file or a directory. Each record of
    EVENTS is an event, a profile attribute update or a clock tick, in ingest-time order
    (docs/streaming.md). Prints each membership transition (time, profile, audience,
    realized/exited, why), then every profile's segmentMembership. Exit code 2 for unusable
    input, with the file and line.
    """
    try:
        batch = parse_batch_time(batch_time)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--batch-time") from None
    try:
        lateness = parse_duration(allowed_lateness)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allowed-lateness") from None
    defs = _definitions(definitions)
    profiles = _profiles(profiles_file) if profiles_file is not None else []
    try:
        run = run_stream(defs, events, profiles=profiles, until=until, rules=rules,
                         batch_time=batch, allowed_lateness=lateness, id_key=id_key)
        if output == "text":
            for audience in run.simulator.audiences:
                mode = "streaming" if audience.streaming else "batch"
                if audience.streaming and audience.segment_of_segments:
                    mode += " (segment of segments: exits at the daily batch run)"
                click.echo(f"# {audience.id}: {mode}", err=True)
        for transition in run:
            click.echo(json.dumps(transition.to_json()) if output == "json"
                       else _describe(transition))
    except StreamInputError as exc:
        click.echo(f"pql stream: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except PQLError as exc:
        click.echo(f"pql stream: {definitions}: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    final = run.segment_membership()
    late = len(run.simulator.late)
    if output == "json":
        click.echo(json.dumps({"segmentMembership": final, "late": late}))
    else:
        if late:
            click.echo(f"# {late} late event(s) left to batch evaluation", err=True)
        click.echo("segmentMembership:")
        click.echo(json.dumps(final, indent=2))
