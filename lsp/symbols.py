"""Document symbols: the definitions of a JSON file, and the variables of each expression.

A JSON definition file shows one symbol per definition (its name, else its id, else its index),
with the evaluation-method verdict as detail when the eligibility analyzer is available; its
children, like the top level of a ``.pql`` file, are the variables and chain labels the
expression declares.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pqltools_lsp import insight
from pqltools_lsp.documents import Anchored, Region, Snapshot
from pqltools_lsp.memo import PER_DEFINITION, Memo
from pqltools_lsp.settings import ServerOptions
from pqltools_lsp.variables import Variables

from pqltools.analysis.config import Config

__all__ = ["document_symbols", "to_json"]


def _variable_symbols(snapshot: Snapshot, region: Region,
                      anchored: Anchored | None = None) -> list[types.DocumentSymbol]:
    variables = Variables.of_region(region)
    if variables is None:
        return []
    out = []
    for var in variables.all:
        start, end = var.declaration
        rng = (_range(anchored.line, anchored.column(start), anchored.line,
                      anchored.column(end)) if anchored is not None
               else snapshot.index.range(region.to_doc(start), region.to_doc(end)))
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
    index = snapshot.index
    rules = config.eligibility_rules if options.eligibility else None
    for region in snapshot.regions:
        found = snapshot.definition_object(region)
        whole = ((*index.line_column(found[1][0]), *index.line_column(max(found[1])))
                 if found is not None else None)
        anchor = snapshot.anchor(region)
        if anchor is None:
            out.append(_definition_symbol(snapshot, region, None, whole, config, rules))
            continue
        # a definition whose text and place did not change has the same symbol
        key = (region.raw, snapshot.encoding, anchor, whole, region.label, region.fingerprint,
               rules)
        out.append(_SYMBOLS.get(key, functools.partial(
            _anchored_symbol, snapshot, region, whole, config, rules)))
    return out


#: Symbols of JSON definitions, by what they are made of (see :func:`document_symbols`).
_SYMBOLS: Memo[tuple[object, ...], types.DocumentSymbol] = Memo(PER_DEFINITION)


def _anchored_symbol(snapshot: Snapshot, region: Region,
                     whole: tuple[int, int, int, int] | None, config: Config,
                     rules: str | None) -> types.DocumentSymbol:
    return _definition_symbol(snapshot, region, snapshot.anchored(region), whole, config, rules)


def _definition_symbol(snapshot: Snapshot, region: Region, anchored: Anchored | None,
                       whole: tuple[int, int, int, int] | None, config: Config,
                       rules: str | None) -> types.DocumentSymbol:
    if anchored is not None:  # on one line: no lookup of the expression's ends
        selection = _range(anchored.line, anchored.column(0), anchored.line,
                           anchored.column(len(region.text)))
    else:
        selection = snapshot.index.range(*region.extent)
    detail = insight.eligibility_summary(region, config) if rules is not None else None
    return types.DocumentSymbol(
        name=region.label, detail=detail or region.text[:60], kind=types.SymbolKind.Object,
        range=_range(*whole) if whole is not None else selection, selection_range=selection,
        children=_variable_symbols(snapshot, region, anchored))


def _range(line: int, character: int, end_line: int, end_character: int) -> types.Range:
    return types.Range(start=types.Position(line=line, character=character),
                       end=types.Position(line=end_line, character=end_character))


#: Each symbol's JSON text, by identity (the symbol kept so that its id is not reused): the
#: symbols of unchanged definitions are the same objects after an edit (:data:`_SYMBOLS`).
_TEXTS: Memo[int, tuple[types.DocumentSymbol, str]] = Memo(4 * PER_DEFINITION)


def to_json(found: list[types.DocumentSymbol], unstructure: Callable[[Any], Any]) -> str:
    """``found`` as a JSON array, each symbol written out once (``unstructure``: the
    server's converter), so an edit writes out the edited definition's symbol alone."""
    texts = [_TEXTS.get(id(symbol), functools.partial(_written, symbol, unstructure))[1] for symbol in found]
    return "[" + ",".join(texts) + "]"


def _written(symbol: types.DocumentSymbol,
             unstructure: Callable[[Any], Any]) -> tuple[types.DocumentSymbol, str]:
    """``symbol`` (kept alive while its id is a key) and its compact JSON text."""
    return symbol, json.dumps(unstructure(symbol), separators=(",", ":"))
