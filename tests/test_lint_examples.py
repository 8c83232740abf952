"""The example definitions: the flawed ones (examples/flawed/) show exactly the findings their description names,
the others are clean (with and without the example schema)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pqltools.analysis.config import Config
from pqltools.analysis.lint import lint_source
from pqltools.definitions import load_definitions

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "examples" / "definitions"
SCHEMA = ROOT / "examples" / "schema" / "fields.json"
FLAWED = sorted((ROOT / "examples" / "flawed").glob("flawed-*.json"))


def _codes(path: Path, schema: Path | None = None) -> set[str]:
    found: set[str] = set()
    for definition in load_definitions(path):
        for diag in lint_source(definition.expression, comments=False, config=Config(),
                                schema=schema, definition=definition):
            found.add(diag.code)
    return found


def test_there_are_flawed_examples() -> None:
    assert len(FLAWED) >= 3


@pytest.mark.parametrize("path", FLAWED, ids=lambda p: p.name)
def test_flawed_example_shows_what_its_description_says(path: Path) -> None:
    (definition,) = load_definitions(path)
    described = set(re.findall(r"PQL\d{3}", str(definition.raw["description"])))
    assert described, "the description must name the codes it demonstrates"
    assert _codes(path) == described


def test_us_buyers_is_clean_even_with_the_schema() -> None:
    assert _codes(DEFINITIONS / "us-buyers.json") == set()
    assert _codes(DEFINITIONS / "us-buyers.json", SCHEMA) == set()
