"""What DuckDB and Spark SQL spell differently, as sqlglot expression nodes.

The compiler asks a :class:`SqlDialect` for list functions, timestamps and regular expressions
and never writes SQL text itself; sqlglot renders the nodes for the named dialect. DuckDB 2.x
rejects the ``x -> ...`` lambda arrow by default; sqlglot renders :class:`sqlglot.exp.Lambda` as
``LAMBDA x : ...`` for DuckDB and ``x -> ...`` for Spark, which is what each accepts.
"""

from __future__ import annotations

from sqlglot import exp

__all__ = ["DIALECTS", "DuckDBDialect", "SparkDialect", "SqlDialect", "call", "lam", "var"]


def call(name: str, *args: exp.Expression) -> exp.Expression:
    """A function call node (the name as the dialect spells it)."""
    return exp.Anonymous(this=name, expressions=list(args))


def var(name: str) -> exp.Column:
    """A reference to a lambda parameter."""
    return exp.column(exp.to_identifier(name))


def lam(params: list[str], body: exp.Expression) -> exp.Lambda:
    """A lambda node ``params -> body``."""
    return exp.Lambda(this=body, expressions=[exp.to_identifier(p) for p in params])


def _text(message: str | exp.Expression) -> exp.Expression:
    return exp.Literal.string(message) if isinstance(message, str) else message


class SqlDialect:
    """The SQL a construct needs on one engine; subclasses fill in the differences."""

    name = ""
    sqlglot = ""
    #: the index of a list's first element in a lambda's index parameter
    index_base = 0

    def filter(self, items: exp.Expression, param: str, cond: exp.Expression) -> exp.Expression:
        """The elements of ``items`` for which ``cond`` is true (null and false drop them)."""
        raise NotImplementedError

    def transform(self, items: exp.Expression, param: str, body: exp.Expression
                  ) -> exp.Expression:
        """``body`` for every element of ``items``."""
        raise NotImplementedError

    def size(self, items: exp.Expression) -> exp.Expression:
        """The number of elements; for a null list a value that is not above 0."""
        raise NotImplementedError

    def count(self, items: exp.Expression) -> exp.Expression:
        """The number of elements, 0 for a null list."""
        return exp.Coalesce(this=self.size(items), expressions=[exp.Literal.number(0)])

    def flatten(self, items: exp.Expression) -> exp.Expression:
        """A list of lists made one list."""
        return call("flatten", items)

    def list_aggregate(self, func: str, items: exp.Expression) -> exp.Expression:
        """``sum``/``average``/``min``/``max`` of a list's non-null numbers (null when none)."""
        raise NotImplementedError

    def transform_indexed(self, items: exp.Expression, param: str, index: str,
                          body: exp.Expression) -> exp.Expression:
        """``body`` for every element of ``items``, ``index`` bound to the element's index
        (counted from :attr:`index_base`)."""
        raise NotImplementedError

    def element(self, items: exp.Expression, position: exp.Expression) -> exp.Expression:
        """The element at a 1-based ``position`` (null when the position is null)."""
        raise NotImplementedError

    def sort(self, items: exp.Expression) -> exp.Expression:
        """The list in ascending order (structs compare field by field)."""
        raise NotImplementedError

    def reverse(self, items: exp.Expression) -> exp.Expression:
        """The list in reverse order."""
        raise NotImplementedError

    def take(self, items: exp.Expression, count: exp.Expression) -> exp.Expression:
        """The first ``count`` elements (``count`` from 0 on, at most the list's length; null
        when ``count`` is null)."""
        raise NotImplementedError

    def reduce(self, items: exp.Expression, acc: str, param: str, body: exp.Expression,
               initial: exp.Expression) -> exp.Expression:
        """A left fold: ``body`` (reading ``acc`` and the element ``param``) from ``initial``
        over the elements in order; ``initial`` for an empty list, null for a null one."""
        raise NotImplementedError

    def struct(self, fields: list[tuple[str, exp.Expression]]) -> exp.Expression:
        """A struct value with the named fields in order."""
        return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(k, quoted=True),
                                                      expression=v) for k, v in fields])

    def truncate(self, number: exp.Expression) -> exp.Expression:
        """A number truncated toward zero to a BIGINT (Python's ``int()``)."""
        raise NotImplementedError

    def distinct(self, items: exp.Expression) -> exp.Expression:
        """The list without duplicates, first occurrences in order."""
        raise NotImplementedError

    def fail(self, message: str | exp.Expression) -> exp.Expression:
        """An expression that stops the query with ``message`` (an evaluation error)."""
        raise NotImplementedError

    def add_months_ms(self, ms: exp.Expression, months: int) -> exp.Expression:
        """Epoch ms moved by whole calendar months (UTC; the day clamped to the month's end)."""
        raise NotImplementedError

    def epoch_ms(self, ts: exp.Expression) -> exp.Expression:
        """Epoch milliseconds of a TIMESTAMP value."""
        raise NotImplementedError

    def iso_to_ms(self, text: exp.Expression) -> exp.Expression:
        """Epoch milliseconds of an ISO-8601 string (UTC without an offset; null if not one)."""
        raise NotImplementedError

    def regex_find(self, text: exp.Expression, pattern: str) -> exp.Expression:
        """Whether ``pattern`` (already in this engine's regex flavour) matches anywhere."""
        raise NotImplementedError

    def regex_extract(self, text: exp.Expression, pattern: str, group: int) -> exp.Expression:
        """Capturing group ``group`` of the first match of ``pattern`` (already in this engine's
        regex flavour); an empty string when there is no match (both engines)."""
        return call("regexp_extract", text, exp.Literal.string(pattern),
                    exp.Literal.number(group))

    def lower(self, text: exp.Expression) -> exp.Expression:
        """The string in lower case."""
        return exp.Lower(this=text)

    def contains(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        """Whether ``needle`` occurs in ``hay``."""
        return exp.GT(this=exp.StrPosition(this=hay, substr=needle),
                      expression=exp.Literal.number(0))

    def starts_with(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        """Whether ``hay`` starts with ``needle``."""
        return call("starts_with", hay, needle)

    def ends_with(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        """Whether ``hay`` ends with ``needle``."""
        return call("ends_with", hay, needle)

    def like(self, text: exp.Expression, pattern: str) -> exp.Expression:
        """``text LIKE pattern``, whole string, ``%`` and ``_`` wildcards, nothing escaped."""
        return exp.Like(this=text, expression=exp.Literal.string(pattern))

    def year(self, ts: exp.Expression) -> exp.Expression:
        """The UTC year of a TIMESTAMP."""
        return exp.Year(this=ts)

    def month(self, ts: exp.Expression) -> exp.Expression:
        """The UTC month of a TIMESTAMP."""
        return exp.Month(this=ts)

    def day(self, ts: exp.Expression) -> exp.Expression:
        """The UTC day of month of a TIMESTAMP."""
        return exp.Day(this=ts)

    def ms_to_timestamp(self, ms: exp.Expression) -> exp.Expression:
        """A TIMESTAMP from epoch milliseconds."""
        raise NotImplementedError


class DuckDBDialect(SqlDialect):
    """DuckDB 2.x (RE2 regular expressions, ``LAMBDA x : ...`` lambdas)."""

    name = "duckdb"
    sqlglot = "duckdb"
    index_base = 1

    def filter(self, items: exp.Expression, param: str, cond: exp.Expression) -> exp.Expression:
        return call("list_filter", items, lam([param], cond))

    def transform(self, items: exp.Expression, param: str, body: exp.Expression
                  ) -> exp.Expression:
        return call("list_transform", items, lam([param], body))

    def size(self, items: exp.Expression) -> exp.Expression:
        return call("len", items)

    def transform_indexed(self, items: exp.Expression, param: str, index: str,
                          body: exp.Expression) -> exp.Expression:
        return call("list_transform", items, lam([param, index], body))

    def element(self, items: exp.Expression, position: exp.Expression) -> exp.Expression:
        return exp.Bracket(this=items, expressions=[position], offset=1, safe=True)

    def sort(self, items: exp.Expression) -> exp.Expression:
        return call("list_sort", items)

    def reverse(self, items: exp.Expression) -> exp.Expression:
        return call("list_reverse", items)

    def take(self, items: exp.Expression, count: exp.Expression) -> exp.Expression:
        return call("list_slice", items, exp.Literal.number(1), count)

    def reduce(self, items: exp.Expression, acc: str, param: str, body: exp.Expression,
               initial: exp.Expression) -> exp.Expression:
        return call("list_reduce", items, lam([acc, param], body), initial)

    def truncate(self, number: exp.Expression) -> exp.Expression:
        # a DOUBLE cast to BIGINT rounds in DuckDB; trunc() first
        return exp.Cast(this=call("trunc", number), to=exp.DataType.build("BIGINT"))

    def list_aggregate(self, func: str, items: exp.Expression) -> exp.Expression:
        name = {"sum": "list_sum", "average": "list_avg", "min": "list_min",
                "max": "list_max"}[func]
        return call(name, items)

    def distinct(self, items: exp.Expression) -> exp.Expression:
        # list_distinct does not keep the order; PQL keeps first occurrences in order
        keep = exp.EQ(this=call("list_position", items.copy(), var("x")), expression=var("i"))
        return call("list_filter", items, lam(["x", "i"], keep))

    def fail(self, message: str | exp.Expression) -> exp.Expression:
        return call("error", _text(message))

    def add_months_ms(self, ms: exp.Expression, months: int) -> exp.Expression:
        moved = exp.Add(this=self.ms_to_timestamp(ms), expression=call(
            "to_months", exp.Literal.number(months)))
        return self.epoch_ms(moved)

    def epoch_ms(self, ts: exp.Expression) -> exp.Expression:
        return call("epoch_ms", ts)

    def iso_to_ms(self, text: exp.Expression) -> exp.Expression:
        return call("epoch_ms", exp.TryCast(this=text, to=exp.DataType.build("TIMESTAMPTZ")))

    def regex_find(self, text: exp.Expression, pattern: str) -> exp.Expression:
        # DuckDB's regular expressions are RE2, like the interpreter's: the pattern as written
        return call("regexp_matches", text, exp.Literal.string(pattern))

    def ms_to_timestamp(self, ms: exp.Expression) -> exp.Expression:
        return call("make_timestamp_ms", ms)


class SparkDialect(SqlDialect):
    """Spark SQL 3.5/4.x (Java regular expressions, ``x -> ...`` lambdas, ANSI mode safe)."""

    name = "spark"
    sqlglot = "spark"

    def filter(self, items: exp.Expression, param: str, cond: exp.Expression) -> exp.Expression:
        return call("filter", items, lam([param], cond))

    def transform(self, items: exp.Expression, param: str, body: exp.Expression
                  ) -> exp.Expression:
        return call("transform", items, lam([param], body))

    def size(self, items: exp.Expression) -> exp.Expression:
        # size(NULL) is -1, or NULL in ANSI mode: either way not above 0
        return call("size", items)

    def transform_indexed(self, items: exp.Expression, param: str, index: str,
                          body: exp.Expression) -> exp.Expression:
        return call("transform", items, lam([param, index], body))

    def element(self, items: exp.Expression, position: exp.Expression) -> exp.Expression:
        # an INT position; null past the end (element_at fails there in ANSI mode)
        return call("try_element_at", items, exp.Cast(this=position,
                                                      to=exp.DataType.build("INT")))

    def sort(self, items: exp.Expression) -> exp.Expression:
        return call("array_sort", items)

    def reverse(self, items: exp.Expression) -> exp.Expression:
        return call("reverse", items)

    def take(self, items: exp.Expression, count: exp.Expression) -> exp.Expression:
        return call("slice", items, exp.Literal.number(1),
                    exp.Cast(this=count, to=exp.DataType.build("INT")))

    def reduce(self, items: exp.Expression, acc: str, param: str, body: exp.Expression,
               initial: exp.Expression) -> exp.Expression:
        return call("aggregate", items, initial, lam([acc, param], body))

    def truncate(self, number: exp.Expression) -> exp.Expression:
        return exp.Cast(this=number, to=exp.DataType.build("BIGINT"))  # truncates toward zero

    def count(self, items: exp.Expression) -> exp.Expression:
        return exp.Coalesce(this=exp.Greatest(this=call("size", items),
                                              expressions=[exp.Literal.number(0)]),
                            expressions=[exp.Literal.number(0)])

    def list_aggregate(self, func: str, items: exp.Expression) -> exp.Expression:
        present = call("array_compact", items)
        if func == "min":
            return call("array_min", present)
        if func == "max":
            return call("array_max", present)
        total = call("aggregate", present, exp.Cast(this=exp.Literal.number(0),
                                                    to=exp.DataType.build("DOUBLE")),
                     lam(["acc", "x"], exp.Add(this=var("acc"), expression=var("x"))))
        count = call("size", present.copy())
        nothing = exp.EQ(this=count, expression=exp.Literal.number(0))
        if func == "sum":
            return exp.Case(ifs=[exp.If(this=nothing, true=exp.Null())], default=total)
        return exp.Case(ifs=[exp.If(this=nothing, true=exp.Null())],
                        default=exp.Div(this=total, expression=count.copy()))

    def distinct(self, items: exp.Expression) -> exp.Expression:
        # keeps first occurrences in order
        return call("array_distinct", items)

    def fail(self, message: str | exp.Expression) -> exp.Expression:
        return call("raise_error", _text(message))

    def add_months_ms(self, ms: exp.Expression, months: int) -> exp.Expression:
        moved = exp.Add(this=self.ms_to_timestamp(ms), expression=call(
            "make_ym_interval", exp.Literal.number(0), exp.Literal.number(months)))
        return self.epoch_ms(moved)

    def epoch_ms(self, ts: exp.Expression) -> exp.Expression:
        return call("unix_millis", ts)

    def iso_to_ms(self, text: exp.Expression) -> exp.Expression:
        # try_to_timestamp: null (not an error, even in ANSI mode) for a string that is not one
        return call("unix_millis", call("try_to_timestamp", text))

    def regex_find(self, text: exp.Expression, pattern: str) -> exp.Expression:
        # RLIKE is Matcher.find(); the pattern was translated to an equivalent Java one
        return exp.RegexpLike(this=text, expression=exp.Literal.string(pattern))

    def like(self, text: exp.Expression, pattern: str) -> exp.Expression:
        # Spark's LIKE treats a backslash as the escape character: double it to keep it literal
        return exp.Like(this=text, expression=exp.Literal.string(pattern.replace("\\", "\\\\")))

    def contains(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        return exp.GT(this=call("instr", hay, needle), expression=exp.Literal.number(0))

    def starts_with(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        return call("startswith", hay, needle)

    def ends_with(self, hay: exp.Expression, needle: exp.Expression) -> exp.Expression:
        return call("endswith", hay, needle)

    def ms_to_timestamp(self, ms: exp.Expression) -> exp.Expression:
        return call("timestamp_millis", ms)


DIALECTS: dict[str, SqlDialect] = {"duckdb": DuckDBDialect(), "spark": SparkDialect()}
