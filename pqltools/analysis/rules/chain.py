"""Rules about ``chain(...)`` event sequences (reference §8.2, guardrails §13.5)."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools.analysis.rules import Context, Rule, register
from pqltools.analysis.rules._util import clause_span, label_span
from pqltools.errors import Diagnostic, Severity
from pqltools.syntax import ast


@register
class DuplicateChainLabel(Rule):
    code = "PQL108"
    name = "duplicate-chain-label"
    severity = Severity.ERROR
    summary = "Two steps of one chain have the same label"
    explanation = (
        "Each step of a `chain` is labelled (`C0:`, `C1:`...). Labels name the steps in the "
        "Segment Builder and in between-step constraints, so a repeated label makes the "
        "sequence ambiguous."
    )
    bad = 'chain(xEvent, timestamp, [A: WHAT(eventType = "view"), A: WHAT(eventType = "buy")])'
    good = 'chain(xEvent, timestamp, [A: WHAT(eventType = "view"), B: WHAT(eventType = "buy")])'
    nodes = (ast.Chain,)

    def check(self, node: ast.Chain, ctx: Context) -> Iterator[Diagnostic]:
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
    name = "chain-count-zero"
    severity = Severity.ERROR
    summary = "`COUNT(0)` in a chain step"
    explanation = (
        "`COUNT(n)` means the step must match at least n events. `COUNT(0)` is satisfied by "
        "no event at all, so the step constrains nothing; to require that an event did *not* "
        "happen, negate a chain: `not(chain(...))`."
    )
    bad = 'chain(xEvent, timestamp, [A: WHAT(eventType = "checkout") COUNT(0)])'
    good = 'not(chain(xEvent, timestamp, [A: WHAT(eventType = "checkout")]))'
    nodes = (ast.ChainStep,)

    def check(self, node: ast.ChainStep, ctx: Context) -> Iterator[Diagnostic]:
        if node.count == 0:
            yield self.diagnostic(clause_span(ctx, node, "COUNT"),
                                  f"`COUNT(0)` in step `{node.label}` matches without any event")


@register
class ChainStepWithoutWhat(Rule):
    code = "PQL110"
    name = "chain-step-without-what"
    severity = Severity.ERROR
    summary = "Chain step without a `WHAT(...)` clause"
    explanation = (
        "Every documented chain step starts with `WHAT(predicate)`, the condition an event "
        "must meet; `WHEN`, `COUNT` and `WHERE` only refine it. A step without `WHAT` matches "
        "any event."
    )
    bad = "chain(xEvent, timestamp, [A: WHEN(today)])"
    good = 'chain(xEvent, timestamp, [A: WHAT(eventType = "commerce.checkouts") WHEN(today)])'
    nodes = (ast.ChainStep,)

    def check(self, node: ast.ChainStep, ctx: Context) -> Iterator[Diagnostic]:
        if node.what is None:
            yield self.diagnostic(label_span(ctx, node),
                                  f"chain step `{node.label}` has no `WHAT(...)` clause")


class _ChainLength(Rule):
    """Shared check of the two chain-length guardrails (error and warning figures)."""

    #: How the message names the figure.
    figure = "the limit"

    def limit(self, ctx: Context) -> int:
        """The step count above which the rule reports."""
        return ctx.config.limits.chain_steps_error

    def applies(self, steps: int, ctx: Context) -> bool:
        return steps > self.limit(ctx)

    def check(self, node: ast.Chain, ctx: Context) -> Iterator[Diagnostic]:
        steps = len(node.steps)
        if self.applies(steps, ctx):
            yield self.diagnostic(
                node, f"chain has {steps} sequential steps; {self.figure} is "
                f"{self.limit(ctx)}",
                help="split the audience, or express some steps as independent conditions")


@register
class ChainOverLimit(_ChainLength):
    code = "PQL122"
    name = "chain-over-limit"
    severity = Severity.ERROR
    summary = "Chain with more sequential steps than the platform accepts"
    explanation = (
        "Audience validation rejects definitions with more than 6 sequential events (critical "
        "validation, reference §8.2 and §13.5). The figure is `limits.chain-steps-error`."
    )
    bad = ("chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c), D: WHAT(d), "
           "E: WHAT(e), F: WHAT(f), G: WHAT(g)])")
    good = "chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c)])"
    nodes = (ast.Chain,)


@register
class LongChain(_ChainLength):
    code = "PQL123"
    name = "long-chain"
    severity = Severity.WARNING
    summary = "Chain with more sequential steps than recommended"
    explanation = (
        "A newer version of Adobe's audience-validation page lowers the sequential-event "
        "limit from 6 to 3. Chains above `limits.chain-steps-warning` (3) are reported as a "
        "warning; above `limits.chain-steps-error` (6) `chain-over-limit` reports an error "
        "instead."
    )
    figure = "the recommended maximum"
    bad = "chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c), D: WHAT(d)])"
    good = "chain(xEvent, timestamp, [A: WHAT(a), B: WHAT(b), C: WHAT(c)])"
    nodes = (ast.Chain,)

    def limit(self, ctx: Context) -> int:
        return ctx.config.limits.chain_steps_warning

    def applies(self, steps: int, ctx: Context) -> bool:
        error_enabled = ctx.config.is_enabled(ChainOverLimit.code)
        over_error = steps > ctx.config.limits.chain_steps_error and error_enabled
        return steps > self.limit(ctx) and not over_error
