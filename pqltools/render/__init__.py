"""Renderers: the same lint results as text, concise lines, JSON, SARIF or GitHub annotations.

The linter never prints. Its results are :class:`~pqltools.analysis.results.FileResult` objects
(one per input file, each with its :class:`~pqltools.analysis.results.Finding` list, positions
already in the coordinates of the file the user gave; re-exported here) and
:func:`render` turns them into one output string in the chosen format. Each format lives in its
own module and is imported only when used.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import field
from typing import Any

from pqltools import codes
from pqltools.analysis.results import FileResult, Finding
from pqltools.errors import Severity
from pqltools.records import record

__all__ = [
    "FORMATS",
    "FileResult",
    "Finding",
    "RenderOptions",
    "RuleInfo",
    "all_codes",
    "all_rules",
    "from_rule",
    "render",
    "rule_explanation",
    "rule_info",
    "severity_counts",
    "statistics",
    "summary_line",
]

#: format name -> "module:function" of its renderer.
FORMATS: dict[str, str] = {
    "text": "pqltools.render.text:render_text",
    "concise": "pqltools.render.concise:render_concise",
    "json": "pqltools.render.json_out:render_json",
    "sarif": "pqltools.render.sarif:render_sarif",
    "github": "pqltools.render.github:render_github",
}


@record(frozen=True, slots=True)
class RenderOptions:
    """Switches shared by the renderers.

    ``color``: ANSI colours (text and concise). ``base_dir``: SARIF URIs are relative to it
    (default: the current directory, the checkout root in CI). ``unsafe_fixes``: the run had
    ``--unsafe-fixes``, so the summary counts unsafe fixes as applicable by ``--fix``.
    """

    color: bool = False
    base_dir: str | None = None
    unsafe_fixes: bool = False


@record(frozen=True, slots=True)
class RuleInfo:
    """What the renderers need to know about a code: from the rule registry when it has it."""

    code: str
    name: str
    summary: str
    explanation: str = ""
    severity: Severity = Severity.ERROR
    extra: dict[str, Any] = field(default_factory=dict)


def all_rules() -> list[RuleInfo]:
    """Every registered lint rule, in code order."""
    return [from_rule(rule) for rule in _rules().all_rules()]


def all_codes() -> list[RuleInfo]:
    """Every code of the code table (:mod:`pqltools.codes`), rules and others, in code order."""
    return [rule_info(code) for code in codes.CODES]


def rule_info(code: str) -> RuleInfo:
    """Name, summary and explanation of ``code``, from the code table and, for a lint rule,
    the rule object. A code missing from the table (never reported by pqltools itself) gets
    its lower-cased code as name."""
    row = codes.CODES.get(code)
    if row is None:
        return RuleInfo(code, code.lower(), "")
    if row.category.is_rule:
        rule = _rules().get_rule(code)
        if rule is not None:
            return from_rule(rule)
    return RuleInfo(code, row.name, row.summary, explanation=row.explanation,
                    severity=row.severity)


def _rules() -> Any:
    # Imported on first use: the registry pulls in every rule module.
    from pqltools.analysis import rules

    return rules


def from_rule(rule: Any) -> RuleInfo:
    """The renderers' view of a registry rule."""
    return RuleInfo(code=rule.code, name=rule.name, summary=rule.summary,
                    explanation=rule_explanation(rule), severity=rule.severity)


def rule_explanation(rule: Any) -> str:
    """A rule's documentation as Markdown: what it does, why it matters, example, use instead."""
    from pqltools.analysis.rules._docs import code_markdown

    return code_markdown(rule.code) or ""


def render(fmt: str, results: Sequence[FileResult],
           options: RenderOptions | None = None) -> str:
    """Render ``results`` in format ``fmt`` (one of :data:`FORMATS`). Raises KeyError if unknown."""
    module, _, attr = FORMATS[fmt].partition(":")
    renderer: Callable[[Sequence[FileResult], RenderOptions], str] = getattr(
        importlib.import_module(module), attr)
    return renderer(results, options or RenderOptions())


def iter_findings(results: Iterable[FileResult]) -> Iterable[tuple[FileResult, Finding]]:
    """Every finding with the file it belongs to, in output order."""
    for result in results:
        for finding in result.findings:
            yield result, finding


def severity_counts(results: Iterable[FileResult]) -> Counter[Severity]:
    """How many findings of each severity ``results`` hold."""
    return Counter(f.diagnostic.severity for _, f in iter_findings(results))


def plural(count: int, word: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(results: Sequence[FileResult], *, unsafe_fixes: bool = False) -> str:
    """The closing line of text output: totals per severity, what ``--fix`` can do, failures.

    ``unsafe_fixes`` says the run already had ``--unsafe-fixes``, so unsafe fixes count as
    plain ``--fix`` ones.
    """
    counts = severity_counts(results)
    total = sum(counts.values())
    fixed = sum(r.fixed for r in results)
    bad_files = sum(1 for r in results if r.error is not None)
    parts: list[str] = [f"Fixed {plural(fixed, 'problem')}."] if fixed else []
    linted = len(results) - bad_files
    if total == 0 and linted:
        parts.append(f"All checks passed ({plural(linted, 'file')}).")
    elif total:
        detail = ", ".join(plural(counts[s], s.value) for s in Severity if counts[s])
        with_problems = len({r.path for r, _ in iter_findings(results)})
        found = (f"Found {plural(total, 'problem')} ({detail}) in {with_problems} of "
                 f"{plural(len(results), 'file')}")
        fixable = [f for _, f in iter_findings(results) if f.fixable]
        safe = sum(1 for f in fixable if f.safe_fix or unsafe_fixes)
        unsafe = len(fixable) - safe
        notes = ([f"{safe} fixable with --fix"] if safe else []) + (
            [f"{unsafe} fixable with --fix --unsafe-fixes"] if unsafe else [])
        parts.append(found + ("; " + ", ".join(notes) if notes else "") + ".")
    if bad_files:
        parts.append(f"{plural(bad_files, 'file')} could not be linted.")
    return " ".join(parts)


def statistics(results: Iterable[FileResult]) -> list[tuple[str, str, int, int]]:
    """``(code, name, count, fixable count)`` per code, most frequent first, then by code."""
    counts: Counter[str] = Counter()
    fixable: Counter[str] = Counter()
    for _, finding in iter_findings(results):
        counts[finding.diagnostic.code] += 1
        fixable[finding.diagnostic.code] += finding.fixable
    rows = [(code, rule_info(code).name, n, fixable[code]) for code, n in counts.items()]
    return sorted(rows, key=lambda row: (-row[2], row[0]))
