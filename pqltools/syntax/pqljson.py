"""``pql/json``: Adobe's JSON encoding of a PQL tree (reference section 10), both ways.

:func:`to_json` writes Adobe's node types (``fnApply``, ``fieldLookup``, ``literal``,
``parameterReference``, ``varRef``, ``varDecl``, ``select``, ``quantification``, ``fnCreate``)
and, for constructs Adobe's schema has no node for, ``fnApply`` nodes whose ``fnName`` starts
with ``pqltools:`` (an extension, documented in ``docs/pqljson.md``). :func:`from_json` reads that
and the legacy shapes (``XDMObject "profile"`` roots, ``xdm:`` prefixes, ``function``/``range``
keys, lower-case literal types), raising :class:`PQLJSONError` that names the JSON path of the
problem. ``from_json(to_json(tree)) == tree`` for every tree the parser can produce.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pqltools import catalog
from pqltools.errors import NO_SPAN, Diagnostic, PQLValidationError, Severity
from pqltools.limits import finite_number, parse_int_text
from pqltools.syntax import ast
from pqltools.syntax.visitor import Visitor

__all__ = ["EXTENSION_PREFIX", "E_PQLJSON", "PQLJSONError", "from_json", "to_json"]

#: Diagnostic code of an unusable pql/json value.
E_PQLJSON = "PQL095"
#: ``fnName`` prefix of the pqltools extension nodes.
EXTENSION_PREFIX = "pqltools:"

JSON = dict[str, Any]

_COMPARE = frozenset(ast.COMPARE_OPS)
_ARITH = frozenset(ast.ARITH_OPS)
#: fnNames that decode to operators (a call or method of the same name needs a ``form`` marker).
_OPERATOR_NAMES = _COMPARE | _ARITH | {"and", "or", "not"}
_QUANTIFIER_TO_JSON = {"exists": "some", "forall": "all", "some": "some"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class PQLJSONError(PQLValidationError):
    """A pql/json value that does not describe a PQL expression; ``path`` says where."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.detail = message
        super().__init__(Diagnostic(E_PQLJSON, f"{path}: {message}", Severity.ERROR, NO_SPAN))

    def _summary(self) -> str:
        return f"{self.path}: {self.detail}"


# ----------------------------------------------------------------------------- AST -> JSON


def _literal(literal_type: str, value: Any) -> JSON:
    return {"nodeType": "literal", "literalType": literal_type, "value": value}


def _string(value: str) -> JSON:
    return _literal("String", value)


def _integer(value: int) -> JSON:
    return _literal("Integer", value)


def _apply(name: str, params: list[JSON], **extra: Any) -> JSON:
    node: JSON = {"nodeType": "fnApply", "fnName": name, "params": params}
    node.update(extra)
    return node


def _ext(name: str, *params: JSON) -> JSON:
    return _apply(EXTENSION_PREFIX + name, list(params))


_PROFILE: JSON = {"nodeType": "parameterReference", "position": 1}


def _is_scalar(node: ast.Node) -> bool:
    return isinstance(node, (ast.String, ast.Number, ast.Boolean))


class _ToJSON(Visitor[JSON]):
    """Encodes a tree; tracks which names enclosing binders bind (those become ``varRef``)."""

    def __init__(self) -> None:
        self.bound: Counter[str] = Counter()

    @contextmanager
    def binding(self, *names: str) -> Iterator[None]:
        self.bound.update(names)
        try:
            yield
        finally:
            self.bound.subtract(names)

    # -- literals
    def visit_String(self, node: ast.String) -> JSON:
        return _string(node.value)

    def visit_Number(self, node: ast.Number) -> JSON:
        if isinstance(node.value, int):
            return _integer(node.value)
        return _literal("Number", node.value)

    def visit_Boolean(self, node: ast.Boolean) -> JSON:
        return _literal("Boolean", node.value)

    def visit_ListLiteral(self, node: ast.ListLiteral) -> JSON:
        if node.items and all(_is_scalar(i) for i in node.items):
            return _literal("List", [i.value for i in node.items])  # type: ignore[attr-defined]
        return _ext("list", *(self.visit(i) for i in node.items))

    def visit_ObjectLiteral(self, node: ast.ObjectLiteral) -> JSON:
        params: list[JSON] = []
        for entry in node.entries:
            params += [_string(entry.key), self.visit(entry.value)]
        return _ext("object", *params)

    # -- names and paths
    def visit_Name(self, node: ast.Name) -> JSON:
        if self.bound[node.id] > 0:
            return {"nodeType": "varRef", "varName": node.id}
        return {"nodeType": "fieldLookup", "fieldName": node.id, "object": dict(_PROFILE)}

    def visit_Attribute(self, node: ast.Attribute) -> JSON:
        return {"nodeType": "fieldLookup", "fieldName": node.name,
                "object": self.visit(node.receiver)}

    def visit_Param(self, node: ast.Param) -> JSON:
        ref: JSON = {"nodeType": "parameterReference", "position": node.position}
        if node.position == 1:  # told apart from the implicit profile root of a bare name
            ref["explicit"] = True
        return ref

    def visit_ParentRef(self, node: ast.ParentRef) -> JSON:
        return _ext("parent", _integer(node.levels))

    def visit_ContextRef(self, node: ast.ContextRef) -> JSON:
        return _ext("context", _string(node.kind), _string(node.text))

    # -- operators
    def visit_Not(self, node: ast.Not) -> JSON:
        return _apply("not", [self.visit(node.operand)])

    def visit_Neg(self, node: ast.Neg) -> JSON:
        return _apply("-", [self.visit(node.operand)])

    def visit_BoolOp(self, node: ast.BoolOp) -> JSON:
        return _apply(node.op, [self.visit(v) for v in node.values])

    def visit_Compare(self, node: ast.Compare) -> JSON:
        return _apply(node.op, [self.visit(node.left), self.visit(node.right)])

    def visit_BinOp(self, node: ast.BinOp) -> JSON:
        return _apply(node.op, [self.visit(node.left), self.visit(node.right)])

    # -- calls
    def visit_Call(self, node: ast.Call) -> JSON:
        params = [self.visit(a) for a in node.args]
        if catalog.lookup(node.name, "global") is not None and node.name not in _OPERATOR_NAMES:
            return _apply(node.name, params)
        return _apply(node.name, params, form="call")

    def visit_MethodCall(self, node: ast.MethodCall) -> JSON:
        params = [self.visit(node.receiver), *(self.visit(a) for a in node.args)]
        if node.name in _OPERATOR_NAMES or catalog.lookup(node.name, "global") is not None:
            return _apply(node.name, params, form="method")
        return _apply(node.name, params)

    def visit_Filter(self, node: ast.Filter) -> JSON:
        return _ext("filter", self.visit(node.receiver), self.visit(node.condition))

    # -- binders
    def var_decls(self, bindings: tuple[ast.Binding, ...]) -> list[JSON]:
        """varDecl nodes; each variable is bound from its own ``where`` on (caller unbinds)."""
        decls: list[JSON] = []
        for b in bindings:
            decl: JSON = {"nodeType": "varDecl", "varName": b.var, "from": self.visit(b.source)}
            self.bound[b.var] += 1
            if b.condition is not None:
                decl["where"] = self.visit(b.condition)
            decls.append(decl)
        return decls

    def visit_Select(self, node: ast.Select) -> JSON:
        decls = self.var_decls(node.bindings)
        self.bound.subtract(b.var for b in node.bindings)
        return {"nodeType": "select", "variables": decls}

    def visit_Quantifier(self, node: ast.Quantifier) -> JSON:
        decls = self.var_decls(node.bindings)
        self.bound.subtract(b.var for b in node.bindings)
        out: JSON = {"nodeType": "quantification",
                     "quantifier": _QUANTIFIER_TO_JSON[node.kind.lower()], "variables": decls}
        if node.kind.lower() == "some":
            out["keyword"] = "some"
        return out

    def visit_Aggregate(self, node: ast.Aggregate) -> JSON:
        decls = self.var_decls(node.bindings)
        params = [_string(node.func.lower()), {"nodeType": "select", "variables": decls}]
        if node.value is not None:
            params.append(self.visit(node.value))
        self.bound.subtract(b.var for b in node.bindings)
        return _ext("aggregate", *params)

    def visit_Let(self, node: ast.Let) -> JSON:
        decl = {"nodeType": "varDecl", "varName": node.name, "from": self.visit(node.value)}
        with self.binding(node.name):
            return _ext("let", decl, self.visit(node.body))

    def visit_Lambda(self, node: ast.Lambda) -> JSON:
        with self.binding(*node.params):
            body = self.visit(node.body)
        return {"nodeType": "fnCreate", "params": [{"varName": p} for p in node.params],
                "body": body}

    # -- time
    def visit_TimeKeyword(self, node: ast.TimeKeyword) -> JSON:
        return _ext("timeKeyword", _string(node.word))

    def visit_CalendarPeriod(self, node: ast.CalendarPeriod) -> JSON:
        return _ext("calendarPeriod", _string(node.relation), _string(node.unit))

    def visit_RelativeTime(self, node: ast.RelativeTime) -> JSON:
        params = [_string(node.direction), self.visit(node.reference)]
        if node.comparator is not None and node.amount is not None and node.unit is not None:
            params += [_string(node.comparator), _integer(node.amount), _string(node.unit)]
        return _ext("relativeTime", *params)

    def visit_AtTime(self, node: ast.AtTime) -> JSON:
        return _ext("atTime", self.visit(node.reference))

    def visit_BetweenTimes(self, node: ast.BetweenTimes) -> JSON:
        return _ext("betweenTimes", self.visit(node.start), self.visit(node.end))

    def visit_Occurs(self, node: ast.Occurs) -> JSON:
        return _ext("occurs", self.visit(node.subject), self.visit(node.phrase))

    # -- sequences
    def visit_ChainStep(self, node: ast.ChainStep) -> JSON:
        params = [_string(node.label)]
        if node.what is not None:
            params.append(_ext("what", self.visit(node.what)))
        if node.when is not None:
            params.append(_ext("when", self.visit(node.when)))
        if node.count is not None:
            params.append(_ext("count", _integer(node.count)))
        if node.where is not None:
            params.append(_ext("where", self.visit(node.where)))
        return _ext("step", *params)

    def visit_Chain(self, node: ast.Chain) -> JSON:
        return _ext("chain", self.visit(node.events), _string(node.timestamp_field),
                    *(self.visit(s) for s in node.steps))

    def generic_visit(self, node: ast.Node) -> JSON:
        raise PQLJSONError("(root)", f"a {type(node).__name__} node is not an expression")


def to_json(node: ast.Node) -> JSON:
    """The ``pql/json`` form of ``node`` (a JSON-ready dict; see docs/pqljson.md)."""
    try:
        return _ToJSON().visit(node)
    except RecursionError:  # only hand-built trees get this deep (the parser stops at 100 by default)
        raise PQLJSONError("(root)", "expression is nested too deeply to convert") from None


# ----------------------------------------------------------------------------- JSON -> AST


class _FromJSON:
    """Decodes one pql/json value; every error names the JSON path where it was found."""

    def __init__(self) -> None:
        self.readers: dict[str, Callable[[JSON, str], ast.Expr]] = {
            "literal": self.literal,
            "fieldLookup": self.field_lookup,
            "parameterReference": self.parameter,
            "varRef": self.var_ref,
            "fnApply": self.fn_apply,
            "fnCreate": self.fn_create,
            "select": self.select,
            "quantification": self.quantification,
        }
        self.extensions: dict[str, Callable[[list[Any], str], ast.Expr]] = {
            "list": lambda p, path: ast.ListLiteral(self.exprs(p, path)),
            "object": self.object_literal,
            "parent": lambda p, path: ast.ParentRef(self.int_param(p, path, 0, minimum=1)),
            "context": self.context,
            "filter": self.filter,
            "aggregate": self.aggregate,
            "let": self.let,
            "occurs": self.occurs,
            "chain": self.chain,
        }

    # -- plumbing
    @staticmethod
    def fail(path: str, message: str) -> PQLJSONError:
        return PQLJSONError(path or "(root)", message)

    @staticmethod
    def join(path: str, key: str | int) -> str:
        if isinstance(key, int):
            return f"{path}[{key}]"
        return f"{path}.{key}" if path else key

    def obj(self, value: Any, path: str) -> JSON:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a JSON object, found {_describe(value)}")
        return value

    def get(self, node: JSON, key: str, path: str, *aliases: str) -> Any:
        for name in (key, *aliases):
            if name in node:
                return node[name]
        raise self.fail(path, f"{node.get('nodeType', 'node')} has no `{key}`")

    def name(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self.fail(path, f"expected a name (string), found {_describe(value)}")
        name = value.removeprefix("xdm:")
        if not _IDENTIFIER.match(name) or name.lower() in ("and", "or", "not"):
            raise self.fail(path, f"{json_text(value)} is not a PQL identifier")
        return name

    def params(self, node: JSON, path: str) -> tuple[list[Any], str]:
        params = self.get(node, "params", path)
        if not isinstance(params, list):
            raise self.fail(self.join(path, "params"), f"expected a list, found "
                            f"{_describe(params)}")
        return params, self.join(path, "params")

    def expr(self, value: Any, path: str) -> ast.Expr:
        node = self.obj(value, path)
        kind = node.get("nodeType")
        reader = self.readers.get(kind) if isinstance(kind, str) else None
        if reader is None:
            if kind is None:
                raise self.fail(path, "node has no `nodeType`")
            raise self.fail(path, f"unknown nodeType {json_text(kind)}")
        return reader(node, path)

    def exprs(self, values: list[Any], path: str) -> tuple[ast.Expr, ...]:
        return tuple(self.expr(v, self.join(path, i)) for i, v in enumerate(values))

    def arity(self, params: list[Any], path: str, name: str, lo: int, hi: int | None) -> None:
        if len(params) < lo or (hi is not None and len(params) > hi):
            want = str(lo) if hi == lo else f"{lo}+" if hi is None else f"{lo}-{hi}"
            raise self.fail(path, f"`{name}` takes {want} params, found {len(params)}")

    def literal_value(self, params: list[Any], path: str, index: int, kinds: tuple[type, ...],
                      what: str) -> Any:
        if index >= len(params):
            raise self.fail(path, f"missing param {index} ({what})")
        where = self.join(path, index)
        node = self.obj(params[index], where)
        if node.get("nodeType") != "literal":
            raise self.fail(where, f"expected a literal {what}")
        value = self.literal(node, where)
        raw = getattr(value, "value", None)
        if not isinstance(raw, kinds) or isinstance(raw, bool) != (bool in kinds):
            raise self.fail(where, f"expected a literal {what}")
        return raw

    def str_param(self, params: list[Any], path: str, index: int, what: str = "string",
                  choices: tuple[str, ...] | None = None) -> str:
        value: str = self.literal_value(params, path, index, (str,), what)
        if choices is not None and value.lower() not in choices:
            raise self.fail(self.join(path, index), f"{json_text(value)} is not one of "
                            f"{', '.join(choices)}")
        return value.lower() if choices is not None else value

    def int_param(self, params: list[Any], path: str, index: int, minimum: int = 0) -> int:
        value: int = self.literal_value(params, path, index, (int,), "integer")
        if value < minimum:
            raise self.fail(self.join(path, index), f"expected an integer >= {minimum}")
        return value

    # -- node types
    def literal(self, node: JSON, path: str) -> ast.Expr:
        kind = self.get(node, "literalType", path)
        value = self.get(node, "value", path)
        where = self.join(path, "value")
        lowered = kind.lower() if isinstance(kind, str) else ""
        if lowered == "string" and isinstance(value, str):
            return ast.String(value)
        if lowered in ("integer", "long", "int") and not isinstance(value, bool):
            if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
                digits = value.strip()  # legacy JSON quotes its integers
                found = parse_int_text(digits.lstrip("-"))
                return self.number(None if found is None else
                                   -found if digits.startswith("-") else found, value, where)
            if isinstance(value, int):
                return self.number(value, value, where)
        if lowered in ("number", "double", "float") and isinstance(value, (int, float)) and (
                not isinstance(value, bool)):
            return self.number(value, value, where)
        if lowered == "boolean":
            if isinstance(value, bool):
                return ast.Boolean(value)
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return ast.Boolean(value.lower() == "true")
        if lowered == "list" and isinstance(value, list):
            return ast.ListLiteral(tuple(self.scalar(v, self.join(where, i))
                                         for i, v in enumerate(value)))
        if lowered == "xdmobject" and value == "profile":
            return ast.Param(1)
        if lowered not in ("string", "integer", "long", "int", "number", "double", "float",
                           "boolean", "list", "xdmobject"):
            raise self.fail(self.join(path, "literalType"),
                            f"unknown literalType {json_text(kind)}")
        raise self.fail(where, f"{_describe(value)} is not a {kind} value")

    def number(self, value: Any, given: Any, path: str) -> ast.Number:
        """A number literal, inside a double's range as the parser requires (docs/limits.md)."""
        if value is None or finite_number(value) is None:
            shown = given if isinstance(given, float) else "the number"
            raise self.fail(path, f"{shown} is out of range (numbers are limited to the range "
                            "of a double, ±1.8e308)")
        return ast.Number(value)

    def scalar(self, value: Any, path: str) -> ast.Expr:
        if isinstance(value, bool):
            return ast.Boolean(value)
        if isinstance(value, str):
            return ast.String(value)
        if isinstance(value, (int, float)):
            return self.number(value, value, path)
        raise self.fail(path, f"a List literal holds strings, numbers or booleans, not "
                        f"{_describe(value)}")

    def is_profile_root(self, node: Any) -> bool:
        if not isinstance(node, dict):
            return False
        if node.get("nodeType") == "parameterReference":
            return node.get("position") == 1 and not node.get("explicit")
        return (node.get("nodeType") == "literal" and node.get("value") == "profile"
                and str(node.get("literalType", "")).lower() == "xdmobject")

    def field_lookup(self, node: JSON, path: str) -> ast.Expr:
        name = self.name(self.get(node, "fieldName", path), self.join(path, "fieldName"))
        receiver = self.get(node, "object", path)
        if self.is_profile_root(receiver):
            return ast.Name(name)
        return ast.Attribute(self.expr(receiver, self.join(path, "object")), name)

    def parameter(self, node: JSON, path: str) -> ast.Expr:
        position = self.get(node, "position", path)
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise self.fail(self.join(path, "position"),
                            f"expected a position >= 1, found {_describe(position)}")
        return ast.Param(position)

    def var_ref(self, node: JSON, path: str) -> ast.Expr:
        return ast.Name(self.name(self.get(node, "varName", path), self.join(path, "varName")))

    def fn_create(self, node: JSON, path: str) -> ast.Expr:
        raw = self.get(node, "params", path)
        where = self.join(path, "params")
        if not isinstance(raw, list):
            raise self.fail(where, f"expected a list, found {_describe(raw)}")
        names: list[str] = []
        for i, p in enumerate(raw):
            item = self.join(where, i)
            names.append(self.name(self.get(self.obj(p, item), "varName", item),
                                   self.join(item, "varName")))
        return ast.Lambda(tuple(names), self.expr(self.get(node, "body", path),
                                                  self.join(path, "body")))

    def bindings(self, node: JSON, path: str) -> tuple[ast.Binding, ...]:
        raw = self.get(node, "variables", path)
        where = self.join(path, "variables")
        if not isinstance(raw, list) or not raw:
            raise self.fail(where, "expected a non-empty list of varDecl nodes")
        out: list[ast.Binding] = []
        for i, item in enumerate(raw):
            at = self.join(where, i)
            decl = self.obj(item, at)
            if decl.get("nodeType", "varDecl") != "varDecl":
                raise self.fail(at, f"expected a varDecl, found nodeType "
                                f"{json_text(decl.get('nodeType'))}")
            var = self.name(self.get(decl, "varName", at), self.join(at, "varName"))
            key = "from" if "from" in decl else "range"
            source = self.expr(self.get(decl, "from", at, "range"), self.join(at, key))
            cond = decl.get("where")
            condition = None if cond is None else self.expr(cond, self.join(at, "where"))
            out.append(ast.Binding(var, source, condition))
        return tuple(out)

    def select(self, node: JSON, path: str) -> ast.Expr:
        return ast.Select(self.bindings(node, path))

    def quantification(self, node: JSON, path: str) -> ast.Expr:
        kind = self.get(node, "quantifier", path)
        bindings = self.bindings(node, path)
        if kind == "some":
            return ast.Quantifier("some" if node.get("keyword") == "some" else "exists", bindings)
        if kind == "all":
            return ast.Quantifier("forall", bindings)
        if kind == "none":
            return ast.Not(ast.Quantifier("exists", bindings))
        raise self.fail(self.join(path, "quantifier"), f"quantifier {json_text(kind)} has no "
                        "pql/text form (expected some, all or none)")

    def fn_apply(self, node: JSON, path: str) -> ast.Expr:
        name = self.get(node, "fnName", path, "function")
        key = "fnName" if "fnName" in node else "function"
        if not isinstance(name, str) or not name:
            raise self.fail(self.join(path, key), f"expected a function name, found "
                            f"{_describe(name)}")
        params, where = self.params(node, path)
        form = node.get("form")
        if name.startswith(EXTENSION_PREFIX) and form is None:
            reader = self.extensions.get(name[len(EXTENSION_PREFIX):])
            if reader is None:
                raise self.fail(self.join(path, key), f"unknown extension {json_text(name)} "
                                "(see docs/pqljson.md)")
            return reader(params, where)
        if form is None and name in _OPERATOR_NAMES:
            return self.operator(name, params, where)
        if form not in (None, "call", "method"):
            raise self.fail(self.join(path, "form"), f"unknown form {json_text(form)} "
                            "(expected \"call\" or \"method\")")
        fn = self.name(name, self.join(path, key))
        if form == "call" or (form is None and catalog.lookup(fn, "global") is not None):
            return ast.Call(fn, self.exprs(params, where))
        if not params:
            raise self.fail(where, f"method `{fn}` needs its receiver as the first param")
        args = self.exprs(params, where)
        return ast.MethodCall(args[0], fn, args[1:])

    def operator(self, name: str, params: list[Any], path: str) -> ast.Expr:
        if name in ("and", "or"):
            self.arity(params, path, name, 1, None)
            values = self.exprs(params, path)
            return values[0] if len(values) == 1 else ast.BoolOp(name, values)
        if name == "not":
            self.arity(params, path, name, 1, 1)
            return ast.Not(self.expr(params[0], self.join(path, 0)))
        if name == "-" and len(params) == 1:
            return _negate(self.expr(params[0], self.join(path, 0)))
        if name == "=" and len(params) == 3:  # Adobe's case-flag string equality
            a, b, flag = self.exprs(params, path)
            return ast.MethodCall(a, "equals", (b, flag))
        self.arity(params, path, name, 2, 2)
        left, right = self.exprs(params, path)
        if name in _COMPARE:
            return ast.Compare(name, left, right)
        return ast.BinOp(name, left, right)

    # -- extensions
    def object_literal(self, params: list[Any], path: str) -> ast.Expr:
        if len(params) % 2:
            raise self.fail(path, "`pqltools:object` takes key/value pairs (an even number of "
                            "params)")
        entries = tuple(
            ast.ObjectEntry(self.str_param(params, path, i, "key string"),
                            self.expr(params[i + 1], self.join(path, i + 1)))
            for i in range(0, len(params), 2)
        )
        return ast.ObjectLiteral(entries)

    def context(self, params: list[Any], path: str) -> ast.Expr:
        self.arity(params, path, "pqltools:context", 2, 2)
        kind = self.str_param(params, path, 0, "kind", ("", "event"))
        text = self.str_param(params, path, 1)
        if "}" in text or "\n" in text:
            raise self.fail(self.join(path, 1), "context text cannot hold `}` or a newline")
        return ast.ContextRef(kind, text)

    def filter(self, params: list[Any], path: str) -> ast.Expr:
        self.arity(params, path, "pqltools:filter", 2, 2)
        receiver, condition = self.exprs(params, path)
        return ast.Filter(receiver, condition)

    def aggregate(self, params: list[Any], path: str) -> ast.Expr:
        self.arity(params, path, "pqltools:aggregate", 2, 3)
        func = self.str_param(params, path, 0, "aggregate name", ast.AGGREGATES)
        at = self.join(path, 1)
        decls = self.obj(params[1], at)
        if decls.get("nodeType") != "select":
            raise self.fail(at, "expected a select node holding the variables")
        value = self.expr(params[2], self.join(path, 2)) if len(params) == 3 else None
        return ast.Aggregate(func, value, self.bindings(decls, at))

    def let(self, params: list[Any], path: str) -> ast.Expr:
        self.arity(params, path, "pqltools:let", 2, 2)
        at = self.join(path, 0)
        decl = self.obj(params[0], at)
        name = self.name(self.get(decl, "varName", at), self.join(at, "varName"))
        value = self.expr(self.get(decl, "from", at), self.join(at, "from"))
        return ast.Let(name, value, self.expr(params[1], self.join(path, 1)))

    def time_ref(self, value: Any, path: str) -> ast.TimeRef:
        node = self.obj(value, path)
        name = node.get("fnName")
        if name in (EXTENSION_PREFIX + "timeKeyword", EXTENSION_PREFIX + "calendarPeriod"):
            params, where = self.params(node, path)
            if name.endswith("timeKeyword"):
                self.arity(params, where, name, 1, 1)
                return ast.TimeKeyword(self.str_param(params, where, 0, "time word",
                                                      ast.TIME_KEYWORDS))
            self.arity(params, where, name, 2, 2)
            return ast.CalendarPeriod(
                self.str_param(params, where, 0, "relation", ast.PERIOD_RELATIONS),
                self.str_param(params, where, 1, "unit", ast.TIME_UNITS))
        return self.expr(node, path)

    def phrase(self, value: Any, path: str) -> ast.TimePhrase:
        node = self.obj(value, path)
        name = node.get("fnName")
        params, where = self.params(node, path) if node.get("nodeType") == "fnApply" else ([], "")
        if name == EXTENSION_PREFIX + "relativeTime":
            if len(params) not in (2, 5):
                raise self.fail(where, f"`{name}` takes 2 or 5 params, found {len(params)}")
            direction = self.str_param(params, where, 0, "direction", ast.DIRECTIONS)
            ref = self.time_ref(params[1], self.join(where, 1))
            if len(params) == 2:
                return ast.RelativeTime(None, None, None, direction, ref)
            comparator = self.str_param(params, where, 2, "comparator",
                                        ("=", "!=", "<", "<=", ">", ">="))
            amount = self.int_param(params, where, 3)
            unit = self.str_param(params, where, 4, "unit", ast.TIME_UNITS)
            return ast.RelativeTime(comparator, amount, unit, direction, ref)
        if name == EXTENSION_PREFIX + "atTime":
            self.arity(params, where, name, 1, 1)
            return ast.AtTime(self.time_ref(params[0], self.join(where, 0)))
        if name == EXTENSION_PREFIX + "betweenTimes":
            self.arity(params, where, name, 2, 2)
            return ast.BetweenTimes(self.time_ref(params[0], self.join(where, 0)),
                                    self.time_ref(params[1], self.join(where, 1)))
        raise self.fail(path, "expected a time phrase (pqltools:relativeTime, pqltools:atTime "
                        "or pqltools:betweenTimes)")

    def occurs(self, params: list[Any], path: str) -> ast.Expr:
        self.arity(params, path, "pqltools:occurs", 2, 2)
        return ast.Occurs(self.expr(params[0], self.join(path, 0)),
                          self.phrase(params[1], self.join(path, 1)))

    def chain(self, params: list[Any], path: str) -> ast.Expr:
        self.arity(params, path, "pqltools:chain", 2, None)
        events = self.expr(params[0], self.join(path, 0))
        field_path = self.str_param(params, path, 1, "timestamp field path")
        for part in field_path.split("."):
            self.name(part, self.join(path, 1))
        steps = tuple(self.step(p, self.join(path, i)) for i, p in enumerate(params[2:], 2))
        return ast.Chain(events, field_path, steps)

    def step(self, value: Any, path: str) -> ast.ChainStep:
        node = self.obj(value, path)
        if node.get("fnName") != EXTENSION_PREFIX + "step":
            raise self.fail(path, "expected a chain step (pqltools:step)")
        params, where = self.params(node, path)
        label = self.name(self.str_param(params, where, 0, "step label"), self.join(where, 0))
        clauses: dict[str, Any] = {}
        for i, raw in enumerate(params[1:], 1):
            at = self.join(where, i)
            clause = self.obj(raw, at)
            name = clause.get("fnName")
            kind = name[len(EXTENSION_PREFIX):] if isinstance(name, str) and name.startswith(
                EXTENSION_PREFIX) else ""
            if kind not in ("what", "when", "count", "where"):
                raise self.fail(at, "expected a step clause (pqltools:what, pqltools:when, "
                                "pqltools:count or pqltools:where)")
            if kind in clauses:
                raise self.fail(at, f"step `{label}` has a second `{kind}` clause")
            inner, inner_at = self.params(clause, at)
            self.arity(inner, inner_at, str(name), 1, 1)
            if kind == "count":
                clauses[kind] = self.int_param(inner, inner_at, 0)
            elif kind == "when":
                clauses[kind] = self.phrase(inner[0], self.join(inner_at, 0))
            else:
                clauses[kind] = self.expr(inner[0], self.join(inner_at, 0))
        return ast.ChainStep(label, **clauses)


def _negate(operand: ast.Expr) -> ast.Expr:
    """``-operand`` as the parser builds it: a negated number literal is a number literal.

    The parser reads ``-5`` and ``-(-5)`` as ``Number(-5)`` and ``Number(5)``, so a
    ``Neg(Number(...))`` would print as text that parses to another tree.
    """
    if isinstance(operand, ast.Number) and not isinstance(operand.value, bool):
        return ast.Number(-operand.value)
    return ast.Neg(operand)


def json_text(value: Any) -> str:
    """``value`` shown as JSON in a message (``"foo"``, ``42``)."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return f"the string {json_text(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def from_json(obj: Any) -> ast.Expr:
    """The PQL tree a ``pql/json`` value describes (a dict, or JSON text).

    Accepts :func:`to_json`'s output, Adobe's documented shapes and the legacy ones
    (docs/pqljson.md). Raises :class:`PQLJSONError` (a :class:`~pqltools.errors.PQLValidationError`)
    naming the JSON path on bad input, e.g. ``params[1].object: unknown nodeType "foo"``.
    """
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise PQLJSONError("(root)", f"not valid JSON: {exc.msg} at line {exc.lineno}, "
                               f"column {exc.colno}") from None
        except RecursionError:
            raise PQLJSONError("(root)", "JSON is nested too deeply") from None
    try:
        return _FromJSON().expr(obj, "")
    except RecursionError:
        raise PQLJSONError("(root)", "pql/json value is nested too deeply") from None
