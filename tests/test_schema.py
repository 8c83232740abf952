"""Schema loading (XDM JSON Schema export, flat {path: type} maps) and path lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pqltools.analysis.schema import FieldInfo, Schema, SchemaError, load_schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "schema"


@pytest.fixture(scope="module")
def xdm() -> Schema:
    return Schema.merge([Schema.load(EXAMPLES / "profile.schema.json"),
                         Schema.load(EXAMPLES / "experience-event.schema.json")])


@pytest.fixture(scope="module")
def flat() -> Schema:
    return Schema.load(EXAMPLES / "fields.json")


@pytest.mark.parametrize(("path", "type_", "through_array"), [
    ("homeAddress.countryCode", "string", False),       # via allOf + $ref to #/definitions
    ("workAddress.city", "string", False),              # the same $ref used twice
    ("person.birthDate", "date", False),                # format: date / meta:xdmType
    ("_acme.loyalty.memberSince", "timestamp", False),  # date-time
    ("_acme.loyalty.points", "integer", False),         # meta:xdmType int
    ("_acme.orders", "list", False),
    ("_acme.orders.price", "number", True),             # stepping into an array
    ("identityMap.ECID.id", "string", True),            # map key, then array of objects
    ("xEvent", "list", False),                          # event schema mounted at xEvent
    ("xEvent.productListItems.SKU", "string", True),
    ("xEvent.web.webPageDetails.isHomePage", "boolean", True),
])
def test_xdm_lookup(xdm: Schema, path: str, type_: str, through_array: bool) -> None:
    info = xdm.lookup(path)
    assert info is not None
    assert (info.type, info.through_array) == (type_, through_array)
    assert xdm.lookup(tuple(path.split("."))) == info


def test_xdm_and_flat_example_agree(xdm: Schema, flat: Schema) -> None:
    assert set(flat.paths()) <= set(xdm.paths())
    assert ("identityMap.*.id", "string") in flat.paths()


def test_unknown_paths(xdm: Schema) -> None:
    assert xdm.lookup("homeAddress.countryCod") is None
    assert xdm.lookup("nope") is None
    assert xdm.lookup("xEvent.eventType.length") is None


def test_item_type_and_description(xdm: Schema) -> None:
    colors = xdm.lookup("favoriteColors")
    assert colors == FieldInfo(("favoriteColors",), "list", False, "string", "")
    tenant = xdm.lookup("_acme")
    assert tenant is not None and "TENANT_ID" in tenant.description


def test_children_and_suggest(xdm: Schema) -> None:
    assert [f.dotted for f in xdm.children(("homeAddress",))] == [
        "homeAddress.city", "homeAddress.country", "homeAddress.countryCode",
        "homeAddress.postalCode"]
    assert [f.path[-1] for f in xdm.children(("xEvent", "productListItems"))] == [
        "SKU", "name", "priceTotal", "quantity"]
    assert xdm.suggest(("homeAddress", "countrycode")) == "countryCode"
    assert xdm.suggest(("person", "gendre")) == "gender"
    assert xdm.suggest(("person", "zzzzzz")) is None


def test_external_ref_makes_an_open_object() -> None:
    schema = Schema.load({
        "type": "object",
        "properties": {
            "known": {"type": "string"},
            "std": {"$ref": "https://ns.adobe.com/xdm/common/address"},
        },
    })
    info = schema.lookup("std.anything.below")
    assert info is not None and info.type == "any"
    assert schema.lookup("unknown") is None


def test_map_via_additional_properties_and_nullable_types() -> None:
    schema = Schema.load({
        "properties": {
            "scores": {"type": "object", "additionalProperties": {"type": ["number", "null"]}},
        },
    })
    assert schema.lookup("scores").type == "map"
    assert schema.lookup("scores.anyKey").type == "number"
    assert ("scores.*", "number") in schema.paths()


def test_flat_map_markers(flat: Schema) -> None:
    assert flat.lookup("xEvent").type == "list"
    assert flat.lookup("xEvent.timestamp").type == "timestamp"
    assert flat.lookup("identityMap").type == "map"
    assert flat.lookup("_acme.orders.storeId") == FieldInfo(
        ("_acme", "orders", "storeId"), "string", True)


def test_xevent_without_brackets_is_still_the_event_array() -> None:
    schema = Schema.load({"xEvent.eventType": "string"})
    assert schema.lookup("xEvent").type == "list"
    assert schema.lookup("xEvent.eventType").through_array


def test_array_file_merges_profile_and_events(tmp_path: Path) -> None:
    both = [json.loads((EXAMPLES / name).read_text()) for name in
            ("profile.schema.json", "experience-event.schema.json")]
    path = tmp_path / "both.json"
    path.write_text(json.dumps(both))
    schema = load_schema(path)
    assert schema.lookup("xEvent.eventType") is not None
    assert schema.lookup("homeAddress.city") is not None


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "schema is not valid JSON"),
    ('"a string"', "a schema must be a JSON object"),
    ('{"a.b": "strin"}', "field 'a.b': unknown type 'strin'"),
    ('{"a..b": "string"}', "field 'a..b': empty path segment"),
    ('{"properties": {"a": {"$ref": "#/definitions/missing"}}}',
     "$ref '#/definitions/missing' points at nothing in this file"),
])
def test_bad_schema_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "schema.json"
    path.write_text(content)
    with pytest.raises(SchemaError) as info:
        Schema.load(path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path))


def test_missing_schema_file(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read schema"):
        Schema.load(tmp_path / "absent.json")


def test_recursive_ref_does_not_loop() -> None:
    schema = Schema.load({
        "definitions": {"node": {"type": "object", "properties": {
            "name": {"type": "string"}, "child": {"$ref": "#/definitions/node"}}}},
        "properties": {"tree": {"$ref": "#/definitions/node"}},
    })
    # one level is expanded; the recursive reference below it is an open object
    assert schema.lookup("tree.name").type == "string"
    assert schema.lookup("tree.child.child.anything").type == "any"
