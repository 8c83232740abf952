"""The static scope resolver (reference §3.3)."""

from __future__ import annotations

import pytest

from pqltools.analysis.scope import NameKind, Scopes, resolve
from pqltools.syntax import ast
from pqltools.syntax.parser import parse


def table(text: str) -> tuple[Scopes, list[str]]:
    """``name@column=kind`` for every name, plus the binder's column for variables."""
    scopes = resolve(parse(text), text)
    rows = []
    for name, res in scopes.names():
        row = f"{name.id}@{name.span.column}={res.kind.value}"
        if res.binder is not None:
            row += f"->{res.binder.kind}@{res.binder.span.column}"
        if res.kind is NameKind.ELEMENT_FIELD and res.element is not None:
            row += f"/depth{res.element.depth}"
        rows.append(row)
    return scopes, rows


def test_profile_fields_outside_any_scope() -> None:
    _, rows = table('homeAddress.countryCode = "US" and person.age > 3')
    assert rows == ["homeAddress@1=profile-field", "person@36=profile-field"]


def test_select_bindings_are_sequential() -> None:
    text = "select X from xEvent where X.a, I from X.items where I.sku = Y"
    scopes, rows = table(text)
    assert rows == [
        "xEvent@15=xEvent", "X@28=variable->select@8", "X@40=variable->select@8",
        "I@54=variable->select@33", "Y@62=profile-field",
    ]
    assert [b.name for b in scopes.binders] == ["X", "I"]
    assert [r.span.column for r in scopes.binders[0].references] == [28, 40]


def test_binding_source_does_not_see_its_own_variable() -> None:
    _, rows = table("exists X from X.items where X.a")
    assert rows == ["X@15=profile-field", "X@29=variable->exists@8"]


def test_nested_select_sees_outer_variable_and_inner_shadows() -> None:
    text = "select X from xEvent where (exists X from X.items where X.b) and X.c"
    _, rows = table(text)
    assert rows == [
        "xEvent@15=xEvent", "X@43=variable->select@8", "X@57=variable->exists@36",
        "X@66=variable->select@8",
    ]


def test_aggregate_value_sees_all_bindings() -> None:
    _, rows = table("sum X.price over X from xEvent where X.p > 1")
    assert rows == ["X@5=variable->sum@18", "xEvent@25=xEvent", "X@38=variable->sum@18"]


def test_let_value_does_not_see_its_name_body_does() -> None:
    _, rows = table("let S = S + 1 in S > 3")
    assert rows == ["S@9=profile-field", "S@18=variable->let@5"]


def test_lambda_parameters() -> None:
    text = "orders.groupBy(storeId).map((K, G) => mapEntry(K, G.count()))"
    scopes, rows = table(text)
    assert rows == [
        "orders@1=profile-field", "storeId@16=element-field/depth1",
        "K@48=variable->lambda@30", "G@51=variable->lambda@33",
    ]
    assert [(b.name, b.span.column) for b in scopes.binders] == [("K", 30), ("G", 33)]


def test_element_scopes_filter_methods_and_chain() -> None:
    _, rows = table('xEvent[productListItems[SKU = "PS"]] and orders.topN(price, n)')
    assert rows == [
        "xEvent@1=xEvent", "productListItems@8=element-field/depth1",
        "SKU@25=element-field/depth2", "orders@42=profile-field",
        "price@54=element-field/depth1", "n@61=profile-field",
    ]
    _, rows = table('chain(xEvent, timestamp, [A: WHAT(eventType = "x") WHERE(web.x)])')
    assert rows == ["xEvent@7=xEvent", "eventType@35=element-field/depth1",
                    "web@58=element-field/depth1"]


def test_variable_wins_over_element_field_and_this() -> None:
    _, rows = table("select X from xEvent where X.items[X.a = this.b]")
    assert rows == ["xEvent@15=xEvent", "X@28=variable->select@8",
                    "X@36=variable->select@8", "this@42=this"]


def test_parent_ref_targets() -> None:
    text = "xEvent[productListItems[SKU = ^.sku and ^^.person.gender]]"
    tree = parse(text)
    scopes = resolve(tree, text)
    refs = [n for n in tree.walk() if isinstance(n, ast.ParentRef)]
    first, second = (scopes.parent_target(r) for r in refs)
    assert first is not None and isinstance(first.node, ast.Filter)
    assert first.collection == ast.Name("xEvent")
    assert second is None  # two levels up from the item filter: the profile


def test_names_used_outside_their_binder() -> None:
    text = "(select X from xEvent where X.a) and X.b = 1"
    scopes = resolve(parse(text), text)
    assert [(n.id, n.span.column) for n in scopes.unbound_variables()] == [("X", 38)]


@pytest.mark.parametrize("offset,expected", [(7, "X"), (27, "X"), (0, None)])
def test_binder_at(offset: int, expected: str | None) -> None:
    text = "select X from xEvent where X.a"
    binder = resolve(parse(text), text).binder_at(offset)
    assert (binder.name if binder else None) == expected


def test_binder_spans_without_text_fall_back_to_node_span() -> None:
    tree = parse("let S = 1 in S")
    binder = resolve(tree).binders[0]
    assert binder.span == tree.span


def test_chain_when_reference_and_quantifier_kinds() -> None:
    text = "some E from xEvent where E.a and chain(xEvent, ts, [A: WHAT(k) WHEN(< 2 days before E.ts)])"
    scopes, rows = table(text)
    assert rows == [
        "xEvent@13=xEvent", "E@26=variable->some@6", "xEvent@40=xEvent",
        "k@61=element-field/depth1", "E@85=variable->some@6",
    ]
    assert [b.kind for b in scopes.binders] == ["some", "chain label"]


def test_this_refers_to_the_current_element() -> None:
    text = 'xs.map({"n": this.count()})'
    scopes = resolve(parse(text), text)
    (res,) = [r for n, r in scopes.names() if n.id == "this"]
    assert res.kind is NameKind.THIS
    assert res.element is not None and res.element.collection == ast.Name("xs")


def test_scope_opened_by() -> None:
    tree = parse("orders.filter(price > 1)")
    scopes = resolve(tree)
    assert isinstance(tree, ast.MethodCall)
    opened = scopes.scope_opened_by(tree)
    assert opened is not None and opened.depth == 1
    assert scopes.scope_opened_by(tree.receiver) is None
