"""Work reused between edits of a JSON definition file gives exactly the from-scratch results.

After each edit the server builds the snapshot from the previous one (only the edited definition
is read again, the others are kept or moved) and answers from results memoised per definition
(parse, lint, tokens and symbols placed relative to the expression string's opening quote). For
generated definition files and edit sequences (inside expression strings, which is the reused
path, and anywhere else, which reads the file again), each snapshot built that way gives the
same regions, diagnostics, semantic tokens and document symbols as a snapshot built from the
text alone with every memo emptied, computed by mapping every offset through the document.
"""

from __future__ import annotations

import functools
import importlib
import json
import pkgutil
from typing import Any

import pqltools_lsp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pqltools_lsp import diagnostics, insight, symbols, tokens
from pqltools_lsp.documents import Region, Snapshot
from pqltools_lsp.memo import Memo
from pqltools_lsp.settings import ConfigStore, ServerOptions

from pqltools.analysis.eligibility import classify
from pqltools.errors import PQLError

EXPRESSIONS = [
    'homeAddress.countryCode = "US"', "person.birthDate.getYear() < 1990",
    'xEvent[eventType = "commerce.purchases"].count() > 2', "_acme.loyalty.points > 1200",
    'person.name = "Zoë 😋"', 'a.b = "say \\"hi\\""', "select X from xEvent where X.a = 1",
    "xEvent.timestamp occurs < 8 days before now", "a =", 'b = "unterminated', "c in [1, 2]",
    "exists X in xEvent: X.total > 3 and X.kind = \"é\"", "d = true and e = 1 or f = 2",
]
#: What an editor types inside an expression: most change only the expression (the reused
#: path); quotes, backslashes and control characters change the JSON string (read again).
SAFE = ["1", "a", " ", ".", "(", ")", "é", "😋", "\u2028", "and ", "="]
TYPED = SAFE * 4 + ['"', "\\", '\\"', "\t"]


def _definition(i: int, expression: str, name: str | None, info: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"expression": {"type": "PQL", "format": "pql/text",
                                           "value": expression}}
    if name is not None:
        item["name"] = f"{name} {i}"
    if info:
        item["evaluationInfo"] = {"continuous": {"enabled": i % 2 == 0}}
    return item


@st.composite
def documents(draw: st.DrawFn) -> str:
    count = draw(st.integers(1, 5))
    items = [_definition(i, draw(st.sampled_from(EXPRESSIONS)),
                         draw(st.sampled_from([None, "seg", "Zoë", "😋"])), draw(st.booleans()))
             for i in range(count)]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, count)), _definition(
            count, "", None, False) | {"expression": {"format": "pql/json", "value": {
                "nodeType": "literal", "literalType": "Boolean", "value": True}}})
    body: Any = items if draw(st.booleans()) else {"segments": items}
    return json.dumps(body, indent=draw(st.sampled_from([None, 2])),
                      ensure_ascii=draw(st.booleans()))


def _inside_strings(text: str) -> list[int]:
    """Offsets strictly inside the ``"value"`` strings of a JSON text (where editors type)."""
    out = []
    key = '"value": "'
    at = text.find(key)
    while at != -1:
        start = at + len(key)
        end = start
        while end < len(text) and text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        out.extend(range(start, min(end, len(text)) + 1))
        at = text.find(key, end)
    return out


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A document and the texts it goes through, one edit at a time."""
    text = original = draw(documents())
    versions = []
    for _ in range(draw(st.integers(1, 8))):
        inside = _inside_strings(text)
        if inside and draw(st.integers(0, 4)):
            start = draw(st.sampled_from(inside))
        else:
            start = draw(st.integers(0, len(text)))
        end = min(len(text), start + draw(st.sampled_from([0, 0, 0, 0, 1, 1, 2, 5])))
        typed = draw(st.sampled_from(["", *TYPED])) if end > start else draw(
            st.sampled_from(TYPED))
        text = text[:start] + typed + text[end:]
        versions.append(text)
    return original, versions


def _forget_everything() -> None:
    """Empty every memo of the server, so that a result is computed from scratch."""
    for info in pkgutil.iter_modules(pqltools_lsp.__path__):
        module = importlib.import_module(f"pqltools_lsp.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Memo):
                value.clear()


def _regions(snap: Snapshot) -> list[object]:
    out: list[object] = []
    for region in snap.regions:
        d = region.definition
        assert d is not None
        out.append((region.text, d.expression, d.format, d.value_span, d.raw, d.name, d.index,
                    region.fingerprint, region.editable, region.extent,
                    [region.to_doc(i) for i in range(len(region.text) + 1)]))
    return out


def _ranges_by_mapping(snap: Snapshot, findings: list[diagnostics.LocatedDiagnostic]
                       ) -> list[object]:
    """Each finding's range mapped offset by offset through the document (no shortcut)."""
    return [(snap.index.range(*diagnostics.document_offsets(region, diag)), diag.code,
             diag.message if not diag.help else f"{diag.message}\nhelp: {diag.help}")
            for region, diag in findings]


def _results(snap: Snapshot, store: ConfigStore) -> dict[str, object]:
    config = store.for_path(snap.path)
    findings = diagnostics.analyse(snap, config)
    published = [diagnostics.to_lsp(snap, f) for f in findings]
    outline = symbols.document_symbols(snap, config.config, ServerOptions())
    data, text = tokens.encode_json(snap)  # spliced from the text kept per definition
    return {
        "problems": [(d.code, d.message, d.span) for d in snap.problems],
        "diagnostics": [(d.range, d.code, d.message) for d in published],
        "symbols": outline,
        "symbols as sent": json.loads(symbols.to_json(outline, _converter().unstructure)),
        "tokens": tokens.encode(snap),
        "tokens as sent": (data, json.loads(text)),
    }


@functools.cache
def _converter() -> Any:
    """The server's converter (which keeps each symbol's data)."""
    from pqltools_lsp.server import create_server

    return create_server().protocol._converter


def _reference(snap: Snapshot, store: ConfigStore) -> dict[str, object]:
    """:func:`_results` of a snapshot built from scratch, positions mapped one by one."""
    config = store.for_path(snap.path)
    findings = diagnostics.analyse(snap, config)
    from pygls.protocol import default_converter

    outline = symbols.document_symbols(snap, config.config, ServerOptions())
    data = tokens._encode_each(snap)
    return {
        "problems": [(d.code, d.message, d.span) for d in snap.problems],
        "diagnostics": _ranges_by_mapping(snap, findings),
        "symbols": outline,
        "symbols as sent": default_converter().unstructure(outline),
        "tokens": data,
        "tokens as sent": (data, data),
    }


def _anchored_equals_mapping(snap: Snapshot, region: Region) -> None:
    anchored = snap.anchored(region)
    if anchored is None:
        return
    for offset in range(-1, len(region.text) + 2):
        assert (anchored.line, anchored.column(offset)) == \
            snap.index.line_column(region.to_doc(offset))


def _verdict_equals_classify(region: Region, store: ConfigStore) -> None:
    """The verdict shown (computed from the memoised parse) is the library's for the
    definition."""
    config = store.for_path(None).config
    try:
        expected: object = classify(region.definition, rules=config.eligibility_rules)
    except PQLError:
        expected = None
    assert insight._classify(region, config) == expected


@settings(max_examples=60, deadline=None)
@given(edited(), st.sampled_from(["utf-16", "utf-8", "utf-32"]))
def test_results_after_edits_equal_results_from_scratch(case: tuple[str, list[str]],
                                                        encoding: str) -> None:
    original, versions = case
    uri = "file:///w/definitions.json"
    store = ConfigStore(None)
    _forget_everything()
    chain = Snapshot.build(uri, original, 1, encoding=encoding)
    _results(chain, store)
    for version, text in enumerate(versions, start=2):
        chain = Snapshot.build(uri, text, version, encoding=encoding, previous=chain)
        if chain.regions and chain.regions[0].definition is not None:
            chain.json_spans  # noqa: B018 - moved for the next edit when computed
        got = _results(chain, store)
        _forget_everything()
        fresh = Snapshot.build(uri, text, version, encoding=encoding)
        assert chain.text == fresh.text
        if fresh.regions and fresh.regions[0].definition is not None:
            assert _regions(chain) == _regions(fresh)
            assert chain.json_spans == fresh.json_spans
            for region in fresh.regions:
                assert chain.definition_object(region) == fresh.definition_object(region)
                _anchored_equals_mapping(fresh, region)
                _verdict_equals_classify(region, store)
        assert got == _reference(fresh, store)


def test_an_edit_inside_one_expression_reuses_the_other_definitions(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The snapshot of an edit inside one expression keeps the definitions before it (the same
    objects) and re-lints, re-classifies and re-places only the edited one, in a file of more
    definitions than the memos once held (256 lint results)."""
    text = json.dumps([_definition(i, EXPRESSIONS[i % 4], "seg", True) for i in range(300)],
                      indent=2)
    store = ConfigStore(None)
    previous = Snapshot.build("file:///w/d.json", text)
    before = _results(previous, store)
    at = text.index("1990") + 4
    snap = Snapshot.build("file:///w/d.json", text[:at] + "1" + text[at:], previous=previous)
    assert snap.regions[0] is previous.regions[0]
    linted: list[str] = []
    original = diagnostics.lint_source

    def counting(source: str, **kwargs: Any) -> Any:
        linted.append(source)
        return original(source, **kwargs)

    monkeypatch.setattr(diagnostics, "lint_source", counting)
    after = _results(snap, store)
    assert linted == [snap.regions[1].text]
    assert after["symbols"][0] is before["symbols"][0]  # type: ignore[index]
    assert after != before


def test_a_result_being_computed_is_waited_for_not_computed_again() -> None:
    """Diagnostics, tokens and symbols threads all need the edited definition's parse at once:
    the second thread to ask waits for the first one's result."""
    import threading

    memo: Memo[str, int] = Memo(4)
    second_done = threading.Event()
    calls: list[str] = []

    def first() -> int:
        calls.append("first")
        # the second get() runs meanwhile; it returns only once this result exists (before
        # the fix it computed its own at once)
        second_done.wait(0.5)
        return 1

    def second() -> int:
        calls.append("second")
        return 2

    results: dict[str, int] = {}
    worker = threading.Thread(target=lambda: results.update(a=memo.get("k", first)))
    worker.start()
    while "first" not in calls:
        threading.Event().wait(0.001)
    results["b"] = memo.get("k", second)
    second_done.set()
    worker.join()
    assert results == {"a": 1, "b": 1}
    assert calls == ["first"]


def test_a_failed_or_reentrant_computation_is_computed_by_the_caller() -> None:
    import threading

    memo: Memo[str, int] = Memo(4)
    started, release = threading.Event(), threading.Event()

    def failing() -> int:
        started.set()
        release.wait(5)
        raise ValueError("boom")

    errors: list[BaseException] = []

    def run() -> None:
        try:
            memo.get("k", failing)
        except ValueError as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    started.wait(5)
    threading.Timer(0.05, release.set).start()
    assert memo.get("k", lambda: 7) == 7  # waited, saw the failure, computed its own
    worker.join()
    assert len(errors) == 1
    # the same key asked again while computing it, in the same thread: no deadlock
    assert memo.get("r", lambda: memo.get("r", lambda: 3) + 1) in (3, 4)


def test_symbols_and_diagnostics_serialize_as_before_when_their_data_is_kept() -> None:
    """The server's converter keeps the JSON-ready data of each symbol and diagnostic object;
    what it sends is what lsprotocol's converter makes, the second time too."""
    from lsprotocol import types
    from pqltools_lsp.server import create_server
    from pygls.protocol import default_converter

    text = json.dumps([_definition(i, EXPRESSIONS[i], "Zoë", True)
                       for i in range(len(EXPRESSIONS))], indent=2)
    snap = Snapshot.build("file:///w/d.json", text)
    store = ConfigStore(None)
    config = store.for_path(None)
    findings = diagnostics.analyse(snap, config)
    published = types.PublishDiagnosticsParams(
        uri=snap.uri, version=3, diagnostics=[diagnostics.to_lsp(snap, f) for f in findings])
    outline = symbols.document_symbols(snap, config.config, ServerOptions())
    assert published.diagnostics and any(s.children for s in outline)
    converter = create_server().protocol._converter
    expected = default_converter()
    for _ in range(2):
        assert json.dumps(converter.unstructure(outline)) == \
            json.dumps(expected.unstructure(outline))
        assert json.dumps(converter.unstructure(published)) == \
            json.dumps(expected.unstructure(published))
