"""pql/json: Adobe's documented shapes, the pqltools extensions, legacy input and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from strategies import exprs, reference_examples

from pqltools import PQLValidationError, format, from_json, parse, to_json
from pqltools.syntax import ast
from pqltools.syntax.pqljson import PQLJSONError

PROFILE = {"nodeType": "parameterReference", "position": 1}


def lookup(name: str, obj: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"nodeType": "fieldLookup", "fieldName": name, "object": obj or PROFILE}


def lit(kind: str, value: Any) -> dict[str, Any]:
    return {"nodeType": "literal", "literalType": kind, "value": value}


def test_documented_conversion_example_exactly() -> None:
    expected = json.loads(
        '{"nodeType":"fnApply","fnName":"=","params":[{"nodeType":"fieldLookup","fieldName":'
        '"country","object":{"nodeType":"fieldLookup","fieldName":"workAddress","object":'
        '{"nodeType":"parameterReference","position":1}}},{"nodeType":"literal","literalType":'
        '"String","value":"US"}]}'
    )
    assert to_json(parse('workAddress.country = "US"')) == expected
    assert format(from_json(expected)) == 'workAddress.country = "US"'


def test_bound_names_are_var_refs_and_free_names_field_lookups() -> None:
    out = to_json(parse("select X from xEvent where X.a = b"))
    decl = out["variables"][0]
    assert out["nodeType"] == "select"
    assert decl["varName"] == "X"
    assert decl["from"] == lookup("xEvent")
    assert decl["where"]["params"][0] == lookup("a", {"nodeType": "varRef", "varName": "X"})
    assert decl["where"]["params"][1] == lookup("b")


def test_scope_ends_with_the_binder() -> None:
    out = to_json(parse("(exists X from a) and X"))
    assert out["params"][1] == lookup("X")
    lam = to_json(parse("(x, y) => x + z"))
    assert lam == {"nodeType": "fnCreate", "params": [{"varName": "x"}, {"varName": "y"}],
                   "body": {"nodeType": "fnApply", "fnName": "+", "params": [
                       {"nodeType": "varRef", "varName": "x"}, lookup("z")]}}


@pytest.mark.parametrize(("text", "expected"), [
    ("a and b and c", {"nodeType": "fnApply", "fnName": "and",
                       "params": [lookup("a"), lookup("b"), lookup("c")]}),
    ("a in [1, 2]", {"nodeType": "fnApply", "fnName": "in",
                     "params": [lookup("a"), lit("List", [1, 2])]}),
    ("a.isNull()", {"nodeType": "fnApply", "fnName": "isNull", "params": [lookup("a")]}),
    ('a.notEqualTo("x", false)', {"nodeType": "fnApply", "fnName": "notEqualTo",
                                  "params": [lookup("a"), lit("String", "x"),
                                             lit("Boolean", False)]}),
    ('inSegment("s1")', {"nodeType": "fnApply", "fnName": "inSegment",
                         "params": [lit("String", "s1")]}),
    ('a.matches("x")', {"nodeType": "fnApply", "fnName": "matches", "form": "method",
                        "params": [lookup("a"), lit("String", "x")]}),
    ("myFunction(1)", {"nodeType": "fnApply", "fnName": "myFunction", "form": "call",
                       "params": [lit("Integer", 1)]}),
    ("-x", {"nodeType": "fnApply", "fnName": "-", "params": [lookup("x")]}),
    ("1.5", lit("Number", 1.5)),
    ("$1.a", lookup("a", {"nodeType": "parameterReference", "position": 1, "explicit": True})),
    ("forall X from a", {"nodeType": "quantification", "quantifier": "all", "variables": [
        {"nodeType": "varDecl", "varName": "X", "from": lookup("a")}]}),
    ("^^", {"nodeType": "fnApply", "fnName": "pqltools:parent",
            "params": [lit("Integer", 2)]}),
    ("ts occurs < 8 days before now", {
        "nodeType": "fnApply", "fnName": "pqltools:occurs", "params": [
            lookup("ts"),
            {"nodeType": "fnApply", "fnName": "pqltools:relativeTime", "params": [
                lit("String", "before"),
                {"nodeType": "fnApply", "fnName": "pqltools:timeKeyword",
                 "params": [lit("String", "now")]},
                lit("String", "<"), lit("Integer", 8), lit("String", "day")]}]}),
    ("chain(xEvent, timestamp, [C0: WHAT(a) COUNT(2)])", {
        "nodeType": "fnApply", "fnName": "pqltools:chain", "params": [
            lookup("xEvent"), lit("String", "timestamp"),
            {"nodeType": "fnApply", "fnName": "pqltools:step", "params": [
                lit("String", "C0"),
                {"nodeType": "fnApply", "fnName": "pqltools:what", "params": [lookup("a")]},
                {"nodeType": "fnApply", "fnName": "pqltools:count",
                 "params": [lit("Integer", 2)]}]}]}),
])
def test_encoding(text: str, expected: dict[str, Any]) -> None:
    assert to_json(parse(text)) == expected
    assert from_json(expected) == parse(text)


def test_legacy_shapes() -> None:
    legacy = {
        "nodeType": "fnApply", "function": "=", "params": [
            {"nodeType": "fieldLookup", "fieldName": "xdm:countryCode", "object": {
                "nodeType": "fieldLookup", "fieldName": "xdm:homeAddress",
                "object": {"nodeType": "literal", "literalType": "XDMObject",
                           "value": "profile"}}},
            {"nodeType": "literal", "literalType": "string", "value": "US"}]}
    assert format(from_json(legacy)) == 'homeAddress.countryCode = "US"'
    assert from_json(lit("integer", "42")) == ast.Number(42)
    assert from_json({"nodeType": "select", "variables": [
        {"nodeType": "varDecl", "varName": "X", "range": lookup("xEvent")}]}) == parse(
        "select X from xEvent")


def test_adobe_string_equality_with_case_flag_and_other_quantifiers() -> None:
    three = {"nodeType": "fnApply", "fnName": "=", "params": [
        lookup("a"), lit("String", "x"), lit("Boolean", False)]}
    assert format(from_json(three)) == 'a.equals("x", false)'
    none = {"nodeType": "quantification", "quantifier": "none", "variables": [
        {"nodeType": "varDecl", "varName": "X", "from": lookup("a")}]}
    assert format(from_json(none)) == "not (exists X from a)"
    assert from_json({"nodeType": "fnApply", "fnName": "or", "params": [lookup("a")]}) == (
        ast.Name("a"))


def test_accepts_json_text() -> None:
    assert from_json('{"nodeType": "varRef", "varName": "X"}') == ast.Name("X")


@pytest.mark.parametrize(("value", "message"), [
    ({"nodeType": "fnApply", "fnName": "=", "params": [
        lookup("a"), {"nodeType": "fieldLookup", "fieldName": "b", "object": {
            "nodeType": "foo"}}]},
     'params[1].object: unknown nodeType "foo"'),
    ({"nodeType": "fnApply", "fnName": "="}, "(root): fnApply has no `params`"),
    ({"fnName": "="}, "(root): node has no `nodeType`"),
    ([1], "(root): expected a JSON object, found a list"),
    ({"nodeType": "fnApply", "fnName": "=", "params": [lookup("a")]},
     "params: `=` takes 2 params, found 1"),
    ({"nodeType": "fnApply", "fnName": "isNull", "params": []},
     "params: method `isNull` needs its receiver as the first param"),
    (lookup("my-field"), 'fieldName: "my-field" is not a PQL identifier'),
    (lit("Integer", "x"), 'value: the string "x" is not a Integer value'),
    (lit("Date", 1), 'literalType: unknown literalType "Date"'),
    ({"nodeType": "quantification", "quantifier": "one", "variables": [
        {"nodeType": "varDecl", "varName": "X", "from": lookup("a")}]},
     'quantifier: quantifier "one" has no pql/text form (expected some, all or none)'),
    ({"nodeType": "select", "variables": []},
     "variables: expected a non-empty list of varDecl nodes"),
    ({"nodeType": "fnApply", "fnName": "pqltools:nope", "params": []},
     'fnName: unknown extension "pqltools:nope" (see docs/pqljson.md)'),
    ({"nodeType": "fnApply", "fnName": "pqltools:occurs", "params": [lookup("a"), lookup("b")]},
     ("params[1]: expected a time phrase (pqltools:relativeTime, pqltools:atTime or "
      "pqltools:betweenTimes)")),
    ({"nodeType": "fnApply", "fnName": "pqltools:parent", "params": [lit("Integer", 0)]},
     "params[0]: expected an integer >= 1"),
    ("{not json", ("(root): not valid JSON: Expecting property name enclosed in double "
                   "quotes at line 1, column 2")),
])
def test_errors_name_the_json_path(value: Any, message: str) -> None:
    with pytest.raises(PQLValidationError) as info:
        from_json(value)
    assert isinstance(info.value, PQLJSONError)
    assert str(info.value) == message
    assert info.value.diagnostics[0].code == "PQL095"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    value: dict[str, Any] = {"nodeType": "varRef", "varName": "x"}
    for _ in range(5000):
        value = {"nodeType": "fnApply", "fnName": "not", "params": [value]}
    with pytest.raises(PQLJSONError, match="nested too deeply"):
        from_json(value)


@given(exprs())
def test_json_round_trip(tree: ast.Expr) -> None:
    encoded = json.loads(json.dumps(to_json(tree)))
    assert from_json(encoded) == tree


@pytest.mark.parametrize("example", reference_examples(errors=False), ids=lambda e: e["id"])
def test_reference_examples_text_json_text(example: dict[str, str]) -> None:
    tree = parse(example["text"])
    back = from_json(json.loads(json.dumps(to_json(tree))))
    assert back == tree
    assert format(back) == format(example["text"])


def test_too_deep_hand_built_tree_is_an_error_not_a_crash() -> None:
    tree: ast.Expr = ast.Name("x")
    for _ in range(5000):
        tree = ast.Not(tree)
    with pytest.raises(PQLJSONError, match="nested too deeply"):
        to_json(tree)
