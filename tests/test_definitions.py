"""``pqltools.load_definitions``: envelopes, pql/json, spans inside the JSON file, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pqltools import DefinitionError, load_definitions, parse, to_json
from pqltools.syntax import ast

ONE = """{
  "name": "People in the USA",
  "id": "seg-1",
  "expression": {
    "type": "PQL",
    "format": "pql/text",
    "value": "name = \\"caf\\u00e9\\" and zz"
  },
  "evaluationInfo": {
    "batch": {"enabled": false},
    "continuous": {"enabled": true},
    "synchronous": {"enabled": true}
  }
}
"""


def defn(value: str, **extra: object) -> dict[str, object]:
    return {"expression": {"type": "PQL", "format": "pql/text", "value": value}, **extra}


def test_one_definition(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(ONE)
    [d] = load_definitions(path)
    assert d.path == str(path)
    assert d.index == 0
    assert d.expression == 'name = "café" and zz'
    assert d.format == "pql/text"
    assert (d.id, d.name) == ("seg-1", "People in the USA")
    assert d.evaluation_info == {"batch": False, "continuous": True, "synchronous": True}
    assert d.requested_methods == {"streaming", "edge"}
    assert d.label == f'{path}[0] "People in the USA"'


def test_span_after_escaped_quote_and_unicode_escape_maps_into_the_file() -> None:
    [d] = load_definitions("one.json", text=ONE)
    tree = parse(d.expression)
    assert isinstance(tree, ast.BoolOp)
    zz, cafe = tree.values[1], tree.values[0].right  # type: ignore[attr-defined]
    # line 7 is `    "value": "name = \"caf\u00e9\" and zz"`; the opening quote is column 14
    span = d.file_span(zz.span)
    assert (span.line, span.column, span.end_line, span.end_column) == (7, 40, 7, 42)
    span = d.file_span(cafe.span)  # the string literal, escapes included
    assert (span.line, span.column, span.end_column) == (7, 22, 35)
    assert ONE.splitlines()[6][span.column - 1 : span.end_column - 1] == '\\"caf\\u00e9\\"'


def test_span_after_surrogate_pair_escape() -> None:
    text = '{"expression": {"format": "pql/text", "value": "a = \\"\\ud83d\\ude00\\" and zz"}}'
    [d] = load_definitions("s.json", text=text)
    assert d.expression == 'a = "\U0001F600" and zz'
    zz = parse(d.expression).values[1]  # type: ignore[attr-defined]
    span = d.file_span(zz.span)
    assert text[span.start:span.end] == "zz"
    assert span.column == text.index("zz") + 1


def test_list_of_definitions_and_list_response() -> None:
    items = [defn("a = 1", name="A"), defn("b = 2", id="B")]
    text = json.dumps(items, indent=2)
    found = load_definitions("list.json", text=text)
    assert [(d.index, d.expression, d.name, d.id) for d in found] == [
        (0, "a = 1", "A", None), (1, "b = 2", None, "B")]
    response = json.dumps({"segments": items, "page": {"totalCount": 2}})
    found = load_definitions("resp.json", text=response)
    assert [d.expression for d in found] == ["a = 1", "b = 2"]
    second = found[1].file_span(parse("b = 2").span)
    assert response[second.start:second.end] == "b = 2"


def test_python_objects_are_accepted_without_spans() -> None:
    [d] = load_definitions(defn("x = 1"))
    assert d.path == "<object>"
    assert d.value_span is None
    span = parse("x = 1").span
    assert d.file_span(span) == span


def test_pqljson_expression_becomes_text() -> None:
    value = to_json(parse('workAddress.country = "US" and x occurs today'))
    obj = {"expression": {"type": "PQL", "format": "pql/json", "value": value}}
    text = json.dumps(obj, indent=2)
    [d] = load_definitions("j.json", text=text)
    assert d.format == "pql/json"
    assert d.expression == 'workAddress.country = "US" and x occurs today'
    # positions inside a pql/json value point at the JSON value itself
    span = d.file_span(parse(d.expression).span)
    assert (span.line, span.column) == (5, 14)


def test_invalid_pqljson_names_the_json_path() -> None:
    text = json.dumps({"expression": {"format": "pql/json", "value": {
        "nodeType": "fnApply", "fnName": "=", "params": [{"nodeType": "foo"}, {}]}}})
    with pytest.raises(DefinitionError) as info:
        load_definitions("bad.json", text=text)
    assert 'invalid pql/json value: params[0]: unknown nodeType "foo"' in str(info.value)
    assert str(info.value).startswith("bad.json:1:")


@pytest.mark.parametrize(("text", "message"), [
    ('{\n  "expression": {\n    "value": "a" \n    "format": "pql/text"\n}',
     'bad.json:4:5: not valid JSON: Expecting \',\' delimiter'),
    ('{"name": "x"}', "bad.json:1:1: definition 0 has no `expression`"),
    ('{"expression": "a = 1"}',
     ("bad.json:1:16: definition 0: `expression` must be an object with `type`, `format` and "
      "`value`")),
    ('{"expression": {"format": "pql/xml", "value": "a"}}',
     ("bad.json:1:27: definition 0: unknown expression format 'pql/xml' (expected one of "
      "pql/text, pql/json)")),
    ('{"expression": {"type": "ARL", "value": "a"}}',
     "bad.json:1:25: definition 0: expression type 'ARL' is not PQL"),
    ('{"expression": {"format": "pql/text"}}',
     "bad.json:1:16: definition 0: `expression` has no `value`"),
    ('{"expression": {"value": 42}}',
     "bad.json:1:26: definition 0: a pql/text `value` must be a string"),
    ('[{"expression": {"value": "a"}}, "oops"]',
     "bad.json:1:34: definition 1 is a JSON string, not an object"),
    ('{"segments": [7]}', "bad.json:1:15: definition 0 is a JSON number, not an object"),
])
def test_errors_name_file_line_and_column(text: str, message: str) -> None:
    with pytest.raises(DefinitionError) as info:
        load_definitions("bad.json", text=text)
    assert str(info.value).startswith(message)
    assert info.value.path == "bad.json"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="cannot read file"):
        load_definitions(tmp_path / "missing.json")
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"name": "caf\xe9"}')
    with pytest.raises(DefinitionError, match=r"not UTF-8 text \(byte 13\)"):
        load_definitions(path)


def test_an_integer_too_long_for_python_is_a_definition_error() -> None:
    """Python refuses integers of more than 4,300 digits; the file gets an error, not a crash."""
    text = '{"expression": "a = 1", "value": ' + "9" * 4301 + "}"
    with pytest.raises(DefinitionError, match="a number is out of range"):
        load_definitions("big.json", text=text)
