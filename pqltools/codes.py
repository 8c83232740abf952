"""Every diagnostic code pqltools reports, in one table: syntax, input, configuration, lint,
schema, eligibility and evaluation.

A code is one :class:`Code` row of :data:`CODES` (as in ruff's code table, which includes its
syntax and I/O errors): adding a code is adding a row here. A lint rule's row gives its name and
summary; the rule class in :mod:`pqltools.analysis.rules` (same code) holds the check and its
documentation, and registering a rule whose code has no row fails. ``pql rule CODE`` explains
any code of this table and ``docs/rules.md`` lists them all (generated; a test keeps it equal).

Ranges:

* ``PQL0xx`` syntax errors of the parser and the formatter (never disabled or suppressed)
* ``PQL09x`` input, configuration and tool errors (files that cannot be read or written,
  configuration and schema files, ``pql/json``, ``--fix`` safety, internal errors)
* ``PQL1xx`` lint rules, ``PQL2xx`` schema-aware lint rules, ``PQL3xx`` evaluation-method
  (eligibility) rules
* ``PQL5xx`` findings on Segmentation Service request bodies (schedules, ad-hoc activation,
  segment and export jobs: :mod:`pqltools.jobs`)
* ``PQL4xx`` evaluation errors of the interpreter (:mod:`pqltools.runtime`); until 0.1 they
  were numbered PQL300 and PQL310-PQL320, inside the eligibility range (see :data:`RENUMBERED`)
"""

from __future__ import annotations

import enum

from pqltools.errors import Severity
from pqltools.records import record

__all__ = ["CODES", "RENUMBERED", "Category", "Code", "get"]


class Category(str, enum.Enum):
    """What kind of problem a code reports (and which range it lives in)."""

    SYNTAX = "syntax"
    INPUT = "input"
    CONFIGURATION = "configuration"
    TOOL = "tool"
    LINT = "lint"
    SCHEMA = "schema"
    ELIGIBILITY = "eligibility"
    EVALUATION = "evaluation"
    REQUEST = "request"

    @property
    def is_rule(self) -> bool:
        """True for the categories whose codes are lint rules (selectable, suppressible)."""
        return self in (Category.LINT, Category.SCHEMA, Category.ELIGIBILITY)


SYNTAX, INPUT, CONFIGURATION, TOOL = (Category.SYNTAX, Category.INPUT, Category.CONFIGURATION,
                                      Category.TOOL)
LINT, SCHEMA, ELIGIBILITY, EVALUATION = (Category.LINT, Category.SCHEMA, Category.ELIGIBILITY,
                                         Category.EVALUATION)
REQUEST = Category.REQUEST


@record(frozen=True, slots=True)
class Code:
    """One diagnostic code: ``code`` (``PQL101``), kebab-case ``name``, ``category``, a one-line
    ``summary`` and, for codes that are not lint rules, an ``explanation`` for ``pql rule``
    and the ``severity`` it is reported with (a rule's severity is the rule's)."""

    code: str
    name: str
    category: Category
    summary: str
    explanation: str = ""
    severity: Severity = Severity.ERROR


_TABLE: tuple[Code, ...] = (
    # ---- syntax: the parser and the formatter
    Code("PQL001", "syntax-error", SYNTAX,
         "The text is not valid PQL: an unexpected token or an incomplete expression",
         "The message names what the parser expected there; common slips from other languages "
         "(`==`, `<>`, a missing `from`, chained comparisons) get the PQL spelling as help."),
    Code("PQL002", "invalid-string", SYNTAX,
         "A string literal is not closed or is malformed",
         "PQL strings are double-quoted. An unterminated string, a single-quoted string or "
         "typographic quotes are reported; the quote forms get a fix to plain double quotes."),
    Code("PQL003", "unexpected-character", SYNTAX,
         "A character that cannot start any PQL token",
         "`#`, `&&`, `||`, control characters or binary data: PQL writes `and`, `or`, `not`."),
    Code("PQL004", "invalid-escape", SYNTAX,
         "An unknown escape sequence in a string literal",
         "Only `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX` are escapes; "
         "a regular expression's `\\w` is written `\\\\w` (docs/language.md)."),
    Code("PQL005", "unbalanced-brackets", SYNTAX,
         "Brackets or parentheses do not match",
         "The message says where the bracket that is never closed (or never opened) stands."),
    Code("PQL006", "limit-exceeded", SYNTAX,
         "The expression exceeds a configured limit",
         "Nesting deeper than `limits.max-depth`, text longer than `limits.max-length`, or "
         "more errors than are reported; the limits are configuration (docs/configuration.md)."),
    Code("PQL007", "invalid-literal", SYNTAX,
         "A literal or name that PQL cannot represent",
         "A number out of range (`1e999`), `$0`, or, when writing PQL text from a tree or from "
         "pql/json, a name that is not a PQL identifier or a number PQL cannot spell."),
    Code("PQL008", "comment-inside-expression", SYNTAX,
         "A `--` comment inside the expression stops `pql format`",
         "The formatter keeps comments before and after the expression; one standing inside it "
         "cannot be kept in place, so the file is left unformatted until the comment moves."),
    # ---- input, configuration, tool
    Code("PQL090", "invalid-definition", INPUT,
         "The file cannot be read or is not a segment-definition file",
         "Not UTF-8, unreadable, not valid JSON, or JSON without a PQL expression where a "
         "segment definition (or a list or export of them) is expected."),
    Code("PQL091", "invalid-configuration", CONFIGURATION,
         "The configuration file is unusable",
         "`pyproject.toml` `[tool.pqltools]` or `pqltools.toml` is not valid TOML or has an "
         "unknown key or a bad value; the message names the file, line and key."),
    Code("PQL092", "invalid-schema", CONFIGURATION,
         "The schema file is unusable",
         "The XDM/JSON schema named by `schema` cannot be read or is not a schema."),
    Code("PQL093", "invalid-request-body", INPUT,
         "A Segmentation Service request body the job commands cannot run",
         "A segment job, export job, schedule or ad-hoc activation body that is not JSON, is "
         "not of the expected shape or misses a required field; the message names the file, "
         "line, column and the JSON path (docs/jobs.md)."),
    Code("PQL094", "invalid-profile-data", INPUT,
         "Profile data that a job command, `pql stream` or a SQL engine cannot read",
         "The `--profiles` file or folder is missing, of an unknown format, or holds a record "
         "that is not a profile; or a `pql stream` record (event, attribute update, tick) is "
         "malformed or out of time order (docs/streaming.md); or a profiles or events file "
         "given to `--engine duckdb|spark` is missing, is not Parquet, or holds a line that is "
         "not a JSON object (docs/engines.md). The message names the file and the line or "
         "row."),
    Code("PQL095", "invalid-pqljson", INPUT,
         "A pql/json expression that is not a valid PQL tree",
         "The message starts with the JSON path of the problem (docs/pqljson.md)."),
    Code("PQL096", "undefined-job-segment", INPUT,
         "A segment job names a segment that no definition defines",
         "Every `segmentId` of a segment job request must be defined in the files given with "
         "`--definitions`; the job fails with this error and the segment's place."),
    Code("PQL097", "fix-reverted", TOOL,
         "Fixes were not applied because they would have broken the file",
         "`--fix` re-lints after every round; a round that adds syntax errors is undone and "
         "reported here. It is a bug in a rule's fix: please report it.", Severity.WARNING),
    Code("PQL098", "write-failed", TOOL,
         "A fixed or formatted file could not be written back",
         "The file is left as it was (files are replaced atomically); the message names the "
         "operating system's reason."),
    Code("PQL099", "internal-error", TOOL,
         "A rule crashed on an expression",
         "Reported instead of a traceback, so the other files are still linted. It is a bug: "
         "please report it with the expression."),
    # ---- lint rules: the rule classes of pqltools/analysis/rules hold the checks and docs
    Code("PQL101", "unknown-function", LINT,
         "Call of a global function PQL does not have"),
    Code("PQL102", "unknown-method", LINT,
         "Call of a method PQL does not have"),
    Code("PQL103", "wrong-argument-count", LINT,
         "Too few or too many arguments for a catalogue function"),
    Code("PQL104", "wrong-argument-type", LINT,
         "Argument of the wrong type for a catalogue function"),
    Code("PQL105", "wrong-receiver-type", LINT,
         "Method applied to a kind of value it does not work on"),
    Code("PQL106", "variable-out-of-scope", LINT,
         "Variable used outside the select/exists/let that declares it"),
    Code("PQL107", "unbound-variable", LINT,
         "Capitalised name that nothing binds (looks like a variable)"),
    Code("PQL108", "duplicate-chain-label", LINT,
         "Two steps of one chain have the same label"),
    Code("PQL109", "chain-count-zero", LINT,
         "`COUNT(0)` in a chain step"),
    Code("PQL110", "chain-step-without-what", LINT,
         "Chain step without a `WHAT(...)` clause"),
    Code("PQL111", "doc-placeholder", LINT,
         "Documentation placeholder such as `_{TENANT_ID}` or `<OrgID>` left in"),
    Code("PQL120", "null-comparison", LINT,
         "Comparison with a field named `null` (PQL has no null literal)"),
    Code("PQL121", "constant-condition", LINT,
         "Condition whose value does not depend on the profile"),
    Code("PQL122", "chain-over-limit", LINT,
         "Chain with more sequential steps than the platform accepts"),
    Code("PQL123", "long-chain", LINT,
         "Chain with more sequential steps than recommended"),
    Code("PQL124", "too-many-aggregations", LINT,
         "More aggregation functions than audience validation recommends"),
    Code("PQL125", "deep-nesting", LINT,
         "Array/map navigation nested deeper than recommended"),
    Code("PQL126", "or-equalities-to-in", LINT,
         "Long `or` of equalities on one path: use `in [...]`"),
    Code("PQL127", "long-equals-list", LINT,
         "`equals` with a long list of values: use `in [...]`"),
    Code("PQL130", "negated-comparison", LINT,
         "`not(a = b)` is not `a != b`; `not(a in l)` is not `a notIn l`"),
    Code("PQL131", "array-navigation", LINT,
         "Path navigation through an array (`xEvent.eventType`)"),
    Code("PQL132", "inequality-excludes-missing", LINT,
         "`a != b` and `a notIn l` are false when `a` is missing"),
    Code("PQL201", "unknown-field", SCHEMA,
         "Field that the schema does not have"),
    Code("PQL202", "type-mismatch", SCHEMA,
         "Comparison between a field and a value of another type"),
    Code("PQL203", "occurs-on-non-date", SCHEMA,
         "`occurs` applied to a field that is not a date or date-time"),
    Code("PQL301", "requested-method-not-eligible", ELIGIBILITY,
         "evaluationInfo asks for streaming or edge, but the expression is not eligible"),
    # ---- evaluation: the interpreter
    Code("PQL400", "evaluation-error", EVALUATION,
         "The input cannot be evaluated",
         "A profile that is not a JSON object, events that are not a list of objects, a "
         "timestamp that cannot be read, or a function given a value it cannot take; the "
         "message points at the expression that read it."),
    Code("PQL410", "cannot-evaluate", EVALUATION,
         "A construct that cannot be evaluated offline",
         "`$2` and higher parameters, `@{...}` decision context data, more `^` than there are "
         "element levels, or a lambda with the wrong number of parameters."),
    Code("PQL411", "invalid-regex", EVALUATION,
         "A literal regular expression that RE2 cannot run",
         "`matches` and `regexGroup` use RE2 (no backreferences or lookaround), as Adobe's "
         "engines do; the pattern is checked when the expression is compiled."),
    Code("PQL414", "too-deep-to-compile", EVALUATION,
         "The expression is nested too deeply to compile",
         "Split the expression; the parser's `limits.max-depth` normally stops "
         "such input first (PQL006)."),
    Code("PQL430", "not-compilable-to-sql", EVALUATION,
         "A construct the SQL engines (DuckDB, Spark) refuse to compile",
         "The message names the construct and points at it; docs/engines.md lists every "
         "refusal. Nothing falls back to Python: evaluate such a definition with "
         "`--engine python`."),
    Code("PQL420", "invalid-segment-set", EVALUATION,
         "Segment definitions that cannot be evaluated together",
         "`pqltools.segment` (and `pql eval --definitions`) refuse two definitions with one id "
         "and `inSegment` references that form a cycle."),
)

_TABLE += (
    # ---- request bodies: pql lint on Segmentation Service API payloads (pqltools.jobs)
    Code("PQL501", "request-field", REQUEST,
         "A request body field is missing, of the wrong type or breaks a documented constraint",
         "For example a schedule with an empty `name` or a `type` or `state` the Schedules API "
         "does not accept; the message names the JSON path."),
    Code("PQL502", "schedule-segments", REQUEST,
         "A schedule's `properties.segments` is empty, malformed or redundant",
         "Segment ids must be strings, each listed once; `\"*\"` already means every segment.",
         Severity.WARNING),
    Code("PQL503", "invalid-cron", REQUEST,
         "A schedule's cron expression is malformed",
         "Adobe's schedules use Quartz-style cron (seconds first, `?` for day of month or day "
         "of week); the message points at the field that is wrong."),
    Code("PQL504", "schedule-too-frequent", REQUEST,
         "A schedule fires more than once in 24 hours",
         "The Segmentation Service runs a schedule at most once a day."),
    Code("PQL505", "invalid-activation", REQUEST,
         "An ad-hoc activation body's `activationInfo` is malformed",
         "Each destination id maps to a non-empty array of distinct audience ids."),
    Code("PQL506", "too-many-activation-audiences", REQUEST,
         "An ad-hoc activation names more audiences than one request may",
         "Split the activation into several requests."),
    Code("PQL507", "activation-export-ids", REQUEST,
         "`exportIds` in an ad-hoc activation body is ignored or malformed",
         "Version 2 of the ad-hoc activation API does not read `exportIds`.", Severity.WARNING),
)

#: code -> row, in code order.
CODES: dict[str, Code] = {row.code: row for row in sorted(_TABLE, key=lambda r: r.code)}

#: Old code -> new code(s), for codes that were renumbered or merged.
RENUMBERED: dict[str, str] = {
    "PQL300": "PQL400",
    "PQL310": "PQL410",
    "PQL311": "PQL411",
    "PQL312": "PQL101, PQL102",
    "PQL313": "PQL103",
    "PQL314": "PQL414",
    "PQL320": "PQL420",
}

_BY_NAME = {row.name: row for row in _TABLE}


def get(code_or_name: str) -> Code | None:
    """The row for a code (``PQL120``, any case) or a name (``null-comparison``), else None."""
    wanted = code_or_name.strip()
    return CODES.get(wanted.upper()) or _BY_NAME.get(wanted.lower())
