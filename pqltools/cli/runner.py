"""Linting many files: reading them, linting every expression (in parallel when there are many),
applying fixes in rounds, and writing fixed files back safely.

With many files, whole files go to a process pool (reading, JSON loading, linting, fixing and
writing all happen in the workers); with few files but many expressions (one export with
10,000 definitions) the expressions alone go to the pool. Results come back in input order, so
the output is the same whatever ``jobs`` is.

``--fix`` works in rounds (as ruff does): lint, apply every non-overlapping fix to the file text,
lint the fixed text again, until nothing is left to fix or ``max_fix_rounds`` is reached. Edits
are made on the *file* text: for a JSON definition each edit is mapped into the JSON string and
its replacement JSON-escaped, so the rest of the file stays byte-for-byte the same. Fixed files
are written to a temporary file in the same directory and moved over the original with
:func:`os.replace`, so a crash never leaves half a file.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pqltools.analysis.config import Config
from pqltools.analysis.lint import lint_source
from pqltools.analysis.results import FileResult, Finding, place
from pqltools.definitions import Definition
from pqltools.errors import DefinitionError, Diagnostic, Edit, Severity, Span
from pqltools.fileio import write_atomic
from pqltools.records import record
from pqltools.sources import Source, read_text, sources_from_text

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "E_FIX_REVERTED",
    "E_INTERNAL",
    "E_WRITE",
    "PARALLEL_THRESHOLD",
    "FixMode",
    "Input",
    "RunOptions",
    "lint_inputs",
    "process_file",
    "write_atomic",
]

FixMode = Literal["none", "safe", "unsafe"]

#: Below this many expressions a process pool costs more than it saves.
PARALLEL_THRESHOLD = 50
#: A rule crashed on an expression: reported, never a traceback.
E_INTERNAL = "PQL099"
#: The fixes of a round were undone because they broke the file.
E_FIX_REVERTED = "PQL097"
#: A fixed file could not be written back.
E_WRITE = "PQL098"


@record(frozen=True, slots=True)
class Input:
    """One thing to lint: a file (read when linted) or given text (stdin, an expression)."""

    label: str
    path: Path | None = None
    text: str | None = None
    json_input: bool | None = None


@record(frozen=True, slots=True)
class RunOptions:
    """How to lint: configuration, schema, number of processes, which fixes to apply.

    ``schema`` is a loaded :class:`pqltools.analysis.schema.Schema` (None: the configuration's
    ``schema`` file, if any).
    """

    config: Config
    schema: Any = None
    jobs: int = 1
    fix: FixMode = "none"
    max_fix_rounds: int = 10


@record(slots=True)
class _File:
    """A file being linted: its current text and sources, or why it cannot be linted."""

    item: Input
    text: str
    sources: list[Source]
    error: Diagnostic | None = None
    fixed: int = 0
    #: findings of a request body (schedule, ad-hoc activation...) instead of definitions
    requests: list[Diagnostic] = field(default_factory=list)


# A worker's job: (expression, comments allowed, definition without its file text, filename).
_Task = tuple[str, bool, Definition | None, str | None]
_Outcome = list[Diagnostic] | str

_LintMany = Callable[[list[_Task]], list[_Outcome]]

#: The run options of a pool worker, set once per process by :func:`_init_worker`.
_WORKER_OPTIONS: RunOptions | None = None


def _init_worker(options: RunOptions) -> None:
    global _WORKER_OPTIONS
    _WORKER_OPTIONS = options


def _worker_options() -> RunOptions:
    assert _WORKER_OPTIONS is not None, "called outside a pool worker"
    return _WORKER_OPTIONS


def _lint_task(task: _Task, options: RunOptions | None = None) -> _Outcome:
    """Lint one expression; a crash becomes a message instead of killing the whole run."""
    options = options or _worker_options()
    text, comments, definition, filename = task
    try:
        return lint_source(text, comments=comments, config=options.config,
                           schema=options.schema, definition=definition, filename=filename)
    except Exception as exc:  # noqa: BLE001 - any rule bug is reported, never a traceback
        return f"internal error while linting: {type(exc).__name__}: {exc}"


def _pool(options: RunOptions, jobs: int) -> ProcessPoolExecutor:
    # Lint once here first: forked workers then inherit the built parser and the imported
    # rule modules instead of each building them again.
    _lint_task(("a = 1", False, None, None), options)
    from concurrent.futures import ProcessPoolExecutor  # only runs with many files pay for it

    return ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_init_worker,
                               initargs=(options,))


def _jobs_for(count: int, options: RunOptions) -> int:
    """Processes worth starting for ``count`` work items (1 = stay in this process)."""
    if options.jobs <= 1 or count <= PARALLEL_THRESHOLD:
        return 1
    return min(options.jobs, math.ceil(count / PARALLEL_THRESHOLD))


def _chunk(count: int, jobs: int) -> int:
    return max(1, math.ceil(count / (jobs * 4)))


def _lint_serial(tasks: list[_Task], options: RunOptions) -> list[_Outcome]:
    return [_lint_task(task, options) for task in tasks]


def _lint_pooled(tasks: list[_Task], options: RunOptions) -> list[_Outcome]:
    """The expressions of one large file over a pool (when there are few files)."""
    jobs = _jobs_for(len(tasks), options)
    if jobs == 1:
        return _lint_serial(tasks, options)
    with _pool(options, jobs) as pool:
        return list(pool.map(_lint_task, tasks, chunksize=_chunk(len(tasks), jobs)))


def _context() -> Any:
    import multiprocessing

    # fork (Linux only: it is unsafe on macOS) lets workers inherit the built parser tables.
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _error(text: str, code: str, message: str) -> Diagnostic:
    """A whole-file error, placed at the start of the file."""
    return Diagnostic(code, message, Severity.ERROR, Span.from_offsets(text, 0, 0))


def _read(item: Input) -> _File:
    """Read ``item`` and split it into sources; unreadable or malformed files get an error."""
    text = item.text
    if text is None:
        assert item.path is not None
        try:
            text = read_text(item.path, item.label)
        except DefinitionError as exc:
            return _File(item, "", [], exc.diagnostics[0])
    return _split(_File(item, text, []))


def _split(file: _File) -> _File:
    item = file.item
    json_input = item.json_input
    if json_input is None and item.path is not None:
        json_input = item.path.suffix == ".json"
    try:
        file.sources = sources_from_text(item.label, file.text, path=item.path,
                                         json_input=json_input)
    except DefinitionError as exc:
        file.sources = []
        if not _request_body(file, exc):
            file.error = exc.diagnostics[0]
    return file


def _request_body(file: _File, exc: DefinitionError) -> bool:
    """Lint a Segmentation API request body as one (docs/jobs.md): its findings, and a preview
    request's PQL as a source; False for a file that is no request body we know."""
    from pqltools.definitions import NoDefinitionError

    if not isinstance(exc, NoDefinitionError):
        return False
    from pqltools.jobs.requests import check_body, parse_body, preview_definition

    body = parse_body(file.item.label, file.text)
    findings = check_body(body)
    if findings is None:
        return False
    file.requests = findings
    definition = preview_definition(body)
    if definition is not None:
        file.sources = [Source(definition.label, definition.expression, path=file.item.path,
                               definition=definition)]
    return True


def _task(source: Source) -> _Task:
    definition = source.definition
    if definition is not None:  # the file text stays in the parent: workers need the expression
        definition = replace(definition, source_text=None)
    filename = str(source.path) if source.path is not None else None
    return (source.text, source.comments, definition, filename)


def _apply_fixes(file: _File, findings: Iterable[Finding], mode: FixMode) -> int:
    """Apply every non-overlapping allowed fix to ``file.text``; return how many were applied."""
    chosen: list[Edit] = []
    applied = 0
    for finding in sorted(findings, key=lambda f: min((e.start for e in f.edits or ()),
                                                      default=0)):
        fix = finding.diagnostic.fix
        if finding.edits is None or fix is None or (not fix.safe and mode != "unsafe"):
            continue
        if any(_overlaps(edit, other) for edit in finding.edits for other in chosen):
            continue  # the next round re-lints and applies it if it still applies
        chosen.extend(finding.edits)
        applied += 1
    text = file.text
    for edit in sorted(chosen, key=lambda e: (e.start, e.end), reverse=True):
        text = text[: edit.start] + edit.replacement + text[edit.end:]
    if applied and text != file.text:
        file.text = text
        return applied
    return 0


def _overlaps(a: Edit, b: Edit) -> bool:
    # Two insertions at one point conflict too: their order would be arbitrary.
    return a.start < b.end and b.start < a.end or a.start == b.start


def lint_inputs(inputs: Sequence[Input], options: RunOptions) -> list[FileResult]:
    """Lint every input (fixing and writing files back when ``options.fix`` says so).

    A schema named by the configuration (and not given as ``options.schema``) is loaded once
    here, not once per expression; a bad schema raises :class:`pqltools.errors.PQLError`.
    """
    if options.schema is None and options.config.schema is not None:
        from pqltools.analysis.schema import load_schema

        options = replace(options, schema=load_schema(options.config.schema))
    jobs = _jobs_for(len(inputs), options)
    if jobs > 1:
        with _pool(options, jobs) as pool:
            return list(pool.map(_process_in_worker, inputs,
                                 chunksize=_chunk(len(inputs), jobs)))
    return [process_file(item, options, partial(_lint_pooled, options=options))
            for item in inputs]


def _process_in_worker(item: Input) -> FileResult:
    options = _worker_options()
    return process_file(item, options, partial(_lint_serial, options=options))


def process_file(item: Input, options: RunOptions, lint_many: _LintMany) -> FileResult:
    """Read, lint (and fix, in rounds, and write back) one input with ``lint_many``."""
    file = _read(item)
    findings = _lint_file(file, lint_many)
    config = options.config
    findings[:0] = [Finding(replace(d, severity=config.severity_for(d.code, d.severity)),
                            item.label)
                    for d in sorted(file.requests, key=lambda d: d.span.start)
                    if config.is_enabled(d.code)]
    for _ in range(options.max_fix_rounds if options.fix != "none" else 0):
        if file.error is not None:
            break
        before = (file.text, file.sources)
        applied = _apply_fixes(file, findings, options.fix)
        if not applied:
            break
        after = _lint_file(_split(file), lint_many)
        if file.error is not None or _syntax_errors(after) > _syntax_errors(findings):
            # A fix that breaks the file is a rule bug: keep the text from before this round
            # (as ruff does) and say so, rather than write a broken file.
            file.text, file.sources, file.error = before[0], before[1], None
            findings.append(_reverted(file))
            break
        file.fixed += applied
        findings = after
    return _result(file, findings)


def _lint_file(file: _File, lint_many: _LintMany) -> list[Finding]:
    """Findings of every source of ``file``; a crashing rule sets ``file.error``."""
    if file.error is not None:
        return []
    findings: list[Finding] = []
    for source, outcome in zip(file.sources, lint_many([_task(s) for s in file.sources])):
        if isinstance(outcome, str):
            file.error = _error(file.text, E_INTERNAL, f"{source.label}: {outcome}")
            return []
        findings.extend(place(source, d) for d in outcome)
    return findings


def _syntax_errors(findings: list[Finding]) -> int:
    return sum(1 for f in findings if f.diagnostic.code.startswith("PQL0"))


def _reverted(file: _File) -> Finding:
    message = ("fixes not applied: they would have made the file invalid (a bug in a rule's "
               "fix; please report it)")
    diag = Diagnostic(E_FIX_REVERTED, message, Severity.WARNING,
                      Span.from_offsets(file.text, 0, 0))
    return Finding(diag, file.item.label)


def _result(file: _File, findings: list[Finding]) -> FileResult:
    if file.fixed and file.item.path is not None and file.error is None:
        try:
            write_atomic(file.item.path, file.text)
        except OSError as exc:
            file.error = _error(file.text, E_WRITE,
                                f"cannot write the fixed file: {exc.strerror or exc}")
    return FileResult(path=file.item.label, text=file.text, findings=tuple(findings),
                      error=file.error, sources=len(file.sources), fixed=file.fixed)
