"""Lint rules as data: the :class:`Rule` base, the :class:`LintContext` rules read, the registry.

A rule's code, name and summary are its row in :mod:`pqltools.codes` (the one table of every
code); the rule is one small class with its check and the rest of its documentation::

    @register
    class NullComparison(Rule):
        code = "PQL120"
        severity = Severity.WARNING
        explanation = "..."     # what it does
        why = "..."             # why it matters
        bad = "person.name != null"       # example
        good = "person.name.isNotNull()"  # use instead
        nodes = (ast.Compare,)

        def check(self, node, ctx):
            ...
            yield self.diagnostic(node, "...", fix=...)

The engine (:func:`pqltools.analysis.lint.lint_source`) walks each tree once and hands every
node to the rules that list its class in ``nodes``; :meth:`Rule.finish` runs after the walk and
:meth:`Rule.check_text` once per source, even when it did not parse. Every module of this
package is imported by :func:`all_rules`, so a new rule is a new module (or class) here and
nothing else. ``python -m pqltools.analysis.rules`` prints ``docs/rules.md`` from these objects.

Codes: PQL1xx language and guardrail rules, PQL2xx schema-aware rules, PQL3xx evaluation-method
(eligibility) rules; the other ranges are not rules (see :mod:`pqltools.codes`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from dataclasses import field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pqltools import codes
from pqltools.analysis.config import Config
from pqltools.analysis.schema import Schema
from pqltools.analysis.scope import Scopes, resolve
from pqltools.analysis.types import StaticInfo
from pqltools.errors import Diagnostic, Fix, Severity, Span
from pqltools.records import record
from pqltools.syntax import ast
from pqltools.syntax.parser import Comment

if TYPE_CHECKING:
    from pqltools.definitions import Definition

__all__ = ["REGISTRY", "LintContext", "Rule", "all_rules", "get_rule", "register"]

#: Code -> rule instance, filled by :func:`register` as rule modules are imported.
REGISTRY: dict[str, Rule] = {}

_loaded = False

R = TypeVar("R", bound="type[Rule]")


@record
class LintContext:
    """What a rule may look at for one source.

    ``text`` is the expression text that spans index into (for a ``.pql`` file, the whole file
    with its comments); ``root`` the tree, or None when the text did not parse; ``definition``
    the JSON definition the expression came from (its ``evaluation_info``/``requested_methods``),
    if any. ``scopes`` and ``info`` are computed on first use and shared by all rules.
    ``comments`` are the ``--`` comments of a ``.pql`` source. ``state`` gives each rule a private dict for the current run (counts kept across nodes).
    """

    text: str
    root: ast.Expr | None
    config: Config = field(default_factory=Config)
    schema: Schema | None = None
    definition: Definition | None = None
    syntax: list[Diagnostic] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    _state: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    @cached_property
    def scopes(self) -> Scopes:
        """Name resolution of :attr:`root` (an empty result when there is no tree)."""
        return resolve(self.root, self.text) if self.root is not None else Scopes()

    @cached_property
    def info(self) -> StaticInfo:
        """Schema paths and static types of :attr:`root`'s nodes."""
        return StaticInfo(self.scopes, self.schema)

    def source(self, node: ast.Node | Span) -> str:
        """The source text of a node or span."""
        span = node if isinstance(node, Span) else node.span
        return self.text[span.start:span.end]

    def span(self, start: int, end: int) -> Span:
        """A span of :attr:`text` from offsets."""
        return Span.from_offsets(self.text, start, end)

    def state(self, rule: Rule) -> dict[str, Any]:
        """``rule``'s scratch space for this run."""
        return self._state.setdefault(rule.code, {})


class Rule:
    """Base class of every rule; subclasses set the class attributes and override checks.

    ``name`` and ``summary`` come from the code's row in :data:`pqltools.codes.CODES`.
    ``explanation`` says what the rule does, ``why`` why it matters, ``bad`` is an example
    it reports and ``good`` what to write instead (docs/rules.md and ``pql rule`` show these
    four sections; tests check that ``bad`` is reported and ``good`` is not).
    ``nodes``: the AST classes :meth:`check` receives. ``default_enabled``: off-by-default
    rules run only when selected. ``requires_schema``: skipped when no schema is configured.
    ``fix``: ``"safe"``, ``"unsafe"`` or None, for the docs (the fix itself is attached to each
    diagnostic). ``supersedes_syntax``: syntax errors overlapping this rule's findings are
    dropped, because the rule explains the same text better.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    explanation: ClassVar[str]
    why: ClassVar[str]
    bad: ClassVar[str]
    good: ClassVar[str]
    nodes: ClassVar[tuple[type[ast.Node], ...]] = ()
    default_enabled: ClassVar[bool] = True
    requires_schema: ClassVar[bool] = False
    fix: ClassVar[str | None] = None
    supersedes_syntax: ClassVar[bool] = False

    def check(self, node: Any, ctx: LintContext) -> Iterable[Diagnostic]:
        """Findings for one node of a class listed in :attr:`nodes`."""
        return ()

    def finish(self, ctx: LintContext) -> Iterable[Diagnostic]:
        """Findings after the whole tree was walked (only when the text parsed)."""
        return ()

    def check_text(self, ctx: LintContext) -> Iterable[Diagnostic]:
        """Findings from the raw text, run even when the text does not parse."""
        return ()

    def diagnostic(self, where: ast.Node | Span, message: str, *, fix: Fix | None = None,
                   help: str | None = None, severity: Severity | None = None) -> Diagnostic:
        """A finding of this rule at a node or span."""
        span = where if isinstance(where, Span) else where.span
        return Diagnostic(self.code, message, severity or self.severity, span, fix=fix,
                          help=help)

    def __repr__(self) -> str:
        return f"<rule {self.code} {self.name}>"


def register(cls: R) -> R:
    """Class decorator: validate a rule class and add an instance of it to :data:`REGISTRY`.

    The rule's code must have a row in :data:`pqltools.codes.CODES` in a rule category; the
    row gives the rule its ``name`` and ``summary``.
    """
    row = codes.CODES.get(getattr(cls, "code", ""))
    if row is None or not row.category.is_rule:
        raise TypeError(f"rule {cls.__name__}: code {getattr(cls, 'code', None)!r} has no lint "
                        "row in pqltools/codes.py: add one line there")
    for attr in ("name", "summary"):
        own = cls.__dict__.get(attr)
        if own is not None and own != getattr(row, attr):
            raise TypeError(f"rule {cls.__name__}: {attr} {own!r} differs from its row in "
                            f"pqltools/codes.py ({getattr(row, attr)!r}); keep it there only")
    cls.name, cls.summary = row.name, row.summary
    rule = cls()
    for attr in ("severity", "explanation", "why", "bad", "good"):
        if not getattr(rule, attr, None):
            raise TypeError(f"rule {cls.__name__} has no {attr}")
    clash = REGISTRY.get(rule.code)
    if clash is not None and type(clash).__qualname__ != cls.__qualname__:
        raise TypeError(f"rule code {rule.code} used by {type(clash).__name__} and "
                        f"{cls.__name__}")
    if any(r.name == rule.name and r.code != rule.code for r in REGISTRY.values()):
        raise TypeError(f"rule name {rule.name!r} is used twice")
    REGISTRY[rule.code] = rule
    return cls


def all_rules() -> list[Rule]:
    """Every registered rule, by code (imports every module of this package once)."""
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return [REGISTRY[code] for code in sorted(REGISTRY)]


def get_rule(code_or_name: str) -> Rule | None:
    """The rule with this code (``PQL120``) or name (``null-comparison``), or None."""
    rules = all_rules()
    wanted = code_or_name.strip()
    for rule in rules:
        if rule.code == wanted.upper() or rule.name == wanted.lower():
            return rule
    return None
