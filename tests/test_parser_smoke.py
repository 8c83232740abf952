"""First checks of the parser; tests/test_parser.py holds the full suite."""

import pytest

from pqltools import PQLSyntaxError, parse
from pqltools.syntax import ast


def test_comparison_tree() -> None:
    tree = parse('homeAddress.countryCode = "US"')
    assert tree == ast.Compare(
        "=", ast.Attribute(ast.Name("homeAddress"), "countryCode"), ast.String("US")
    )


def test_syntax_error_names_place() -> None:
    with pytest.raises(PQLSyntaxError) as info:
        parse("a == 1")
    (diag,) = info.value.diagnostics
    assert (diag.span.line, diag.span.column) == (1, 4)
    assert "single `=`" in diag.message
