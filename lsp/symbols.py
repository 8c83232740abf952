"""Document symbols: the definitions of a JSON file, and the variables of each expression.

A JSON definition file shows one symbol per definition (its name, else its id, else its index),
with the evaluation-method verdict as detail when the eligibility analyzer is available; its
children, like the top level of a ``.pql`` file, are the variables and chain labels the
expression declares.
"""

from __future__ import annotations

from lsprotocol import types
from pqltools_lsp import insight
from pqltools_lsp.documents import Region, Snapshot
from pqltools_lsp.settings import ServerOptions
from pqltools_lsp.variables import Variables

from pqltools.analysis.config import Config

__all__ = ["document_symbols"]


def _variable_symbols(snapshot: Snapshot, region: Region) -> list[types.DocumentSymbol]:
    variables = Variables.of_region(region)
    if variables is None:
        return []
    out = []
    for var in variables.all:
        rng = snapshot.index.range(region.to_doc(var.declaration[0]),
                                   region.to_doc(var.declaration[1]))
        kind = (types.SymbolKind.Event if var.kind == "chain label"
                else types.SymbolKind.Variable)
        out.append(types.DocumentSymbol(name=var.name, detail=var.kind, kind=kind, range=rng,
                                        selection_range=rng))
    return out


def document_symbols(snapshot: Snapshot, config: Config,
                     options: ServerOptions) -> list[types.DocumentSymbol]:
    """The outline of the document."""
    if snapshot.regions and snapshot.regions[0].definition is None:
        return _variable_symbols(snapshot, snapshot.regions[0])
    out = []
    for region in snapshot.regions:
        value_start, value_end = region.extent
        selection = snapshot.index.range(value_start, value_end)
        found = snapshot.definition_object(region)
        whole = snapshot.index.range(*found[1]) if found is not None else selection
        detail = insight.eligibility_summary(region, config) if options.eligibility else None
        out.append(types.DocumentSymbol(
            name=region.label, detail=detail or region.text[:60], kind=types.SymbolKind.Object,
            range=whole, selection_range=selection,
            children=_variable_symbols(snapshot, region)))
    return out
