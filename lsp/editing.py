"""Editor aids on one document: signature help, highlights of variables, folding ranges, the
evaluation-method code lens, and the ``source.fixAll.pql`` action.

Signature help reads the scanned tokens before the cursor (the call being typed does not parse
yet); highlights need the syntax tree; folding ranges come from brackets and comment blocks
that span lines, and from each definition object of a JSON file.
"""

from __future__ import annotations

from lsprotocol import types
from pqltools_lsp import insight
from pqltools_lsp.diagnostics import LocatedDiagnostic
from pqltools_lsp.documents import Snapshot
from pqltools_lsp.hover import function_markdown
from pqltools_lsp.lexing import scan
from pqltools_lsp.variables import Variables

from pqltools import catalog
from pqltools.analysis.config import Config

__all__ = ["FIX_ALL", "code_lenses", "fix_all", "folding_ranges", "highlights",
           "signature_help"]

#: The code action kind of "apply every safe fix in this file".
FIX_ALL = "source.fixAll.pql"


def signature_help(snapshot: Snapshot, position: types.Position) -> types.SignatureHelp | None:
    """The signature of the function or method whose argument list holds the cursor."""
    offset = snapshot.index.offset(position)
    found = snapshot.region_at(offset)
    if found is None:
        return None
    region, at = found
    tokens = scan(region.text, region.comments, end=at)
    if tokens and tokens[-1].end == at and tokens[-1].kind in ("string", "comment") and (
            tokens[-1].kind == "comment" or not tokens[-1].text.endswith('"')
            or len(tokens[-1].text) == 1):
        return None  # inside a string or a comment
    stack: list[tuple[int, int]] = []  # (index of the token before "(", commas so far)
    for i, tok in enumerate(tokens):
        if tok.text in ("(", "[", "{"):
            stack.append((i - 1 if tok.text == "(" else -1, 0))
        elif tok.text in (")", "]", "}") and stack:
            stack.pop()
        elif tok.text == "," and stack:
            name_at, commas = stack[-1]
            stack[-1] = (name_at, commas + 1)
    while stack:
        name_at, commas = stack.pop()
        if name_at < 0 or tokens[name_at].kind != "word":
            if name_at == -1:
                continue  # inside [...] or {...}: look further out
            return None
        is_method = name_at > 0 and tokens[name_at - 1].text == "."
        spec = catalog.lookup(tokens[name_at].text, "method" if is_method else "global")
        if spec is None:
            return None
        params = [types.ParameterInformation(label=_param_label(p)) for p in spec.params]
        active = min(commas, len(spec.params) - 1) if spec.params else 0
        if spec.params and spec.params[-1].variadic:
            active = min(commas, len(spec.params) - 1)
        return types.SignatureHelp(
            signatures=[types.SignatureInformation(
                label=spec.signature, parameters=params, active_parameter=active,
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                  value=function_markdown(spec)))],
            active_signature=0, active_parameter=active)
    return None


def _param_label(param: catalog.ParamSpec) -> str:
    """The parameter as it is written inside :attr:`FunctionSpec.signature`."""
    text = f"{param.name}: {param.type}"
    if param.variadic:
        text = f"{text}, ..."
    return f"[{text}]" if param.optional else text


def highlights(snapshot: Snapshot,
               position: types.Position) -> list[types.DocumentHighlight] | None:
    """Every occurrence of the variable under the cursor (its declaration as a write)."""
    found = snapshot.region_at(snapshot.index.offset(position))
    if found is None:
        return None
    region, at = found
    variables = Variables.of_region(region)
    var = variables.at(at) if variables is not None else None
    if var is None:
        return None
    return [types.DocumentHighlight(
        range=snapshot.index.range(region.to_doc(start), region.to_doc(end)),
        kind=types.DocumentHighlightKind.Write if (start, end) == var.declaration
        else types.DocumentHighlightKind.Read) for start, end in var.occurrences]


def folding_ranges(snapshot: Snapshot) -> list[types.FoldingRange]:
    """Brackets and comment blocks over several lines; each definition of a JSON file."""
    index = snapshot.index
    out: list[types.FoldingRange] = []
    for region in snapshot.regions:
        found = snapshot.definition_object(region)
        if found is not None:
            first, last = index.line_column(found[1][0])[0], index.line_column(found[1][1])[0]
            if last > first:
                out.append(types.FoldingRange(start_line=first, end_line=last - 1,
                                              kind=types.FoldingRangeKind.Region))
        if not region.editable:
            continue
        opened: list[int] = []
        comment_run: list[int] = []
        for tok in scan(region.text, region.comments):
            line = index.line_column(region.to_doc(tok.start))[0]
            if tok.kind == "comment":
                if comment_run and line != comment_run[-1] + 1:
                    _comment_fold(out, comment_run)
                    comment_run = []
                comment_run.append(line)
                continue
            if tok.text in ("(", "[", "{"):
                opened.append(line)
            elif tok.text in (")", "]", "}") and opened:
                start = opened.pop()
                if line > start:
                    out.append(types.FoldingRange(start_line=start, end_line=line - 1))
        _comment_fold(out, comment_run)
    return sorted(out, key=lambda r: (r.start_line, r.end_line))


def _comment_fold(out: list[types.FoldingRange], lines: list[int]) -> None:
    if len(lines) > 1:
        out.append(types.FoldingRange(start_line=lines[0], end_line=lines[-1],
                                      kind=types.FoldingRangeKind.Comment))


def code_lenses(snapshot: Snapshot, config: Config) -> list[types.CodeLens]:
    """The evaluation-method verdict above each definition (above a ``.pql`` expression)."""
    out: list[types.CodeLens] = []
    for region in snapshot.regions:
        summary = insight.eligibility_summary(region, config)
        if summary is None:
            continue
        found = snapshot.definition_object(region)
        start = found[1][0] if found is not None else region.extent[0]
        if region.definition is None:
            start = region.parse.expr.span.start if region.parse.expr is not None else 0
        line = snapshot.index.line_column(start)[0]
        rng = types.Range(start=types.Position(line=line, character=0),
                          end=types.Position(line=line, character=0))
        out.append(types.CodeLens(range=rng, command=types.Command(
            title=f"evaluation: {summary}", command="")))
    return out


def fix_all(snapshot: Snapshot, findings: list[LocatedDiagnostic]) -> types.CodeAction | None:
    """One action applying every safe autofix of the document whose edits do not overlap."""
    edits: list[types.TextEdit] = []
    taken: list[tuple[int, int]] = []
    for region, diag in findings:
        if region is None or diag.fix is None or not diag.fix.safe or not region.editable:
            continue
        spans = [(region.to_doc(e.start), region.to_doc(e.end)) for e in diag.fix.edits]
        if any(s < t_end and t_start < e or s == e == t_start
               for s, e in spans for t_start, t_end in taken):
            continue  # overlaps an edit already taken: the next fixAll run applies it
        taken.extend(spans)
        edits.extend(types.TextEdit(range=snapshot.index.range(s, e),
                                    new_text=region.quote(edit.replacement))
                     for (s, e), edit in zip(spans, diag.fix.edits, strict=True))
    if not edits:
        return None
    return types.CodeAction(title="Fix all safe pqltools findings", kind=FIX_ALL,
                            edit=types.WorkspaceEdit(changes={snapshot.uri: edits}))
