"""Linter configuration: which rules run, at what severity, with which limits and schema.

Configuration lives in ``[tool.pqltools]`` of a ``pyproject.toml`` or at the top level of a
``pqltools.toml``. :meth:`Config.load` walks up from a directory to the first file that has it
(``pqltools.toml`` wins over ``pyproject.toml`` in the same directory, as with ruff's
``ruff.toml``). Every key is documented in ``docs/configuration.md``.

Bad configuration raises :class:`ConfigError` naming the file, the line and the key.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import field, fields, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from pqltools import codes
from pqltools.errors import Diagnostic, PQLError, Severity, Span
from pqltools.records import record

if TYPE_CHECKING:
    import tomllib

__all__ = ["CONFIG_FILES", "Config", "ConfigError", "Limits"]

#: Files searched in each directory, in order of precedence.
CONFIG_FILES = ("pqltools.toml", "pyproject.toml")

_CODE_RE = re.compile(r"^(ALL|PQL\d{0,3})$")

EligibilityRules = Literal["2025", "legacy"]


class ConfigError(PQLError):
    """The configuration file is unusable: bad TOML, unknown key, wrong value type."""

    def __init__(self, message: str, *, path: str, span: Span | None = None,
                 text: str | None = None):
        self.path = path
        diag = Diagnostic("PQL091", message, Severity.ERROR,
                          span or Span(0, 0, 1, 1, 1, 1))
        super().__init__([diag], text)

    def _summary(self) -> str:
        d = self.diagnostics[0]
        return f"{self.path}:{d.span.line}:{d.span.column}: {d.message}"


@record(frozen=True, slots=True)
class Limits:
    """Guardrail thresholds (reference §13.5) and parser limits.

    ``chain_steps_error``/``chain_steps_warning``: a ``chain`` with more steps than this is an
    error/warning (Adobe's figures: 6 for streaming, 3 recommended). ``aggregations``: more
    aggregation calls than this in one expression is a warning. ``nesting``: array/map navigation
    nested deeper than this is a warning. ``in_list``: an OR of this many equalities on one path
    (or more) should be ``in [...]``. ``max_depth``/``max_length``: passed to the parser.
    """

    chain_steps_error: int = 6
    chain_steps_warning: int = 3
    aggregations: int = 3
    nesting: int = 2
    in_list: int = 3
    max_depth: int = 100
    max_length: int = 10_000_000


_LIMIT_KEYS = {f.name.replace("_", "-"): f.name for f in fields(Limits)}


@record(frozen=True)
class Config:
    """Everything that changes what :func:`pqltools.analysis.lint.lint` reports.

    ``select``: code prefixes to enable (empty = every rule enabled by default; ``"ALL"`` also
    enables rules that are off by default). ``ignore``: code prefixes to disable (wins over
    ``select``). ``severity``: per-code severity overrides. ``schema``: path to an XDM schema or
    ``{path: type}`` map (relative paths are resolved against the config file's directory).
    ``eligibility_rules``: ``"2025"`` (current) or ``"legacy"`` evaluation-method rules.
    ``fail_on``: the least severe severity that makes ``pql lint`` exit non-zero.
    ``per_file_ignores``: glob (matched against the file path, relative to the config
    directory when possible) -> code prefixes ignored in matching files. ``path``: the file the
    configuration came from (None for defaults).
    """

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    schema: Path | None = None
    eligibility_rules: EligibilityRules = "2025"
    fail_on: Severity = Severity.ERROR
    limits: Limits = field(default_factory=Limits)
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = None

    # ---- queries -------------------------------------------------------------------------

    def is_enabled(self, code: str, *, default: bool = True) -> bool:
        """Whether rule ``code`` runs, given whether it is on by default."""
        if _matches(code, self.ignore):
            return False
        if not self.select:
            return default
        if "ALL" in self.select:
            return True
        return _matches(code, self.select)

    def severity_for(self, code: str, default: Severity) -> Severity:
        """The severity ``code`` is reported with (an override, else the rule's default)."""
        return self.severity.get(code, default)

    def ignored_for_file(self, filename: str | Path | None) -> tuple[str, ...]:
        """Code prefixes ``per-file-ignores`` switches off for ``filename``."""
        if filename is None or not self.per_file_ignores:
            return ()
        candidates = {PurePosixPath(Path(filename).as_posix()).as_posix()}
        if self.path is not None:
            try:
                rel = Path(filename).resolve().relative_to(self.path.parent.resolve())
                candidates.add(rel.as_posix())
            except ValueError:
                pass
        out: list[str] = []
        for pattern, ignored in self.per_file_ignores.items():
            if any(fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(PurePosixPath(c).name, pattern)
                   for c in candidates):
                out.extend(ignored)
        return tuple(out)

    def fails(self, diagnostics: Iterable[Diagnostic]) -> bool:
        """True if any diagnostic is at least as severe as ``fail_on``."""
        return any(d.severity.rank <= self.fail_on.rank for d in diagnostics)

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with some fields replaced (the CLI's ``--select`` etc.)."""
        return replace(self, **changes)

    # ---- loading -------------------------------------------------------------------------

    @staticmethod
    def find(start_dir: str | Path | None = None) -> Path | None:
        """The configuration file that applies to ``start_dir`` (default: the current dir)."""
        here = Path(start_dir or Path.cwd()).resolve()
        if here.is_file():
            here = here.parent
        for directory in (here, *here.parents):
            own = directory / "pqltools.toml"
            if own.is_file():
                return own
            pyproject = directory / "pyproject.toml"
            if pyproject.is_file() and _has_tool_section(pyproject):
                return pyproject
        return None

    @classmethod
    def load(cls, start_dir: str | Path | None = None) -> Config:
        """Find and read the configuration for ``start_dir``; defaults when there is none."""
        found = cls.find(start_dir)
        return cls() if found is None else cls.from_file(found)

    @classmethod
    def from_file(cls, path: str | Path) -> Config:
        """Read one ``pqltools.toml`` or ``pyproject.toml`` (its ``[tool.pqltools]`` table)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read configuration: {exc.strerror}", path=str(path)) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError("configuration is not valid UTF-8", path=str(path)) from exc
        import tomllib  # only when there is a file to read (start-up time)

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _toml_error(exc, path, text) from exc
        except RecursionError:  # tomllib recurses once per nested array or inline table
            raise ConfigError("configuration is nested too deeply to read",
                              path=str(path)) from None
        if path.name == "pyproject.toml":
            table = data.get("tool", {}).get("pqltools", {})
            prefix = "tool.pqltools."
        else:
            table, prefix = data, ""
        return cls.from_dict(table, path=path, text=text, key_prefix=prefix)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None,
                  text: str | None = None, key_prefix: str = "") -> Config:
        """Build a configuration from a parsed table (keys in kebab-case, as in TOML)."""
        reader = _Reader(path, text, key_prefix)
        if not isinstance(data, Mapping):
            raise reader.error("", "the configuration must be a table")
        known = ("select", "ignore", "severity", "schema", "eligibility-rules", "fail-on",
                 "limits", "per-file-ignores")
        for key in data:
            if key not in known:
                raise reader.unknown(key, known)
        base = path.parent if path is not None else Path.cwd()
        schema_value = data.get("schema")
        schema: Path | None = None
        if schema_value is not None:
            schema = base / reader.string("schema", schema_value)
        rules = reader.string("eligibility-rules", data.get("eligibility-rules", "2025"))
        if rules not in ("2025", "legacy"):
            raise reader.error("eligibility-rules",
                               f'eligibility-rules must be "2025" or "legacy", not {rules!r}')
        severity_table = reader.table("severity", data.get("severity", {}))
        return cls(
            select=reader.codes("select", data.get("select", [])),
            ignore=reader.codes("ignore", data.get("ignore", [])),
            severity={reader.code("severity", k, exact=True): reader.severity(f"severity.{k}", v)
                      for k, v in severity_table.items()},
            schema=schema,
            eligibility_rules="legacy" if rules == "legacy" else "2025",
            fail_on=reader.severity("fail-on", data.get("fail-on", "error")),
            limits=reader.limits(data.get("limits", {})),
            per_file_ignores={reader.string("per-file-ignores", k):
                              reader.codes(f"per-file-ignores.{k}", v)
                              for k, v in reader.table("per-file-ignores",
                                                       data.get("per-file-ignores", {})).items()},
            path=path,
        )


def unknown_code(code: str) -> str | None:
    """Why ``code`` (a rule code or prefix, upper case) names no code of the registry, with a
    "did you mean"; None when it names one (or is ``ALL``).

    A bad ``--select`` would otherwise run no rule at all and report "All checks passed".
    """
    if code == "ALL" or code in codes.CODES or any(c.startswith(code) for c in codes.CODES):
        return None
    renumbered = codes.RENUMBERED.get(code)
    if renumbered is not None:
        return f"{code!r} was renumbered: use {renumbered}"
    import difflib

    close = difflib.get_close_matches(code, list(codes.CODES), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else " (see `pql rules --all`)"
    return f"{code!r} is not a pqltools code{hint}"


def _matches(code: str, prefixes: Iterable[str]) -> bool:
    return any(p == "ALL" or code.startswith(p) for p in prefixes)


def _has_tool_section(pyproject: Path) -> bool:
    import tomllib

    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        # A broken pyproject.toml that may not even be ours: only a file that names
        # [tool.pqltools] is reported as bad configuration.
        try:
            return "[tool.pqltools" in pyproject.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    tool = data.get("tool")
    return isinstance(tool, dict) and "pqltools" in tool


def _toml_error(exc: tomllib.TOMLDecodeError, path: Path, text: str) -> ConfigError:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    span = None
    if "(at end of document)" in str(exc):
        span = Span.from_offsets(text, len(text), len(text))
    elif match:
        line, col = int(match.group(1)), int(match.group(2))
        offset = _line_offset(text, line) + col - 1
        span = Span.from_offsets(text, offset, offset)
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
    return ConfigError(f"invalid TOML: {message}", path=str(path), span=span, text=text)


def _line_offset(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        nl = text.find("\n", offset)
        if nl == -1:
            return len(text)
        offset = nl + 1
    return offset


class _Reader:
    """Validates values one key at a time and builds errors that point at the key's line."""

    def __init__(self, path: Path | None, text: str | None, prefix: str):
        self.path = path
        self.text = text
        self.prefix = prefix

    def error(self, key: str, message: str) -> ConfigError:
        span = None
        if self.text is not None and key:
            leaf = key.split(".")[-1]
            found = re.search(rf'^\s*"?{re.escape(leaf)}"?\s*=', self.text, re.MULTILINE)
            if found:
                start = found.start() + len(found.group()) - len(found.group().lstrip())
                span = Span.from_offsets(self.text, start, start + len(leaf))
        return ConfigError(message, path=str(self.path or "<config>"), span=span, text=self.text)

    def unknown(self, key: str, known: Iterable[str], table: str = "") -> ConfigError:
        import difflib

        close = difflib.get_close_matches(key, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return self.error(key, f"unknown configuration key '{self.prefix}{table}{key}'{hint}")

    def string(self, key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise self.error(key, f"{self.prefix}{key} must be a string, "
                                  f"not {_toml_type(value)}")
        return value

    def table(self, key: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(key, f"{self.prefix}{key} must be a table, not {_toml_type(value)}")
        return value

    def code(self, key: str, value: Any, *, exact: bool = False) -> str:
        """A code prefix (``PQL1``) or, with ``exact``, a full code; ``exact`` values are table
        keys, so the error points at the value's own line."""
        text = self.string(key, value)
        if not _CODE_RE.match(text) or (exact and not re.fullmatch(r"PQL\d{3}", text)):
            want = "a rule code like PQL101" if exact else "a rule code or prefix like PQL1"
            raise self.error(f"{key}.{text}" if exact else key,
                             f"{self.prefix}{key}: {text!r} is not {want}")
        problem = unknown_code(text)
        if problem is not None:
            raise self.error(f"{key}.{text}" if exact else key, f"{self.prefix}{key}: {problem}")
        return text

    def codes(self, key: str, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error(key, f"{self.prefix}{key} must be a list of rule codes, "
                                  f"not {_toml_type(value)}")
        return tuple(self.code(key, v) for v in value)

    def severity(self, key: str, value: Any) -> Severity:
        text = self.string(key, value)
        try:
            return Severity(text.lower())
        except ValueError:
            raise self.error(key, f"{self.prefix}{key} must be one of error, warning, info, "
                                  f"hint, not {text!r}") from None

    def limits(self, value: Any) -> Limits:
        table = self.table("limits", value)
        values: dict[str, int] = {}
        for key, item in table.items():
            if key not in _LIMIT_KEYS:
                raise self.unknown(key, _LIMIT_KEYS, table="limits.")
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                raise self.error(key, f"{self.prefix}limits.{key} must be a non-negative "
                                      f"integer, not {item!r}")
            values[_LIMIT_KEYS[key]] = item
        return Limits(**values)


def _toml_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a float",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)
