"""Rules about ``chain(...)`` event sequences (reference §8.2, guardrails §13.5)."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.analysis.rules._util import clause_span, label_span
from pqltools.errors import Diagnostic, Severity
from pqltools.syntax import ast


@register
class DuplicateChainLabel(Rule):
    code = "PQL108"
    severity = Severity.ERROR
    explanation = (
        "Each step of a `chain` is labelled (`C0:`, `C1:`...). Labels name the steps in the "
        "Segment Builder and in between-step constraints, so a repeated label makes the "
        "sequence ambiguous."
    )
    why = (
        "Between-step constraints and the Segment Builder refer to steps by label; with two "
        "steps of one label it is unclear which event a constraint means."
    )
    bad = 'chain(xEvent, timestamp, [A: WHAT(eventType = "view"), A: WHAT(eventType = "buy")])'
    good = 'chain(xEvent, timestamp, [A: WHAT(eventType = "view"), B: WHAT(eventType = "buy")])'
    nodes = (ast.Chain,)

    def check(self, node: ast.Chain, ctx: LintContext) -> Iterator[Diagnostic]:
        first: dict[str, int] = {}
        for number, step in enumerate(node.steps, start=1):
            earlier = first.setdefault(step.label, number)
            if earlier != number:
                yield self.diagnostic(
                    label_span(ctx, step), f"chain step label `{step.label}` is already used "
                    f"by step {earlier} of this chain")


@register
class ChainCountZero(Rule):
    code = "PQL109"
    severity = Severity.ERROR
    explanation = (
        "`COUNT(n)` means the step must match at least n events. `COUNT(0)` is satisfied by "
        "no event at all, so the step constrains nothing; to require that an event did *not* "
        "happen, negate a chain: `not(chain(...))`."
    )
    why = (
        'A step that constrains nothing hides what was meant (usually "did not happen", which '
        "needs `not(chain(...))`), and the audience is larger than intended."
    )
    bad = 'chain(xEvent, timestamp, [A: WHAT(eventType = "checkout") COUNT(0)])'
    good = 'not(chain(xEvent, timestamp, [A: WHAT(eventType = "checkout")]))'
    nodes = (ast.ChainStep,)

    def check(self, node: ast.ChainStep, ctx: LintContext) -> Iterator[Diagnostic]:
        if node.count == 0:
            yield self.diagnostic(clause_span(ctx, node, "COUNT"),
                                  f"`COUNT(0)` in step `{node.label}` matches without any event")


@register
class ChainStepWithoutWhat(Rule):
    code = "PQL110"
    severity = Severity.ERROR
    explanation = (
        "Every documented chain step starts with `WHAT(predicate)`, the condition an event "
        "must meet; `WHEN`, `COUNT` and `WHERE` only refine it. A step without `WHAT` matches "
        "any event."
    )
    why = (
        "A step without `WHAT` matches any event, so the sequence is far looser than it reads "
        "and usually not what the author meant."
    )
    bad = "chain(xEvent, timestamp, [A: WHEN(today)])"
    good = 'chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.checkouts") WHEN(today)])'
    nodes = (ast.ChainStep,)

    def check(self, node: ast.ChainStep, ctx: LintContext) -> Iterator[Diagnostic]:
        if node.what is None:
            yield self.diagnostic(label_span(ctx, node),
                                  f"chain step `{node.label}` has no `WHAT(...)` clause")


class _ChainLength(Rule):
    """Shared check of the two chain-length guardrails (error and warning figures)."""

    #: How the message names the figure.
    figure = "the limit"

    def limit(self, ctx: LintContext) -> int:
        """The step count above which the rule reports."""
        return ctx.config.limits.chain_steps_error

    def applies(self, steps: int, ctx: LintContext) -> bool:
        return steps > self.limit(ctx)

    def check(self, node: ast.Chain, ctx: LintContext) -> Iterator[Diagnostic]:
        steps = len(node.steps)
        if self.applies(steps, ctx):
            yield self.diagnostic(
                node, f"chain has {steps} sequential steps; {self.figure} is "
                f"{self.limit(ctx)}",
                help="split the audience, or express some steps as independent conditions")


@register
class ChainOverLimit(_ChainLength):
    code = "PQL122"
    severity = Severity.ERROR
    explanation = (
        "Audience validation rejects definitions with more than 6 sequential events (critical "
        "validation, reference §8.2 and §13.5). The figure is `limits.chain-steps-error`."
    )
    why = (
        "Adobe's audience validation refuses the definition outright: it cannot be saved or "
        "activated."
    )
    bad = ("chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c), D: WHAT(d), "
           "E: WHAT(e), F: WHAT(f), G: WHAT(g)])")
    good = "chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c)])"
    nodes = (ast.Chain,)


@register
class LongChain(_ChainLength):
    code = "PQL123"
    severity = Severity.WARNING
    explanation = (
        "A newer version of Adobe's audience-validation page lowers the sequential-event "
        "limit from 6 to 3. Chains above `limits.chain-steps-warning` (3) are reported as a "
        "warning; above `limits.chain-steps-error` (6) `chain-over-limit` reports an error "
        "instead."
    )
    figure = "the recommended maximum"
    why = (
        "Adobe's newer validation warns from 3 sequential events; long chains are also the "
        "slowest definitions to evaluate."
    )
    bad = "chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c), D: WHAT(d)])"
    good = "chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c)])"
    nodes = (ast.Chain,)

    def limit(self, ctx: LintContext) -> int:
        return ctx.config.limits.chain_steps_warning

    def applies(self, steps: int, ctx: LintContext) -> bool:
        error_enabled = ctx.config.is_enabled(ChainOverLimit.code)
        over_error = steps > ctx.config.limits.chain_steps_error and error_enabled
        return steps > self.limit(ctx) and not over_error
