"""``pql lint``: inputs, positions inside JSON files, options, --fix, exit codes, parallel runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from pqltools import fileio
from pqltools.analysis import results
from pqltools.cli import main, runner

UNCLOSED = 'person.gender = "male" and (loyalty.tier = "gold"'


def lint(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["lint", "--jobs", "1", *args], input=stdin)


def definition(value: str, name: str = "Test") -> dict[str, object]:
    return {"name": name, "expression": {"type": "PQL", "format": "pql/text", "value": value}}


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty directory with a default configuration, as the current directory."""
    (tmp_path / "pqltools.toml").write_text("", "utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------- inputs


def test_clean_file_exits_0(repo: Path) -> None:
    (repo / "ok.pql").write_text('-- fine\nhomeAddress.countryCode = "US"\n', "utf-8")
    result = lint("ok.pql")
    assert result.exit_code == 0
    assert result.stdout == "All checks passed (1 file).\n"


def test_syntax_error_exits_1_with_position_caret_and_help(repo: Path) -> None:
    (repo / "bad.pql").write_text(f"-- comment\n{UNCLOSED}\n", "utf-8")
    result = lint("bad.pql")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "bad.pql:2:28: error PQL005: `(` at line 2, column 28 is never closed"
    assert lines[1] == f"  {UNCLOSED}"
    assert lines[2] == "  " + " " * 27 + "^"
    assert lines[3] == "  help: add `)`"


def test_json_definition_positions_point_inside_the_json_file(repo: Path) -> None:
    text = json.dumps({"segments": [definition("a = 1"),
                                    definition('x = "\\u00e9\\"" and (y = 2', "Second")]},
                      indent=2)
    (repo / "defs.json").write_text(text, "utf-8")
    result = lint("--format", "json", "defs.json")
    assert result.exit_code == 1
    finding = json.loads(result.stdout)["findings"][0]
    line_no = finding["location"]["line"]
    line = text.splitlines()[line_no - 1]
    column = finding["location"]["column"]
    assert line[column - 1] == "("  # the caret sits on the `(` inside the JSON string
    assert text[finding["location"]["offset"]] == "("
    assert finding["definition"] == {"index": 1, "name": "Second", "id": None}


def test_directories_are_searched_recursively_in_sorted_order(repo: Path) -> None:
    (repo / "b").mkdir()
    (repo / "a" / "deep").mkdir(parents=True)
    (repo / "b" / "one.pql").write_text("(x", "utf-8")
    (repo / "a" / "deep" / "two.pql").write_text("(y", "utf-8")
    (repo / "a" / "notes.txt").write_text("(not pql", "utf-8")
    result = lint("--format", "concise", ".")
    paths = [line.split(":")[0] for line in result.stdout.splitlines()[:-1]]
    assert paths == [os.path.join("a", "deep", "two.pql"), os.path.join("b", "one.pql")]


def test_stdin_is_linted_as_pql(repo: Path) -> None:
    result = lint("--format", "concise", "-", stdin="a = (1\n")
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:1:5: error PQL005:")


def test_no_paths_lints_the_current_directory(repo: Path) -> None:
    (repo / "x.pql").write_text("(a", "utf-8")
    assert lint("--format", "concise").stdout.startswith("x.pql:1:1: error")


# ---------------------------------------------------------------------------- exit code 2


def test_invalid_json_exits_2_naming_file_line_column(repo: Path) -> None:
    (repo / "bad.json").write_text('{\n  "expression": {"value": "a",}\n}\n', "utf-8")
    result = lint("bad.json")
    assert result.exit_code == 2
    assert result.stdout.startswith("bad.json:2:31: error PQL090: not valid JSON")
    assert "Traceback" not in result.output


def test_json_without_expression_exits_2(repo: Path) -> None:
    (repo / "package.json").write_text('{"name": "x"}', "utf-8")
    result = lint("--format", "concise", "package.json")
    assert result.exit_code == 2
    assert "definition 0 has no `expression`" in result.stdout


def test_missing_file_exits_2(repo: Path) -> None:
    result = lint("nope.pql")
    assert result.exit_code == 2
    assert "pql: error: nope.pql: no such file or directory" in result.stderr


def test_not_utf8_exits_2(repo: Path) -> None:
    (repo / "latin1.pql").write_bytes(b'a = "\xe9"')
    result = lint("latin1.pql")
    assert result.exit_code == 2
    assert "latin1.pql:1:1: error PQL090: not UTF-8 text (byte 5)" in result.stdout


def test_bad_configuration_exits_2_naming_the_file_and_key(repo: Path) -> None:
    (repo / "pqltools.toml").write_text('fail-on = "fatal"\n', "utf-8")
    (repo / "ok.pql").write_text("a = 1", "utf-8")
    result = lint("ok.pql")
    assert result.exit_code == 2
    assert "pqltools.toml:1:1: fail-on must be one of error, warning, info, hint" in result.stderr
    assert "Traceback" not in result.output


def test_explicit_config_file(repo: Path) -> None:
    (repo / "strict.toml").write_text("bogus = 1\n", "utf-8")
    (repo / "ok.pql").write_text("a = 1", "utf-8")
    result = lint("--config", "strict.toml", "ok.pql")
    assert result.exit_code == 2
    assert "unknown configuration key 'bogus'" in result.stderr


def test_bad_select_code_is_a_usage_error(repo: Path) -> None:
    (repo / "ok.pql").write_text("a = 1", "utf-8")
    result = lint("--select", "E501", "ok.pql")
    assert result.exit_code == 2
    assert "'E501' is not a rule code or prefix" in result.stderr


def test_statistics_with_sarif_is_a_usage_error(repo: Path) -> None:
    result = lint("--statistics", "--format", "sarif", ".")
    assert result.exit_code == 2


# ---------------------------------------------------------------------------- thresholds


def test_exit_zero_keeps_findings_but_exits_0(repo: Path) -> None:
    (repo / "bad.pql").write_text("(a", "utf-8")
    result = lint("--exit-zero", "bad.pql")
    assert result.exit_code == 0
    assert "PQL005" in result.stdout


def test_exit_zero_does_not_hide_io_errors(repo: Path) -> None:
    (repo / "bad.json").write_text("{", "utf-8")
    assert lint("--exit-zero", "bad.json").exit_code == 2


def test_statistics_counts_per_rule(repo: Path) -> None:
    for name in ("a", "b", "c"):
        (repo / f"{name}.pql").write_text("(x = 1", "utf-8")
    result = lint("--statistics", ".")
    assert result.exit_code == 1
    assert result.stdout == "3  PQL005  [*] unbalanced-brackets\n"
    as_json = json.loads(lint("--statistics", "--format", "json", ".").stdout)
    assert as_json == [{"code": "PQL005", "name": "unbalanced-brackets", "count": 3,
                        "fixable": 3}]


def test_colour_only_when_asked_or_on_a_terminal(repo: Path) -> None:
    (repo / "bad.pql").write_text("(a", "utf-8")
    assert "\x1b[" not in lint("bad.pql").stdout  # CliRunner's stdout is not a terminal
    assert "\x1b[31m" in lint("--color", "always", "bad.pql").stdout
    assert "\x1b[" not in lint("--color", "always", "--format", "json", "bad.pql").stdout


def test_output_file(repo: Path) -> None:
    (repo / "bad.pql").write_text("(a", "utf-8")
    result = lint("--format", "json", "-o", "report.json", "bad.pql")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert json.loads((repo / "report.json").read_text("utf-8"))["summary"]["findings"] == 1


# ---------------------------------------------------------------------------- rules

TYPO = 'person.name.firstName.startwith("J") and person.name.lastName != null\n'


def test_select_and_ignore_override_the_configuration(repo: Path) -> None:
    (repo / "pqltools.toml").write_text('select = ["PQL120"]\n', "utf-8")
    (repo / "typo.pql").write_text(TYPO, "utf-8")
    configured = lint("--format", "concise", "typo.pql")
    assert configured.exit_code == 0  # only the PQL120 warning: below the error threshold
    assert [line.split()[2] for line in configured.stdout.splitlines()[:-1]] == ["PQL120:"]
    selected = lint("--format", "concise", "--select", "PQL102,PQL120", "typo.pql")
    assert selected.exit_code == 1
    assert "PQL102" in selected.stdout and "PQL120" in selected.stdout
    ignored = lint("--format", "concise", "--select", "PQL1", "--ignore", "pql102", "typo.pql")
    assert "PQL102" not in ignored.stdout and "PQL120" in ignored.stdout


def test_fail_on_threshold(repo: Path) -> None:
    (repo / "warn.pql").write_text("person.name.lastName != null\n", "utf-8")
    assert lint("warn.pql").exit_code == 0
    assert lint("--fail-on", "warning", "warn.pql").exit_code == 1
    (repo / "pqltools.toml").write_text('fail-on = "warning"\n', "utf-8")
    assert lint("warn.pql").exit_code == 1
    assert lint("--fail-on", "error", "warn.pql").exit_code == 0


def test_safe_fix_is_applied_by_plain_fix_and_relinted(repo: Path) -> None:
    path = repo / "or.pql"
    path.write_text('-- countries\nc = "US" or c = "CA" or c = "MX" or c = "BR"\n', "utf-8")
    before = lint("--format", "concise", "--fail-on", "warning", "or.pql")
    assert before.exit_code == 1 and "[*]" in before.stdout
    result = lint("--fix", "--fail-on", "warning", "or.pql")
    assert result.exit_code == 0, result.stdout
    fixed = path.read_text("utf-8")
    assert fixed.startswith("-- countries\nc in [") and fixed.endswith("]\n")
    for value in ("US", "CA", "MX", "BR"):
        assert f'"{value}"' in fixed
    assert result.stdout.startswith("Fixed 1 problem. All checks passed")


def test_rules_lists_the_registry() -> None:
    from pqltools.analysis.rules import all_rules

    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"code": r.code, "name": r.name, "severity": r.severity.value, "summary": r.summary}
        for r in all_rules()]
    text = CliRunner().invoke(main, ["rules"]).stdout.splitlines()
    assert len(text) == len(all_rules())
    assert text[0].split()[:3] == [all_rules()[0].code, all_rules()[0].name,
                                   all_rules()[0].severity.value]


@pytest.mark.parametrize("key", ["code", "name"])
def test_rule_explains_with_bad_and_good_examples(key: str) -> None:
    from pqltools.analysis.rules import all_rules

    rule = all_rules()[0]
    result = CliRunner().invoke(main, ["rule", getattr(rule, key).lower()])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"{rule.code} {rule.name} (default severity: {rule.severity.value})"
    assert rule.summary in result.stdout
    assert f"## Example\n\n```pql\n{rule.bad.strip()}\n```" in result.stdout
    assert f"## Use instead\n\n```pql\n{rule.good.strip()}\n```" in result.stdout


def test_rule_explains_every_code_not_only_rules() -> None:
    from pqltools import codes

    for code, row in codes.CODES.items():
        result = CliRunner().invoke(main, ["rule", code])
        assert result.exit_code == 0, code
        assert result.stdout.startswith(f"{code} {row.name} (default severity: "), code
        assert row.summary in result.stdout
    listed = CliRunner().invoke(main, ["rules", "--all", "--format", "json"])
    assert [r["code"] for r in json.loads(listed.stdout)] == list(codes.CODES)


def test_unknown_rule_suggests_and_exits_2() -> None:
    result = CliRunner().invoke(main, ["rule", "PQL12O"])
    assert result.exit_code == 2
    assert "unknown code 'PQL12O'; did you mean PQL120?" in result.stderr
    prefix = CliRunner().invoke(main, ["rule", "PQL13"])
    assert "unknown code 'PQL13'; codes starting with PQL13: PQL130, PQL131" in prefix.stderr
    by_name = CliRunner().invoke(main, ["rule", "null-comparisn"])
    assert "did you mean null-comparison?" in by_name.stderr


SCHEMA = {"person.name.firstName": "string", "homeAddress.countryCode": "string"}


def test_schema_option_and_configuration_enable_schema_rules(repo: Path) -> None:
    (repo / "fields.json").write_text(json.dumps(SCHEMA), "utf-8")
    (repo / "typo.pql").write_text('person.name.firstNam = "Ann"\n', "utf-8")
    assert "PQL201" not in lint("--format", "concise", "typo.pql").stdout
    with_option = lint("--format", "concise", "--schema", "fields.json", "typo.pql")
    assert with_option.exit_code == 1
    assert "typo.pql:1:13: error PQL201:" in with_option.stdout
    assert "firstName" in with_option.stdout  # the did-you-mean
    (repo / "pqltools.toml").write_text('schema = "fields.json"\n', "utf-8")
    assert lint("--format", "concise", "typo.pql").stdout == with_option.stdout


def test_schema_is_shared_with_worker_processes(repo: Path) -> None:
    (repo / "fields.json").write_text(json.dumps(SCHEMA), "utf-8")
    for i in range(60):
        field = "firstNam" if i % 2 else "firstName"
        (repo / f"s{i:02d}.pql").write_text(f'person.name.{field} = "{i}"\n', "utf-8")
    serial = lint("--format", "concise", "--schema", "fields.json", ".")
    parallel = CliRunner().invoke(main, ["lint", "--format", "concise", "--jobs", "2",
                                         "--schema", "fields.json", "."])
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count("PQL201") == 30


def test_bad_schema_is_a_usage_error(repo: Path) -> None:
    (repo / "fields.json").write_text("{", "utf-8")
    (repo / "ok.pql").write_text("a = 1", "utf-8")
    result = lint("--schema", "fields.json", "ok.pql")
    assert result.exit_code == 2
    assert result.stderr.startswith("pql: error: fields.json: ")
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------- --fix


def test_unsafe_fix_needs_unsafe_fixes(repo: Path) -> None:
    path = repo / "bad.pql"
    path.write_text(f"-- keep me\n{UNCLOSED}\n", "utf-8")
    assert lint("--fix", "bad.pql").exit_code == 1
    assert path.read_text("utf-8") == f"-- keep me\n{UNCLOSED}\n"
    result = lint("--fix", "--unsafe-fixes", "bad.pql")
    assert result.exit_code == 0
    assert path.read_text("utf-8") == f"-- keep me\n{UNCLOSED})\n"
    assert result.stdout == "Fixed 1 problem. All checks passed (1 file).\n"


def test_unsafe_fixes_without_fix_is_a_usage_error(repo: Path) -> None:
    assert lint("--unsafe-fixes", ".").exit_code == 2


def test_fix_in_json_changes_only_the_expression_string(repo: Path) -> None:
    # hand-written JSON: odd spacing, escapes, CRLF line ends and a trailing newline all survive
    text = ('{ "segments" : [\r\n'
            '  {"name":"one","expression":{"type":"PQL","format":"pql/text",'
            '"value":"a = \\"caf\\u00e9\\" and (b = \\"x\\/y\\""}},\r\n'
            '  {"name":"two","expression":{"type":"PQL","format":"pql/text","value":"(c = 1"},'
            '   "extra" :  [1,2 ,3]}\r\n'
            ']}\r\n')
    path = repo / "defs.json"
    path.write_bytes(text.encode("utf-8"))
    result = lint("--fix", "--unsafe-fixes", "defs.json")
    assert result.exit_code == 0, result.output
    fixed = path.read_bytes().decode("utf-8")
    assert fixed == text.replace('\\"x\\/y\\""', '\\"x\\/y\\")"').replace('"(c = 1"', '"(c = 1)"')
    values = [d["expression"]["value"] for d in json.loads(fixed)["segments"]]
    assert values == ['a = "café" and (b = "x/y")', "(c = 1)"]


def test_fix_leaves_pql_json_definitions_alone(repo: Path) -> None:
    from pqltools import parse
    from pqltools.syntax.pqljson import to_json

    value = to_json(parse('c = "US" or c = "CA" or c = "MX" or c = "BR"'))
    text = json.dumps({"name": "ast", "expression": {"type": "PQL", "format": "pql/json",
                                                     "value": value}}, indent=1)
    path = repo / "ast.json"
    path.write_text(text, "utf-8")
    result = lint("--fix", "--fail-on", "warning", "ast.json")
    assert result.exit_code == 1
    assert path.read_text("utf-8") == text
    assert "(not applied automatically here: pql/json definition)" in result.stdout
    assert "Fixed" not in result.stdout


def test_a_fix_that_breaks_the_expression_is_reverted(repo: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pqltools.errors import Diagnostic, Edit, Fix, Severity, Span

    real = runner.lint_source

    def with_a_broken_fix(text: str, **kwargs: Any) -> list[Diagnostic]:
        found = real(text, **kwargs)
        if "BROKEN" not in text:
            bad = Fix("break it", (Edit(0, 0, "BROKEN ("),))
            found.append(Diagnostic("PQL121", "buggy rule", Severity.WARNING,
                                    Span.from_offsets(text, 0, 1), fix=bad))
        return found

    monkeypatch.setattr(runner, "lint_source", with_a_broken_fix)
    path = repo / "x.pql"
    path.write_text("a = 1\n", "utf-8")
    result = lint("--fix", "--format", "concise", "x.pql")
    assert path.read_text("utf-8") == "a = 1\n"
    assert "x.pql:1:1: warning PQL097: fixes not applied: they would have made the file " \
           "invalid" in result.stdout
    assert "Fixed" not in result.stdout


def test_fix_writes_atomically_and_never_corrupts(repo: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = repo / "bad.pql"
    path.write_text("(a = 1", "utf-8")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "replace", failing_replace)
    result = lint("--fix", "--unsafe-fixes", "bad.pql")
    assert result.exit_code == 2
    assert "PQL098: cannot write the fixed file: No space left on device" in result.stdout
    assert path.read_text("utf-8") == "(a = 1"
    assert sorted(p.name for p in repo.iterdir()) == ["bad.pql", "pqltools.toml"]


def test_fix_keeps_file_permissions(repo: Path) -> None:
    path = repo / "bad.pql"
    path.write_text("(a = 1", "utf-8")
    path.chmod(0o640)
    lint("--fix", "--unsafe-fixes", "bad.pql")
    assert path.read_text("utf-8") == "(a = 1)"
    assert path.stat().st_mode & 0o777 == 0o640


def test_fix_on_stdin_prints_fixed_text_and_reports_on_stderr(repo: Path) -> None:
    result = lint("--fix", "--unsafe-fixes", "-", stdin="(a = 1")
    assert result.stdout == "(a = 1)"
    assert result.stderr == "Fixed 1 problem. All checks passed (1 file).\n"


# ---------------------------------------------------------------------------- parallel


def test_parallel_run_gives_the_same_output_as_serial(repo: Path) -> None:
    for i in range(70):
        body = "(a = 1" if i % 3 == 0 else f"b = {i}"
        (repo / f"f{i:03d}.pql").write_text(body, "utf-8")
    (repo / "many.json").write_text(json.dumps(
        [definition(f"c = {i}" if i % 2 else f"(c = {i}") for i in range(40)]), "utf-8")
    serial = CliRunner().invoke(main, ["lint", "--format", "json", "--jobs", "1", "."])
    parallel = CliRunner().invoke(main, ["lint", "--format", "json", "--jobs", "2", "."])
    assert serial.exit_code == parallel.exit_code == 1
    assert serial.stdout == parallel.stdout
    assert json.loads(serial.stdout)["summary"]["findings"] == 24 + 20


def test_one_large_file_is_spread_over_processes_with_the_same_output(repo: Path) -> None:
    (repo / "export.json").write_text(json.dumps({"segments": [
        definition(f"(c = {i}" if i % 4 == 0 else f"c = {i}") for i in range(120)]}), "utf-8")
    serial = CliRunner().invoke(main, ["lint", "--format", "concise", "--jobs", "1", "."])
    parallel = CliRunner().invoke(main, ["lint", "--format", "concise", "--jobs", "2", "."])
    assert serial.stdout == parallel.stdout
    assert serial.stdout.count("PQL005") == 30


# ---------------------------------------------------------------------------- subprocess


@pytest.mark.parametrize(("body", "expected"), [("a = 1", 0), ("(a = 1", 1), ("{", 2)])
def test_exit_codes_through_a_real_process(repo: Path, body: str, expected: int) -> None:
    name = "input.json" if body == "{" else "input.pql"
    (repo / name).write_text(body, "utf-8")
    proc = subprocess.run([sys.executable, "-m", "pqltools", "lint", name],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == expected, proc.stderr
    assert "Traceback" not in proc.stderr


def test_usage_error_through_a_real_process(repo: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pqltools", "lint", "--format", "xml"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 2
    assert "Invalid value for '--format'" in proc.stderr


# ---------------------------------------------------------------------------- properties


@given(text=st.text(max_size=40), data=st.data(), ascii_only=st.booleans(),
       indent=st.sampled_from([None, 2]))
def test_an_edit_mapped_into_a_json_file_edits_the_decoded_expression(
        text: str, data: st.DataObject, ascii_only: bool, indent: int | None) -> None:
    """Whatever the escapes, a mapped edit changes exactly the expression's characters."""
    from pqltools.errors import Diagnostic, Edit, Fix, Severity, Span
    from pqltools.sources import sources_from_text

    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    replacement = data.draw(st.text(max_size=5))
    file_text = json.dumps({"name": "p", "expression": {"type": "PQL", "format": "pql/text",
                                                       "value": text}},
                           ensure_ascii=ascii_only, indent=indent)
    source = sources_from_text("d.json", file_text, json_input=True)[0]
    fix = Fix("f", (Edit(start, end, replacement),))
    diag = Diagnostic("PQL121", "m", Severity.WARNING, Span.from_offsets(text, start, end),
                      fix=fix)
    edits = results.file_edits(source, diag)
    assert edits is not None
    (edit,) = edits
    fixed = file_text[:edit.start] + edit.replacement + file_text[edit.end:]
    assert json.loads(fixed)["expression"]["value"] == text[:start] + replacement + text[end:]
    assert fixed[:edit.start] == file_text[:edit.start]  # everything before is byte-identical
