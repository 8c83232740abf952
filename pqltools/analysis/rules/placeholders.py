"""Documentation placeholders copied into real expressions (reference §2.2)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pqltools.analysis.rules import LintContext, Rule, register
from pqltools.errors import Diagnostic, Severity

_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"?')
#: ``_{TENANT_ID}`` / ``{TENANT_ID}``: an upper-case word in braces, anywhere.
_BRACED = re.compile(r"_?\{[A-Z][A-Z0-9_]*\}")
#: ``<OrgID>`` outside strings (never valid PQL there).
_ANGLED_CODE = re.compile(r"<[A-Za-z_][A-Za-z0-9_-]*>")
#: Inside strings only capitalised ``<OrgID>``/``<SEGMENT_ID>`` (so ``"<b>"`` is left alone).
_ANGLED_STRING = re.compile(r"<[A-Z][A-Za-z0-9_-]*>")


@register
class DocPlaceholder(Rule):
    code = "PQL111"
    severity = Severity.ERROR
    explanation = (
        "Adobe's examples write the tenant namespace as `_{TENANT_ID}` and organisation values "
        "as `<OrgID>`. Copied as they are, they are not field names (the parser rejects "
        "them) or silently never match (inside strings). The check runs on the raw text, so "
        "it explains the syntax error a placeholder causes: syntax errors at the same place "
        "are replaced by this finding. Outside strings any `{UPPER_CASE}` or `<Name>` is "
        "reported; inside strings `{UPPER_CASE}` and capitalised `<Name>` (so `\"<b>\"` is "
        "not)."
    )
    why = (
        "A placeholder left from Adobe's documentation is either a syntax error or a string "
        "that never matches: the definition looks complete but finds no one."
    )
    bad = "_{TENANT_ID}.loyalty.points > 100"
    good = "_acme.loyalty.points > 100"
    supersedes_syntax = True

    def check_text(self, ctx: LintContext) -> Iterator[Diagnostic]:
        comments = [c.span for c in ctx.comments]
        strings = [(m.start(), m.end()) for m in _STRING.finditer(ctx.text)]

        def in_comment(offset: int) -> bool:
            return any(s.start <= offset < s.end for s in comments)

        def in_string(offset: int) -> bool:
            return any(a < offset < b for a, b in strings)

        seen: set[int] = set()
        for pattern, where in ((_BRACED, None), (_ANGLED_CODE, False), (_ANGLED_STRING, True)):
            for match in pattern.finditer(ctx.text):
                start = match.start()
                if start in seen or in_comment(start):
                    continue
                if where is not None and in_string(start) is not where:
                    continue
                seen.add(start)
                yield self.diagnostic(
                    ctx.span(start, match.end()),
                    f"documentation placeholder `{match.group()}` left in the expression",
                    help=_help(match.group()))


def _help(placeholder: str) -> str:
    if "TENANT" in placeholder.upper():
        return "replace it with your organization's tenant namespace, e.g. `_acme`"
    return "replace it with the real value for your organization"
