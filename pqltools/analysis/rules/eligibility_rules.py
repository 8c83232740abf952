"""Evaluation-method rules (PQL3xx), backed by the eligibility analyzer (reference §13)."""

from __future__ import annotations

from collections.abc import Iterator

from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.errors import Diagnostic, PQLError, Severity


@register
class RequestedMethodNotEligible(Rule):
    code = "PQL301"  # eligibility.ELIGIBILITY_CODE (a test checks they agree)
    severity = Severity.INFO
    explanation = (
        "A segment definition's `evaluationInfo` asks for streaming (`continuous`) or edge "
        "(`synchronous`) evaluation, but under the configured eligibility rules "
        "(`eligibility-rules`, default the May 2025 rules) the expression does not qualify: "
        "Adobe silently evaluates it in the daily batch instead. The message gives the first "
        "reason; `pql classify` lists them all. Exclusions that rest only on audiences nothing "
        "is known about are not reported. Promote the rule to an error with "
        '`severity = {PQL301 = "error"}` to make such definitions fail CI.'
    )
    why = (
        "Adobe does not refuse such a definition: it silently evaluates it in the daily batch, "
        "so an audience meant to update within minutes updates once a day."
    )
    bad = ('{"expression": {"type": "PQL", "format": "pql/text", "value": '
           '"xEvent[eventType = \\"checkout\\"]"}, "evaluationInfo": {"continuous": '
           '{"enabled": true}}}')
    good = ('{"expression": {"type": "PQL", "format": "pql/text", "value": '
            '"xEvent[eventType = \\"checkout\\" and timestamp occurs today]"}, '
            '"evaluationInfo": {"continuous": {"enabled": true}}}')

    def finish(self, ctx: LintContext) -> Iterator[Diagnostic]:
        definition = ctx.definition
        if definition is None or ctx.root is None:
            return
        if not definition.requested_methods - {"batch"}:
            return
        # imported here: linting a file without streaming or edge requests never needs it
        from pqltools.analysis.eligibility import classify, requested_method_diagnostics

        try:
            result = classify(ctx.root, rules=ctx.config.eligibility_rules)
        except PQLError:
            return
        for diag in requested_method_diagnostics(definition, result, severity=self.severity):
            yield self.diagnostic(diag.span, diag.message, help=diag.help)
