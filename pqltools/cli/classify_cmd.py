"""``pql classify``: which evaluation method (streaming, edge, batch) each input gets, and why."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from pqltools.analysis.eligibility import (
    EVALUATION_METHODS,
    AudienceEntry,
    Eligibility,
    Reason,
    classify,
)
from pqltools.cli.inputs import EXIT_USAGE, InputError, Source, read_sources
from pqltools.definitions import load_definitions
from pqltools.errors import PQLError, PQLSyntaxError
from pqltools.fileio import UnreadableInput, read_text
from pqltools.syntax.parser import ParseOptions, parse_document

_MARK = {"excludes": "-", "supports": "+", "note": "~"}


def load_audiences(path: str) -> dict[str, AudienceEntry]:
    """Read ``--audiences``: a JSON map id -> definition or ``{method, profileOnly}``, or a file
    of segment definitions (keyed by their ``id``)."""
    try:
        text = read_text(Path(path))
        data = json.loads(text)
    except UnreadableInput as exc:
        raise InputError(f"{path}: {exc}") from None
    except ValueError as exc:
        raise InputError(f"{path}: not a JSON audiences file: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: the audiences file is nested too deeply to read") from None
    if isinstance(data, dict) and "expression" not in data and all(
            isinstance(v, (dict, str)) for v in data.values()) and not any(
            isinstance(data.get(k), list) for k in ("segments", "children", "audiences")):
        return dict(data)
    try:
        definitions = load_definitions(path, text=text)
    except PQLError as exc:
        raise InputError(f"{path}: {exc}") from None
    return {d.id: d for d in definitions if d.id}


def _position(source: Source, reason: Reason) -> str:
    span = source.file_span(reason.span)
    return f"{span.line}:{span.column}"


def format_text(source: Source, result: Eligibility) -> str:
    """The human report: method, eligible set, events with their windows, reasons."""
    eligible = ", ".join(m for m in EVALUATION_METHODS if m in result.eligible)
    lines = [f"{source.label}: {result.method} (eligible: {eligible}; rules {result.rules})"]
    if result.requested is not None:
        asked = ", ".join(m for m in EVALUATION_METHODS if m in result.requested) or "nothing (batch)"
        lines.append(f"  evaluationInfo requests: {asked}")
        for method in (m for m in EVALUATION_METHODS if m in result.unsatisfied):
            lines.append(f"  ! requested {method} is not possible: Adobe evaluates it in batch")
    for ref in result.events:
        span = source.file_span(ref.span)
        what = ref.label and f" {ref.label}" or ""
        flags = "".join(f", {f}" for f, on in (("negated", ref.negated),
                                                ("counted", ref.aggregated)) if on)
        lines.append(f"  event {span.line}:{span.column} ({ref.kind}{what}): "
                     f"{ref.describe_window()}{flags}")
    for reason in result.reasons:
        cites = "; ".join(str(c) for c in reason.citations)
        lines.append(f"  {_MARK[reason.effect]} {reason.rule} {_position(source, reason)}: "
                     f"{reason.message} [{cites}]")
        if reason.advice:
            lines.append(f"      change: {reason.advice}")
    return "\n".join(lines)


def _json(source: Source, result: Eligibility) -> dict[str, Any]:
    out = result.to_json()
    out["input"] = source.label
    for reason, item in zip(result.reasons, out["reasons"]):
        span = source.file_span(reason.span)
        item["file_span"] = {"line": span.line, "column": span.column}
    return out


@click.command("classify")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--rules", type=click.Choice(["2025", "legacy"]), default=None,
              help="Rule set: 2025 (current, default) or legacy (pre-May-2025). Defaults to "
                   "`eligibility-rules` from the configuration file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--audiences", "audiences_file", type=click.Path(dir_okay=False),
              help="JSON map of audience id -> definition or {\"method\": ..., \"profileOnly\": "
                   "...}, or a file of segment definitions, for inSegment references.")
@click.option("--merge-policy-active-on-edge/--no-merge-policy-active-on-edge", default=None,
              help="Whether the definitions' merge policy is active on edge (unknown if not "
                   "given: assumed yes, with a note).")
@click.option("-e", "--expression", "as_expression", is_flag=True,
              help="Treat every INPUT as PQL text, even if a file of that name exists.")
def classify_command(inputs: tuple[str, ...], rules: str | None, fmt: str,
                     audiences_file: str | None, merge_policy_active_on_edge: bool | None,
                     as_expression: bool) -> None:
    """Say whether each input is evaluated by streaming, edge or batch, and why.

    INPUTS are .pql files, segment-definition .json files, directories, `-` for standard input,
    or PQL expressions. Definitions given as inputs also serve as audiences for each other's
    inSegment references (by id). For definitions, the methods their evaluationInfo requests
    are checked. Exit code 1 when an input is not valid PQL, 2 when an input cannot be read.
    """
    if rules is None:
        rules = _configured_rules()
    sources = list(read_sources(inputs, as_expression=as_expression))
    audiences: dict[str, AudienceEntry] = {
        s.definition.id: s.definition for s in sources
        if s.definition is not None and s.definition.id}
    if audiences_file is not None:
        audiences.update(load_audiences(audiences_file))
    failed = False
    results: list[dict[str, Any]] = []
    for source in sources:
        try:
            result = _classify(source, rules, audiences, merge_policy_active_on_edge)
        except PQLError as exc:
            failed = True
            for diag in exc.diagnostics:
                click.echo(source.render(diag), err=True)
            continue
        if fmt == "json":
            results.append(_json(source, result))
        else:
            click.echo(format_text(source, result))
    if fmt == "json":
        click.echo(json.dumps(results, indent=2))
    sys.exit(1 if failed else 0)


def _classify(source: Source, rules: str, audiences: Mapping[str, AudienceEntry],
              merge_policy: bool | None) -> Eligibility:
    if source.definition is not None:
        return classify(source.definition, rules=rules, audiences=audiences,
                        merge_policy_active_on_edge=merge_policy)
    parsed = parse_document(source.text, ParseOptions(comments=source.comments))
    if parsed.expr is None or any(d.severity.rank == 0 for d in parsed.diagnostics):
        raise PQLSyntaxError(parsed.diagnostics)
    return classify(parsed.expr, rules=rules, audiences=audiences,
                    merge_policy_active_on_edge=merge_policy)


def _configured_rules() -> str:
    try:
        from pqltools.analysis.config import Config

        return Config.load(Path.cwd()).eligibility_rules
    except PQLError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_USAGE)
