"""Syntax nodes behave as frozen, slotted dataclasses whose ``span`` is not part of equality.

(They are built by a lighter decorator than ``@dataclass`` for start-up time, issue 9; this pins
the behaviour that decorator must keep.)
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from pqltools import parse
from pqltools.errors import NO_SPAN
from pqltools.syntax import ast

NODE_CLASSES = [c for c in vars(ast).values()
                if isinstance(c, type) and issubclass(c, ast.Node) and c is not ast.Expr]


@pytest.mark.parametrize("cls", NODE_CLASSES, ids=lambda c: c.__name__)
def test_every_node_class_is_a_slotted_dataclass(cls: type[ast.Node]) -> None:
    assert dataclasses.is_dataclass(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    assert names[0] == "span"
    own = names[1:]
    assert cls.__slots__ == (("span",) if cls is ast.Node else tuple(own))
    assert cls.__match_args__ == tuple(own)
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params] == [*own, "span"]
    assert params[-1].kind is inspect.Parameter.KEYWORD_ONLY and params[-1].default is NO_SPAN


def test_constructor_defaults_and_keywords() -> None:
    b = ast.Binding("x", ast.Name("xs"))
    assert b.condition is None and b.span is NO_SPAN
    assert ast.Binding(var="x", source=ast.Name("xs"), condition=None) == b
    with pytest.raises(TypeError):
        ast.Name()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ast.Name("a", "b")  # type: ignore[call-arg]


def test_frozen_and_without_instance_dict() -> None:
    node = ast.Name("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        node.id = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del node.id  # type: ignore[misc]
    assert not hasattr(node, "__dict__")


def test_equality_and_hash_ignore_spans() -> None:
    one, two = parse("a.b = 1 and c"), parse("a.b  =  1  and  c")
    assert one.span != two.span
    assert one == two and hash(one) == hash(two)
    assert ast.Name("x") != ast.String("x")
    assert ast.Name("x") != ast.Name("y")
    assert hash(ast.Name("x")) == hash(("x",))
    assert ast.Compare("=", ast.Name("a"), ast.Number(1)).__eq__(("=",)) is NotImplemented


def test_repr_replace_asdict_copy_and_pickle() -> None:
    tree = parse("a.b = 1")
    assert repr(tree) == ("Compare(op='=', left=Attribute(receiver=Name(id='a'), name='b'), "
                          "right=Number(value=1))")
    assert dataclasses.replace(ast.Name("x"), id="y") == ast.Name("y")
    assert dataclasses.asdict(ast.Name("x"))["id"] == "x"
    for clone in (copy.copy(tree), copy.deepcopy(tree), pickle.loads(pickle.dumps(tree))):
        assert clone == tree and clone.span == tree.span
