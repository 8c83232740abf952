"""The one table of PQL functions and methods (reference section 7).

The validator (arity, argument and receiver types, "did you mean"), the interpreter (which
implementation to call and which arguments are evaluated per element), the language server (hover,
completion) and ``docs/functions.md`` all read this table. A function is added here, once.

Type names are a small vocabulary: ``any``, ``boolean``, ``number``, ``integer``, ``string``,
``list``, ``map``, ``object``, ``timestamp``, ``date``, ``entry``. ``list`` receivers also accept
the result of a filter, ``select`` or a path through an array.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from pqltools.records import record

TypeName = Literal[
    "any", "boolean", "number", "integer", "string", "list", "map", "object", "timestamp",
    "date", "entry",
]

FunctionKind = Literal["method", "global"]


@record(frozen=True, slots=True)
class ParamSpec:
    """One parameter. ``element_scope`` means it is evaluated once per element of the receiver."""

    name: str
    type: TypeName = "any"
    optional: bool = False
    variadic: bool = False
    element_scope: bool = False


@record(frozen=True, slots=True)
class FunctionSpec:
    """A PQL function or method: its signature, meaning and the facts other passes need."""

    name: str
    kind: FunctionKind
    params: tuple[ParamSpec, ...]
    returns: TypeName
    doc: str
    receiver: TypeName | None = None
    category: str = "misc"
    aggregation: bool = False
    example: str = ""
    source: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def min_args(self) -> int:
        """The fewest arguments a call may pass."""
        return sum(1 for p in self.params if not p.optional and not p.variadic)

    @property
    def max_args(self) -> int | None:
        """The most arguments a call may pass (None when variadic)."""
        if any(p.variadic for p in self.params):
            return None
        return len(self.params)

    @property
    def signature(self) -> str:
        """``receiver.name(param: type, [optional: type])`` as shown in hover and docs."""
        parts = []
        for p in self.params:
            text = f"{p.name}: {p.type}"
            if p.variadic:
                text = f"{text}, ..."
            if p.optional:
                text = f"[{text}]"
            parts.append(text)
        prefix = f"{self.receiver}." if self.kind == "method" else ""
        return f"{prefix}{self.name}({', '.join(parts)}) -> {self.returns}"

    def param_for(self, index: int) -> ParamSpec | None:
        """The parameter that receives argument ``index`` (variadic parameters repeat)."""
        if index < len(self.params):
            return self.params[index]
        if self.params and self.params[-1].variadic:
            return self.params[-1]
        return None


def _p(name: str, type: TypeName = "any", **kw: bool) -> ParamSpec:
    return ParamSpec(name, type, **kw)


_CS = _p("caseSensitive", "boolean", optional=True)
_PRED = _p("predicate", "boolean", element_scope=True)
_ELEM = _p("expression", "any", element_scope=True)


def _string_predicate(name: str, doc: str, example: str) -> FunctionSpec:
    return FunctionSpec(
        name, "method", (_p("text", "string"), _CS), "boolean", doc + " Optional case flag "
        "(default true = case-sensitive). False if either string is null.",
        receiver="string", category="string", example=example, source="STR, LEG-PQL",
    )


def _aggregate(name: str, doc: str, returns: TypeName = "number") -> FunctionSpec:
    return FunctionSpec(
        name, "method", (_p("expression", "number", optional=True, element_scope=True),),
        returns, doc, receiver="list", category="aggregation", aggregation=True,
        example=f"orders.{name}(price)", source="AGG, LEG-PQL",
    )


_FUNCTIONS: tuple[FunctionSpec, ...] = (
    # ---- global functions
    FunctionSpec("if", "global", (_p("test", "boolean"), _p("then"), _p("else")), "any",
                 "Conditional: `then` when `test` holds, otherwise `else`.", category="boolean",
                 example='if(homeAddress.countryCode in ["US", "CA"], "NA", "ROW")',
                 source="BOOL"),
    FunctionSpec("date", "global", (_p("year", "integer"), _p("month", "integer"),
                                    _p("day", "integer")), "date",
                 "The whole UTC day year-month-day (month 1-12, day 1-31).", category="datetime",
                 example="date(2020, 3, 14)", source="OV, LEG-PQL"),
    FunctionSpec("currentMonth", "global", (), "integer",
                 "Month (1-12) of the evaluation time, UTC.", category="datetime",
                 example="currentMonth() = 12", source="DT"),
    FunctionSpec("currentYear", "global", (), "integer", "Year of the evaluation time, UTC.",
                 category="datetime", example="currentYear() - 1", source="DT"),
    FunctionSpec("currentDayOfMonth", "global", (), "integer",
                 "Day of month (1-31) of the evaluation time, UTC.", category="datetime",
                 example="currentDayOfMonth() = 1", source="DT"),
    FunctionSpec("inSegment", "global", (_p("audienceId", "string"),), "boolean",
                 "True when the profile is currently a member (realized or existing) of the "
                 "audience with this id.", category="segment",
                 example='inSegment("a730ed3f-5c3a-4e6a-9b5b-2b9a7d5f2c11")', source="M-STREAM"),
    FunctionSpec("mapEntry", "global", (_p("key"), _p("value")), "entry",
                 "A map entry, used as the result of `map` over a grouped map.", category="map",
                 example="mapEntry(K, G.count())", source="CA-EXPR"),
    # ---- boolean / object
    FunctionSpec("isNull", "method", (), "boolean", "True if the referenced value does not exist.",
                 receiver="any", category="object", example="person.name.isNull()", source="OBJ"),
    FunctionSpec("isNotNull", "method", (), "boolean", "True if the referenced value exists.",
                 receiver="any", category="object", example="person.name.isNotNull()",
                 source="OBJ"),
    # ---- arrays
    FunctionSpec("intersects", "method", (_p("other", "list"),), "boolean",
                 "True if the two lists have at least one member in common.", receiver="list",
                 category="array", example='person.favoriteColors.intersects(["red", "blue"])',
                 source="ARR"),
    FunctionSpec("intersection", "method", (_p("other", "list"),), "list",
                 "The common members of the two lists (null when there are none).",
                 receiver="list", category="array",
                 example='person.favoriteColors.intersection(["red", "blue"])', source="ARR"),
    FunctionSpec("subsetOf", "method", (_p("other", "list"),), "boolean",
                 "True if every element of the receiver is in `other`.", receiver="list",
                 category="array", example="person.likedColors.subsetOf(favoriteColors)",
                 source="ARR"),
    FunctionSpec("supersetOf", "method", (_p("other", "list"),), "boolean",
                 "True if the receiver contains every element of `other`.", receiver="list",
                 category="array", example='person.likedColors.supersetOf(["red", "green"])',
                 source="ARR"),
    FunctionSpec("includes", "method", (_p("item"),), "boolean",
                 "True if the receiver contains `item`.", receiver="list", category="array",
                 example='person.favoriteColors.includes("red")', source="ARR"),
    FunctionSpec("distinct", "method", (), "list", "The receiver without duplicates.",
                 receiver="list", category="array", example="person.orders.storeId.distinct()",
                 source="ARR"),
    FunctionSpec("groupBy", "method", (_ELEM,), "map",
                 "A map from each value of the expression (per element) to the elements with it.",
                 receiver="list", category="array", example="orders.groupBy(storeId)",
                 source="ARR"),
    FunctionSpec("filter", "method", (_PRED,), "list",
                 "The elements for which the predicate holds (same as `list[predicate]`).",
                 receiver="list", category="array", example="orders.filter(price > 100)",
                 source="ARR"),
    FunctionSpec("map", "method", (_ELEM,), "any",
                 "The expression (or lambda) applied to each element; on a grouped map, a "
                 "two-parameter lambda `(K, G) => mapEntry(K, ...)` or an object body with `this`.",
                 receiver="any", category="array", example="orders.map(price * 2)",
                 source="ARR, CA-EXPR"),
    FunctionSpec("topN", "method", (_p("sortExpression", "any", element_scope=True),
                                    _p("n", "integer")), "list",
                 "The n elements with the highest values of the sort expression, highest first.",
                 receiver="list", category="array", example="orders.topN(price, 5)",
                 source="ARR"),
    FunctionSpec("bottomN", "method", (_p("sortExpression", "any", element_scope=True),
                                       _p("n", "integer")), "list",
                 "The n elements with the lowest values of the sort expression, lowest first.",
                 receiver="list", category="array", example="orders.bottomN(price, 5)",
                 source="ARR"),
    FunctionSpec("head", "method", (), "any", "The first element (null for an empty list).",
                 receiver="list", category="array", example="orders.topN(price, 5).head()",
                 source="ARR"),
    FunctionSpec("exists", "method", (_p("predicate", "boolean", optional=True,
                                         element_scope=True),), "boolean",
                 "True if some element satisfies the predicate (or, without one, if the list "
                 "is non-empty).", receiver="list", category="array",
                 example='values().exists(stringProperty = "active")', source="A-EDGE"),
    FunctionSpec("count", "method", (), "integer", "The number of elements (0 when empty).",
                 receiver="list", category="aggregation", aggregation=True,
                 example="orders.count() > 3", source="AGG"),
    _aggregate("sum", "Sum of the expression over the elements (0 when empty)."),
    _aggregate("average", "Average of the expression over the elements (null when empty)."),
    _aggregate("min", "Smallest value of the expression over the elements (null when empty).",
               "any"),
    _aggregate("max", "Largest value of the expression over the elements (null when empty).",
               "any"),
    # ---- maps
    FunctionSpec("get", "method", (_p("key", "string"),), "any", "The value stored under `key`.",
                 receiver="map", category="map", example='identityMap.get("ECID")', source="MAP"),
    FunctionSpec("keys", "method", (), "list", "All keys of the map.", receiver="map",
                 category="map", example="identityMap.keys()", source="MAP"),
    FunctionSpec("values", "method", (), "list", "All values of the map.", receiver="map",
                 category="map", example="identityMap.values()", source="MAP"),
    # ---- strings
    _string_predicate("startsWith", "True if the string starts with `text`.",
                      'person.name.startsWith("Joe")'),
    _string_predicate("doesNotStartWith", "True if the string does not start with `text`.",
                      'person.name.doesNotStartWith("Joe")'),
    _string_predicate("endsWith", "True if the string ends with `text`.",
                      'workEmail.address.endsWith(".com")'),
    _string_predicate("doesNotEndWith", "True if the string does not end with `text`.",
                      'workEmail.address.doesNotEndWith(".com")'),
    _string_predicate("contains", "True if the string contains `text`.",
                      'person.name.contains("Joe")'),
    _string_predicate("doesNotContain", "True if the string does not contain `text`.",
                      'person.name.doesNotContain("Joe")'),
    FunctionSpec("equals", "method", (_p("text", "string"), _p("more", "any", variadic=True)),
                 "boolean",
                 "String equality, with an optional case flag as last argument "
                 '(`equals("x", false)` ignores case). Several strings (`State.equals("AL", '
                 '"AK")`) mean "equals any of them".', receiver="string", category="string",
                 example='eventType.equals("commerce.checkouts", false)', source="STR, LEG-PQL"),
    _string_predicate("notEqualTo", "True if the strings differ (both must be non-null).",
                      'person.name.notEqualTo("Joe")'),
    FunctionSpec("matches", "method", (_p("regex", "string"),), "boolean",
                 "True if the regular expression matches somewhere in the string (find "
                 "semantics; anchor with ^ and $). `(?i)` ignores case.", receiver="string",
                 category="string", example='person.name.matches("(?i)^John")', source="STR"),
    FunctionSpec("regexGroup", "method", (_p("regex", "string"), _p("group", "integer",
                                                                    optional=True)), "string",
                 "The capture group `group` (default 0, the whole match) of the first match.",
                 receiver="string", category="string",
                 example='emailAddress.regexGroup("@(\\\\w+)", 1)', source="STR"),
    # ---- date and time
    FunctionSpec("getMonth", "method", (), "integer", "Month (1-12) of the timestamp, UTC.",
                 receiver="timestamp", category="datetime", example="birthDate.getMonth() = 12",
                 source="DT"),
    FunctionSpec("getYear", "method", (), "integer", "Year of the timestamp, UTC.",
                 receiver="timestamp", category="datetime", example="birthDate.getYear() > 1990",
                 source="DT"),
    FunctionSpec("getDayOfMonth", "method", (), "integer",
                 "Day of month (1-31) of the timestamp, UTC.", receiver="timestamp",
                 category="datetime", example="birthDate.getDayOfMonth() = 1", source="DT"),
)

GLOBALS: dict[str, FunctionSpec] = {f.name: f for f in _FUNCTIONS if f.kind == "global"}
METHODS: dict[str, FunctionSpec] = {f.name: f for f in _FUNCTIONS if f.kind == "method"}
ALL_FUNCTIONS: tuple[FunctionSpec, ...] = _FUNCTIONS


def lookup(name: str, kind: FunctionKind) -> FunctionSpec | None:
    """The spec of global function or method ``name`` (case-sensitive), or None."""
    return (GLOBALS if kind == "global" else METHODS).get(name)


def suggest(name: str, kind: FunctionKind) -> str | None:
    """The closest known name for a misspelt one (``startwith`` -> ``startsWith``), or None."""
    table = GLOBALS if kind == "global" else METHODS
    lowered = {k.lower(): k for k in table}
    if name.lower() in lowered:
        return lowered[name.lower()]
    import difflib

    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[close[0]] if close else None


_CATEGORIES = (("boolean", "Boolean"), ("string", "Strings"), ("array", "Lists (arrays)"),
               ("aggregation", "Aggregation"), ("map", "Maps"), ("object", "Objects"),
               ("datetime", "Dates and times"), ("segment", "Segments"), ("misc", "Other"))


def _entry(spec: FunctionSpec) -> list[str]:
    call = f"{spec.name}(...)" if spec.kind == "global" else f"x.{spec.name}(...)"
    lines = [f"### `{spec.name}`", "", f"`{spec.signature}`", "", spec.doc, ""]
    scoped = [p.name for p in spec.params if p.element_scope]
    if scoped:
        names = ", ".join(f"`{name}`" for name in scoped)
        lines += [(f"{names} {'is' if len(scoped) == 1 else 'are'} evaluated once per element "
                  "of the receiver (a bare name there is a field of the element; see "
                  "docs/semantics.md \"Names\")."), ""]
    facts = ["global function" if spec.kind == "global" else "method", f"called as `{call}`"]
    if spec.aggregation:
        facts.append("an aggregation (counted by `too-many-aggregations`)")
    if spec.source:
        facts.append(f"reference source: {spec.source}")
    sentence = "; ".join(facts)
    lines += [f"{sentence[0].upper()}{sentence[1:]}.", ""]
    if spec.example:
        lines += ["```pql", spec.example, "```", ""]
    return lines


def functions_markdown() -> str:
    """The full text of ``docs/functions.md``, generated from this table (a test keeps the
    committed copy equal: ``python -m pqltools.catalog > docs/functions.md``)."""
    lines = [
        "# Functions and methods", "",
        ("<!-- Generated by `python -m pqltools.catalog > docs/functions.md`; do not edit by "
        "hand. -->"), "",
        ("Every function and method PQL has, from the one function table "
        "(`pqltools/catalog.py`) that the linter, the interpreter and the language server "
        "read. Names are case-sensitive. A call of any other name is `unknown-function` "
        "(PQL101) or `unknown-method` (PQL102); a wrong number of arguments is "
        "`wrong-argument-count` (PQL103). `[name: type]` marks an optional parameter, `...` "
        "a repeated one. Reference sources are the tags of the PQL reference's source table."),
        "",
    ]
    known = {name for name, _ in _CATEGORIES}
    for category, title in _CATEGORIES:
        specs = sorted((f for f in _FUNCTIONS
                        if f.category == category or (category == "misc"
                                                      and f.category not in known)),
                       key=lambda f: (f.kind != "global", f.name))
        if not specs:
            continue
        lines += [f"## {title}", ""]
        for spec in specs:
            lines += _entry(spec)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(functions_markdown())
