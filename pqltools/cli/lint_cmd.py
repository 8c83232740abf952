"""``pql lint``, ``pql rules`` and ``pql rule CODE``: the linter for pre-commit hooks and CI.

Exit codes (ruff's convention): 0 nothing at or above the ``--fail-on`` threshold, 1 findings
at or above it, 2 usage, I/O or configuration errors (a file that cannot be read or is not a
valid definition file, a bad configuration file, an unknown option value).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from pqltools import codes
from pqltools.analysis.config import Config, ConfigError, unknown_code
from pqltools.cli.inputs import EXIT_USAGE, iter_paths, looks_like_path
from pqltools.cli.runner import FixMode, Input, RunOptions, lint_inputs
from pqltools.errors import PQLError, Severity, render_snippet
from pqltools.fileio import UnreadableInput, path_exists, read_stdin
from pqltools.render import (
    FORMATS,
    FileResult,
    RenderOptions,
    RuleInfo,
    all_codes,
    all_rules,
    render,
    rule_info,
    statistics,
)

__all__ = ["EXIT_FINDINGS", "lint_command", "rule_command", "rules_command"]

#: Exit code when findings reach the ``--fail-on`` threshold.
EXIT_FINDINGS = 1
_SEVERITIES = [s.value for s in Severity]


def _fail(message: str, detail: str | None = None) -> NoReturn:
    click.echo(f"pql: error: {message}", err=True)
    if detail:
        click.echo(detail, err=True)
    sys.exit(EXIT_USAGE)


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--select A,B --select C`` -> ("A", "B", "C"), upper-cased, checked."""
    out: list[str] = []
    for value in values:
        for code in value.split(","):
            code = code.strip().upper()
            if not code:
                continue
            if code != "ALL" and not (code.startswith("PQL") and code[3:].isdigit()):
                _fail(f"{code!r} is not a rule code or prefix (like PQL101 or PQL1)")
            problem = unknown_code(code)
            if problem is not None:
                _fail(problem)
            out.append(code)
    return tuple(out)


def _load_config(config_file: Path | None, paths: tuple[str, ...]) -> Config:
    """``--config FILE``, else the configuration found from the first path (or cwd)."""
    try:
        if config_file is not None:
            return Config.from_file(config_file)
        first = next((p for p in paths if p != "-" and path_exists(p)), None)
        return Config.load(Path(first) if first else None)
    except ConfigError as exc:
        detail = None
        if exc.text is not None:
            detail = render_snippet(exc.text, exc.span)
        _fail(str(exc), detail)


def _load_schema(path: Path | None) -> Any:
    """The schema, loaded once for every file and worker (a bad schema is a usage error)."""
    if path is None:
        return None
    from pqltools.analysis.schema import load_schema

    try:
        return load_schema(path)
    except PQLError as exc:
        _fail(str(exc))


def _inputs(paths: tuple[str, ...]) -> list[Input]:
    items: list[Input] = []
    expressions = [p for p in paths if p != "-" and not path_exists(p)]
    for item in iter_paths(paths):
        if isinstance(item, Path):
            items.append(Input(str(item), path=item))
        elif item == "-":
            try:
                text = read_stdin()
            except UnreadableInput as exc:
                _fail(f"<stdin>: {exc}")
            items.append(Input("<stdin>", text=text))
        elif looks_like_path(item):
            _fail(f"{item}: no such file or directory")
        else:
            label = ("<expression>" if len(expressions) == 1
                     else f"<expression {expressions.index(item) + 1}>")
            items.append(Input(label, text=item, json_input=False))
    return items


def _cpus() -> int:
    """CPUs this process may run on (the affinity mask, e.g. in containers), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _color(choice: str, output: Path | None) -> bool:
    if choice == "always":
        return True
    if choice == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def _statistics_text(results: list[FileResult], as_json: bool) -> str:
    rows = statistics(results)
    if as_json:
        import json

        return json.dumps([{"code": c, "name": n, "count": k, "fixable": f}
                           for c, n, k, f in rows], indent=2) + "\n"
    width = max((len(str(k)) for _, _, k, _ in rows), default=1)
    return "".join(f"{k:>{width}}  {c}  {'[*]' if f else '   '} {n}\n" for c, n, k, f in rows)


def _exit_code(results: list[FileResult], config: Config, exit_zero: bool) -> int:
    if any(r.error is not None for r in results):
        return EXIT_USAGE
    if exit_zero:
        return 0
    return EXIT_FINDINGS if config.fails(f.diagnostic for r in results
                                         for f in r.findings) else 0


@click.command("lint")
@click.argument("paths", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text",
              show_default=True, help="Output format (see docs/cli.md for each shape).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
              show_default=True, help="Colour text output (auto: only on a terminal).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rule codes or prefixes (comma-separated; overrides config).")
@click.option("--ignore", multiple=True, metavar="CODES",
              help="Skip these rule codes or prefixes (comma-separated; overrides config).")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Configuration file (default: pqltools.toml or pyproject.toml found "
                   "upwards from the first path).")
@click.option("--schema", "schema_file", type=click.Path(path_type=Path, dir_okay=False),
              help="XDM schema (JSON Schema export or {path: type} map) for schema-aware rules.")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place, then lint again.")
@click.option("--unsafe-fixes", is_flag=True,
              help="With --fix, also apply fixes that may change what an expression means.")
@click.option("--statistics", "show_statistics", is_flag=True,
              help="Print the number of findings per rule instead of the findings.")
@click.option("--exit-zero", is_flag=True,
              help="Exit 0 even when findings reach the threshold (I/O errors still exit 2).")
@click.option("--fail-on", type=click.Choice(_SEVERITIES), default=None,
              help="Least severe finding that fails the run [default: config fail-on, "
                   "else error].")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for large runs [default: number of CPUs].")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the report to this file instead of standard output.")
def lint_command(paths: tuple[str, ...], fmt: str, color: str, select: tuple[str, ...],
                 ignore: tuple[str, ...], config_file: Path | None, schema_file: Path | None,
                 fix: bool, unsafe_fixes: bool, show_statistics: bool, exit_zero: bool,
                 fail_on: str | None, jobs: int | None, output: Path | None) -> None:
    """Lint PQL expressions and segment definitions.

    PATHS are .pql files (one expression, `--` comments allowed), segment-definition .json
    files, directories (searched recursively), `-` for standard input, or PQL expressions.
    Default: the current directory.

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage, I/O or configuration
    error.
    """
    paths = paths or (".",)
    if show_statistics and fmt not in ("text", "concise", "json"):
        _fail("--statistics works with --format text, concise or json")
    if unsafe_fixes and not fix:
        _fail("--unsafe-fixes needs --fix")
    config = _load_config(config_file, paths)
    overrides: dict[str, Any] = {}
    if select:
        overrides["select"] = _codes(select)
    if ignore:
        overrides["ignore"] = _codes(ignore)
    if schema_file is not None:
        overrides["schema"] = schema_file
    if fail_on is not None:
        overrides["fail_on"] = Severity(fail_on)
    if overrides:
        config = config.with_overrides(**overrides)
    mode: FixMode = ("unsafe" if unsafe_fixes else "safe") if fix else "none"
    inputs = _inputs(paths)
    options = RunOptions(config=config, schema=_load_schema(config.schema),
                         jobs=jobs or _cpus(), fix=mode)
    results = lint_inputs(inputs, options)
    stdin_fixed = fix and any(i.path is None for i in inputs)
    if stdin_fixed:  # like ruff: the fixed text on stdout, the report on stderr
        for item, result in zip(inputs, results):
            if item.path is None:
                click.echo(result.text, nl=False)
    if show_statistics:
        report = _statistics_text(results, fmt == "json")
    else:
        report = render(fmt, results, RenderOptions(color=_color(color, output),
                                                    unsafe_fixes=unsafe_fixes))
    if output is not None:
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as exc:
            _fail(f"{output}: cannot write: {exc.strerror or exc}")
    else:
        click.echo(report, nl=False, err=stdin_fixed, color=color == "always" or None)
    sys.exit(_exit_code(results, config, exit_zero))


# ---------------------------------------------------------------------------- rules


def _rule_row(rule: RuleInfo) -> dict[str, str]:
    return {"code": rule.code, "name": rule.name, "severity": rule.severity.value,
            "summary": rule.summary}


@click.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="A table, or a JSON list of {code, name, severity, "
                                      "summary}.")
@click.option("--all", "every", is_flag=True,
              help="Every code (syntax, input, configuration, evaluation too), not only the "
                   "lint rules.")
def rules_command(fmt: str, every: bool) -> None:
    """List every lint rule (or, with --all, every code): code, name, severity and summary."""
    rules = all_codes() if every else all_rules()
    if fmt == "json":
        import json

        click.echo(json.dumps([_rule_row(r) for r in rules], indent=2))
        return
    name_width = max((len(r.name) for r in rules), default=4)
    for rule in rules:
        click.echo(f"{rule.code}  {rule.name:<{name_width}}  {rule.severity.value:<7}  "
                   f"{rule.summary}")


def _suggest(wanted: str, known: list[RuleInfo]) -> str:
    """``; did you mean X?`` for a mistyped code (``PQL12O``, ``pql-120``) or name, or ''."""
    codes = [r.code for r in known]
    digits = wanted.upper().removeprefix("PQL").strip("-_ ").translate(_LOOKALIKES)
    if f"PQL{digits}" in codes:
        return f"; did you mean PQL{digits}?"
    prefixed = [c for c in codes if digits and c.startswith(f"PQL{digits}")]
    if prefixed:
        return f"; codes starting with PQL{digits}: {', '.join(prefixed)}"
    import difflib

    close = (difflib.get_close_matches(wanted.upper(), codes, n=1)
             or difflib.get_close_matches(wanted.lower(), [r.name for r in known], n=1))
    return f"; did you mean {close[0]}?" if close else ""


_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


@click.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Explain one code (PQL001, PQL101, PQL400... or a rule name like null-comparison)."""
    from pqltools.analysis.rules._docs import code_markdown

    text = code_markdown(code)
    if text is None:
        known = all_codes()
        hint = _suggest(code.strip(), known)
        _fail(f"unknown code {code!r}{hint} (`pql rules --all` lists all {len(known)})")
    info = rule_info(codes.get(code).code)  # type: ignore[union-attr]
    click.echo(f"{info.code} {info.name} (default severity: {info.severity.value})\n")
    click.echo(text, nl=False)
