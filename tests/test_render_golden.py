"""Golden-file tests of ``pql lint`` output in every format.

If one fails after an intended change (a renderer, or a rule's message), run
``python tests/golden/regenerate.py`` and review the diff of ``tests/golden/lint.*.txt``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def _regenerate() -> ModuleType:
    path = Path(__file__).parent / "golden" / "regenerate.py"
    spec = importlib.util.spec_from_file_location("golden_regenerate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REGENERATE = _regenerate()


@pytest.mark.parametrize("name", sorted(REGENERATE.VARIANTS))
def test_golden_output(name: str) -> None:
    code, output = REGENERATE.run_variant(name)
    expected = REGENERATE.golden_path(name).read_text("utf-8")
    assert output == expected, f"run `python tests/golden/regenerate.py` if {name} changed on purpose"
    # broken.json is not valid JSON: an I/O-class error wins over findings
    assert code == 2


def test_text_golden_shows_caret_under_the_json_position() -> None:
    text = REGENERATE.golden_path("text").read_text("utf-8").splitlines()
    header = text.index(next(line for line in text if line.startswith("unclosed.pql:2:28:")))
    assert text[header + 1] == '  person.gender = "male" and (loyalty.tier = "gold"'
    assert text[header + 2] == "  " + " " * 27 + "^"


def test_color_golden_differs_from_plain_only_by_ansi_codes() -> None:
    import click

    plain = REGENERATE.golden_path("text").read_text("utf-8")
    colored = REGENERATE.golden_path("text-color").read_text("utf-8")
    assert "\x1b[" in colored
    assert click.unstyle(colored) == plain


def test_sarif_golden_is_valid_sarif() -> None:
    import json

    import jsonschema

    schema_path = Path(__file__).parent / "data" / "sarif-2.1.0.schema.json"
    schema = json.loads(schema_path.read_text("utf-8"))
    log = json.loads(REGENERATE.golden_path("sarif").read_text("utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    assert log["runs"][0]["results"]
