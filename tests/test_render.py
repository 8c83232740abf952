"""The renderers on hand-built results: SARIF validity, JSON shape, GitHub escaping, text."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pqltools.analysis.results import FileResult, Finding
from pqltools.errors import Diagnostic, Edit, Fix, Severity, Span
from pqltools.render import FORMATS, RenderOptions, render, summary_line
from pqltools.render.github import escape_data, escape_property

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-2.1.0.schema.json")
                    .read_text("utf-8"))
TEXT = 'a = 1 and b != null\nc.startwith("x")\n'


def _finding(code: str, start: int, end: int, severity: Severity = Severity.ERROR,
             fix: Fix | None = None, help: str | None = None) -> Finding:
    diag = Diagnostic(code, f"message of {code}", severity, Span.from_offsets(TEXT, start, end),
                      fix=fix, help=help)
    return Finding(diag, "x.pql", edits=fix.edits if fix else None)


RESULTS = [
    FileResult("dir/x.pql", TEXT, (
        _finding("PQL001", 10, 19, Severity.WARNING,
                 Fix("use isNotNull()", (Edit(10, 19, "b.isNotNull()"),), safe=False),
                 help="PQL has no null literal"),
        _finding("PQL005", 22, 31, Severity.INFO),
        _finding("PQL007", 0, 1, Severity.HINT, Fix("drop", (Edit(0, 1, "A"),))),
    ), sources=1),
    FileResult("dir/broken.json", "{", error=Diagnostic(
        "PQL090", "not valid JSON: Expecting value", Severity.ERROR, Span.from_offsets("{", 1, 1))),
    FileResult("clean.pql", "a = 1", sources=1),
]


def test_sarif_is_valid_sarif_2_1_0() -> None:
    log = json.loads(render("sarif", RESULTS))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    run = log["runs"][0]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["PQL001", "PQL005", "PQL007"]
    assert [r["level"] for r in results] == ["warning", "note", "note"]
    first = results[0]
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "dir/x.pql", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 1, "startColumn": 11, "endLine": 1, "endColumn": 20,
                   "charOffset": 10, "charLength": 9}}
    assert first["message"]["text"] == "message of PQL001\nhelp: PQL has no null literal"
    assert first["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"] == {
        "text": "b.isNotNull()"}
    rules = run["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == ["PQL001", "PQL005", "PQL007"]
    assert run["invocations"][0]["executionSuccessful"] is False
    notification = run["invocations"][0]["toolExecutionNotifications"][0]
    assert notification["message"]["text"] == "PQL090: not valid JSON: Expecting value"


def test_sarif_with_no_results_is_valid() -> None:
    log = json.loads(render("sarif", [FileResult("clean.pql", "a = 1", sources=1)]))
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_json_shape() -> None:
    doc = json.loads(render("json", RESULTS))
    assert doc["version"] == 1
    assert doc["summary"] == {"files": 3, "sources": 2, "findings": 3,
                              "by_severity": {"error": 0, "warning": 1, "info": 1, "hint": 1},
                              "fixable": 2, "fixed": 0, "errors": 1}
    first = doc["findings"][0]
    assert first == {
        "file": "dir/x.pql", "code": "PQL001", "name": "syntax-error", "severity": "warning",
        "message": "message of PQL001", "help": "PQL has no null literal",
        "location": {"line": 1, "column": 11, "offset": 10},
        "end_location": {"line": 1, "column": 20, "offset": 19},
        "definition": None,
        "fix": {"message": "use isNotNull()", "applicability": "unsafe", "edits": [
            {"location": {"line": 1, "column": 11, "offset": 10},
             "end_location": {"line": 1, "column": 20, "offset": 19},
             "content": "b.isNotNull()"}]},
    }
    assert doc["errors"][0]["code"] == "PQL090"
    assert doc["errors"][0]["location"] == {"line": 1, "column": 2, "offset": 1}


def test_github_annotations_and_escaping() -> None:
    lines = render("github", RESULTS).splitlines()
    assert lines[0] == ("::warning file=dir/x.pql,line=1,col=11,endLine=1,endColumn=20,"
                        "title=PQL001::message of PQL001%0Ahelp: PQL has no null literal")
    assert lines[1].startswith("::notice file=dir/x.pql,line=2,col=3,")
    assert lines[3].startswith("::error file=dir/broken.json,line=1,col=2,")
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_concise_marks_safe_fixes_only() -> None:
    lines = render("concise", RESULTS).splitlines()
    assert lines[0] == "dir/x.pql:1:11: warning PQL001: message of PQL001"
    assert lines[2] == "dir/x.pql:1:1: hint PQL007: [*] message of PQL007"
    assert lines[3] == "dir/broken.json:1:2: error PQL090: not valid JSON: Expecting value"


def test_text_shows_fix_notes_and_summary() -> None:
    out = render("text", RESULTS)
    assert "  fix: use isNotNull() (unsafe: --fix --unsafe-fixes)\n" in out
    assert "  fix: drop (safe: --fix)\n" in out
    assert out.endswith(
        "Found 3 problems (1 warning, 1 info, 1 hint) in 1 of 3 files; 1 fixable with --fix, "
        "1 fixable with --fix --unsafe-fixes. 1 file could not be linted.\n")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_renders_an_empty_run(fmt: str) -> None:
    assert isinstance(render(fmt, [], RenderOptions()), str)


def test_summary_counts_unsafe_fixes_as_fixable_with_unsafe_fixes() -> None:
    line = summary_line(RESULTS[:1], unsafe_fixes=True)
    assert line.endswith("; 2 fixable with --fix.")
