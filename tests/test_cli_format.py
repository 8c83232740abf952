"""``pql format`` and ``pql convert`` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pqltools import from_json, parse
from pqltools.cli import main

MESSY = 'homeAddress.countryCode="US"   and  x>1'
CLEAN = 'homeAddress.countryCode = "US" and x > 1'
# A definition file whose layout and escapes (\u00e9, \/) must survive byte for byte.
DEFINITION = (
    '{\n'
    '    "name" : "caf\\u00e9 \\/ people",\n'
    '    "expression": {"type": "PQL", "format": "pql/text",\n'
    '                   "value": "a=\\"caf\\u00e9\\"  and b"},\n'
    '    "evaluationInfo": {"continuous": {"enabled": true}}\n'
    '}\n'
)


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "a.pql").write_text(f"-- keep me\n{MESSY}\n")
    (tmp_path / "ok.pql").write_text(CLEAN + "\n")
    (tmp_path / "def.json").write_bytes(DEFINITION.encode())
    return tmp_path


def test_rewrites_pql_and_only_the_json_value(files: Path) -> None:
    code, _, err = run("format", str(files))
    assert code == 0
    assert (files / "a.pql").read_text() == f"-- keep me\n{CLEAN}\n"
    assert (files / "ok.pql").read_text() == CLEAN + "\n"
    expected = DEFINITION.replace('"a=\\"caf\\u00e9\\"  and b"', '"a = \\"caf\\u00e9\\" and b"')
    assert (files / "def.json").read_bytes() == expected.encode()
    assert "2 files reformatted, 1 unchanged" in err
    assert not list(files.glob(".*.tmp"))  # the atomic write's temp file is gone


def test_unchanged_json_value_keeps_its_escapes(tmp_path: Path) -> None:
    text = '{"expression": {"format": "pql/text", "value": "a = \\"\\u00e9\\/\\""}}'
    path = tmp_path / "d.json"
    path.write_text(text)
    assert run("format", str(path))[0] == 0
    assert path.read_text() == text


def test_check_writes_nothing_and_exits_1(files: Path) -> None:
    before = (files / "a.pql").read_text()
    code, _, err = run("format", "--check", str(files / "a.pql"), str(files / "ok.pql"))
    assert code == 1
    assert f"would reformat {files / 'a.pql'}" in err
    assert (files / "a.pql").read_text() == before
    assert run("format", "--check", str(files / "ok.pql"))[0] == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(files: Path) -> None:
    before = (files / "a.pql").read_text()
    code, out, _ = run("format", "--diff", str(files / "a.pql"))
    assert code == 0
    label = str(files / "a.pql")
    assert out.splitlines()[:2] == [f"--- {label} (original)", f"+++ {label} (formatted)"]
    assert f"-{MESSY}" in out.splitlines()
    assert f"+{CLEAN}" in out.splitlines()
    assert (files / "a.pql").read_text() == before


def test_stdin_to_stdout() -> None:
    assert run("format", "-", input=MESSY) == (0, CLEAN + "\n", "")


def test_stdin_definition_to_stdout() -> None:
    code, out, _ = run("format", "-", input=DEFINITION)
    assert code == 0
    assert '"value": "a = \\"caf\\u00e9\\" and b"' in out


def test_syntax_error_names_file_line_column_and_leaves_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.pql"
    path.write_text("-- c\na = 1 and\n")
    code, _, err = run("format", str(path))
    assert code == 1
    assert err.startswith(f"{path}:2:")
    assert "the expression ends too early" in err
    assert path.read_text() == "-- c\na = 1 and\n"


def test_syntax_error_in_definition_points_into_the_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    text = '{\n  "expression": {"format": "pql/text", "value": "x = \\"\\u00e9\\" and and"}\n}\n'
    path.write_text(text)
    code, _, err = run("format", str(path))
    assert code == 1
    # `and and`: the second `and` is at column 49 of line 2 of the JSON file
    assert err.startswith(f"{path}:2:")
    assert path.read_text() == text


def test_comment_inside_expression_leaves_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "c.pql"
    text = "a = 1\n-- why\nand b = 2\n"
    path.write_text(text)
    code, _, err = run("format", str(path))
    assert code == 1
    assert f"{path}:2:1: error PQL008" in err
    assert "cannot be formatted without moving comments" in err
    assert path.read_text() == text


def test_missing_file_and_malformed_json_exit_2(tmp_path: Path) -> None:
    code, _, err = run("format", str(tmp_path / "nope.pql"))
    assert code == 2
    assert "no such file or directory" in err
    path = tmp_path / "broken.json"
    path.write_text('{"expression": ')
    code, _, err = run("format", str(path))
    assert code == 2
    assert f"{path}:1:16: not valid JSON" in err


def test_width_option(tmp_path: Path) -> None:
    path = tmp_path / "w.pql"
    path.write_text("a = 1 and b = 2\n")
    assert run("format", "--width", "20", str(path))[0] == 0
    assert path.read_text() == "a = 1 and b = 2\n"
    path.write_text("aaaaaaaaaa = 1 and bbbbbbbbbb = 2\n")
    run("format", "--width", "20", str(path))
    assert path.read_text() == "aaaaaaaaaa = 1\nand bbbbbbbbbb = 2\n"


# ----------------------------------------------------------------------------- convert


def test_convert_expression_to_json_and_back() -> None:
    code, out, _ = run("convert", "--to", "json", 'workAddress.country = "US"')
    assert code == 0
    tree = json.loads(out)
    assert tree["fnName"] == "="
    assert tree["params"][0]["object"] == {
        "nodeType": "fieldLookup", "fieldName": "workAddress",
        "object": {"nodeType": "parameterReference", "position": 1}}
    code, out, _ = run("convert", "--to", "text", json.dumps(tree))
    assert (code, out) == (0, 'workAddress.country = "US"\n')


def test_convert_definition_file_keeps_envelope(files: Path) -> None:
    code, out, _ = run("convert", "--to", "json", str(files / "def.json"))
    assert code == 0
    envelope = json.loads(out)
    assert envelope["name"] == "café / people"
    assert envelope["evaluationInfo"] == {"continuous": {"enabled": True}}
    assert envelope["expression"]["format"] == "pql/json"
    assert envelope["expression"]["type"] == "PQL"
    assert from_json(envelope["expression"]["value"]) == parse('a = "café" and b')
    back = files / "back.json"
    back.write_text(out)
    code, out, _ = run("convert", "--to", "text", str(back))
    assert code == 0
    assert json.loads(out)["expression"] == {"type": "PQL", "format": "pql/text",
                                             "value": 'a = "café" and b'}


def test_convert_list_response_keeps_its_shape(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"segments": [
        {"id": "s1", "expression": {"type": "PQL", "format": "pql/text", "value": "a=1"}},
        {"id": "s2", "expression": {"type": "PQL", "format": "pql/text", "value": "b"}},
    ], "page": {"totalCount": 2}}))
    code, out, _ = run("convert", "--to", "json", str(path))
    assert code == 0
    result = json.loads(out)
    assert result["page"] == {"totalCount": 2}
    assert [s["id"] for s in result["segments"]] == ["s1", "s2"]
    assert all(s["expression"]["format"] == "pql/json" for s in result["segments"])


def test_convert_pql_file_with_comments(files: Path) -> None:
    code, out, _ = run("convert", "--to", "text", str(files / "a.pql"))
    assert (code, out) == (0, CLEAN + "\n")


def test_convert_errors() -> None:
    code, _, err = run("convert", "--to", "json", "a = = 1")
    assert code == 1
    assert "<expression>:1:5: error PQL001" in err
    code, _, err = run("convert", "--to", "text", '{"nodeType": "foo"}')
    assert code == 1
    assert 'invalid pql/json: (root): unknown nodeType "foo"' in err
    assert run("convert", "a")[0] == 2  # --to is required


def test_json_values_stay_on_one_line_like_in_the_editor(tmp_path: Path) -> None:
    long = " and ".join(f'field{i}.value = "something long {i}"' for i in range(5))
    path = tmp_path / "long.json"
    path.write_text(json.dumps(defn_obj(long.replace(" = ", "="))))
    assert run("format", "--width", "40", str(path))[0] == 0
    value = json.loads(path.read_text())["expression"]["value"]
    assert value == long
    assert "\n" not in value


def defn_obj(value: str) -> dict[str, object]:
    return {"expression": {"type": "PQL", "format": "pql/text", "value": value}}


def test_chain_case_option(tmp_path: Path) -> None:
    path = tmp_path / "c.pql"
    path.write_text("CHAIN(xEvent, timestamp, [C0: WHAT(a)])\n")
    assert run("format", "--chain-case", "lower", str(path))[0] == 0
    assert path.read_text() == "chain(xEvent, timestamp, [C0: what(a)])\n"


def test_a_json_file_that_is_not_a_definition_does_not_stop_the_run(tmp_path: Path) -> None:
    (tmp_path / "a_package.json").write_text('{"name": "x"}')
    (tmp_path / "b.pql").write_text("a=1\n")
    code, _, err = run("format", str(tmp_path))
    assert code == 2
    assert "a_package.json:1:1: definition 0 has no `expression`" in err
    assert (tmp_path / "b.pql").read_text() == "a = 1\n"
