"""``regexGroup`` compiled to SQL with the interpreter's meaning
(:mod:`pqltools.runtime.functions`).

* A receiver that is not a string (null, a number, a list) gives null, whatever the pattern
  and the group.
* The pattern must be a string literal (as for ``matches``): it is checked when compiling (an
  invalid one is the interpreter's validation error, PQL411) and, on Spark, translated to the
  Java pattern that means the same (:mod:`pqltools.engines.regex`), or refused.
* The group is a literal (absent: 0, the whole match). A group the pattern does not have, or
  one that is not a finite number, is the interpreter's evaluation error for every string
  receiver (decided by the interpreter's own function when compiling), so the SQL stops the
  query on a non-null string.
* No match gives null (``regexp_extract`` would give an empty string). A group that may take no
  part in a match (in an alternative, or under ``?``/``*``) is refused: ``regexp_extract`` gives
  an empty string there, the interpreter null.
"""

from __future__ import annotations

from sqlglot import exp

from pqltools.engines import regex as sql_regex
from pqltools.engines.compiler import SqlCompiler, Val
from pqltools.engines.types import NULL, STRING
from pqltools.errors import Diagnostic, PQLValidationError, Severity
from pqltools.runtime.functions import METHOD_IMPLS, EvalProblem
from pqltools.runtime.regex import RegexError, compile_regex
from pqltools.syntax import ast

__all__ = ["regex_group"]


def regex_group(c: SqlCompiler, node: ast.MethodCall) -> Val:
    """``s.regexGroup(pattern[, group])``: the group of the first match of ``pattern`` in the
    string ``s``; null when there is none (module docstring)."""
    subject = c.visit(node.receiver)
    c._known(subject, node.receiver)
    pattern_node = node.args[0]
    if not isinstance(pattern_node, ast.String):
        raise c.refuse(pattern_node, "a pattern that is not a string literal")
    pattern = pattern_node.value
    try:
        compile_regex(pattern)
    except RegexError as exc:
        raise PQLValidationError([Diagnostic("PQL411", str(exc), Severity.ERROR,
                                             pattern_node.span)], c.text) from None
    group = _literal_group(c, node)
    if subject.type != STRING:
        return Val(exp.null(), NULL)
    try:
        # the receiver's text does not matter to the checks: an empty string stands for any
        METHOD_IMPLS["regexGroup"](None, "", pattern, group)
    except EvalProblem as exc:
        failed = exp.Cast(this=c.d.fail(str(exc)), to=exp.DataType.build("TEXT"))
        return Val(exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(
            this=subject.sql, expression=exp.Null())), true=failed)]), STRING)
    index = 0 if group is None else int(group)
    if not sql_regex.group_always_takes_part(pattern, index):
        raise c.refuse(node, f"`regexGroup` of group {index} of {pattern!r}, which may take no "
                       "part in a match (in an alternative, or under `?`, `*` or `{0,n}`): "
                       "SQL gives an empty string there, the interpreter null")
    try:
        translated = sql_regex.translate(pattern, c.d.name)
    except sql_regex.Untranslatable as exc:
        raise c.refuse(pattern_node, f"the regular expression {pattern!r}: {exc}") from None
    matched = c.d.regex_find(subject.sql.copy(), translated)
    return Val(exp.Case(ifs=[exp.If(this=matched, true=c.d.regex_extract(
        subject.sql, translated, index))]), STRING)


def _literal_group(c: SqlCompiler, node: ast.MethodCall) -> str | int | float | bool | None:
    """The group argument's value (None when absent); refused unless it is a literal."""
    if len(node.args) < 2:
        return None
    arg = node.args[1]
    if not isinstance(arg, (ast.Number, ast.String, ast.Boolean)):
        raise c.refuse(arg, "a `regexGroup` group number that is not a literal")
    return arg.value
