"""``pql classify`` end to end (click's runner, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pqltools.cli import main

DEFINITIONS = {"segments": [
    {"id": "seg-profile", "name": "Canadians",
     "expression": {"type": "PQL", "format": "pql/text", "value": 'homeAddress.country = "CA"'},
     "evaluationInfo": {"batch": {"enabled": True}}},
    {"id": "seg-event", "name": "Checkout",
     "expression": {"type": "PQL", "format": "pql/text",
                    "value": 'inSegment("seg-profile") and xEvent[eventType = "checkout"]'},
     "evaluationInfo": {"continuous": {"enabled": True}}},
]}


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["classify", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_expression_text_report() -> None:
    code, out, _ = run("--merge-policy-active-on-edge", "-e",
                       'xEvent[timestamp occurs < 3 days before now]')
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "<expression>: batch (eligible: batch; rules 2025)"
    assert lines[1] == "  event 1:1 (filter): the last 3 days"
    assert lines[2].startswith("  - ELIG-2025-SINGLE-EVENT-WINDOW 1:25: The single event's "
                               "window reaches the last 3 days, beyond 24 hours")
    assert lines[2].endswith("[ELIG \u00a7 Ruleset; ELIG \u00a7 Time window; "
                             "M-STREAM \u00a7 Guidelines]")


def test_bare_expression_argument_and_legacy_rules() -> None:
    code, out, _ = run("--rules", "legacy", "--merge-policy-active-on-edge",
                       'xEvent[eventType = "x"]')
    assert code == 0
    assert out.splitlines()[0] == ("<expression>: streaming (eligible: streaming, edge, batch; "
                                   "rules legacy)")
    assert "+ ELIG-LEGACY-SINGLE-EVENT 1:1:" in out


def test_json_format() -> None:
    code, out, _ = run("--format", "json", "--no-merge-policy-active-on-edge", "-e", "a = 1")
    assert code == 0
    (item,) = json.loads(out)
    assert item["input"] == "<expression>"
    assert item["method"] == "batch" and item["eligible"] == ["batch"]
    assert [r["rule"] for r in item["reasons"]] == ["ELIG-2025-MERGE-POLICY",
                                                    "ELIG-2025-PROFILE-ONLY"]
    assert item["reasons"][0]["file_span"] == {"line": 1, "column": 1}


def test_definitions_file_requested_method_and_sibling_audiences(tmp_path: Path) -> None:
    path = tmp_path / "defs.json"
    path.write_text(json.dumps(DEFINITIONS, indent=2), "utf-8")
    code, out, _ = run(str(path), "--merge-policy-active-on-edge")
    assert code == 0
    blocks = out.split(f"{path}[1]")
    assert blocks[0].startswith(f'{path}[0] "Canadians": batch (eligible: streaming, edge, batch')
    second = blocks[1]
    assert second.startswith(' "Checkout": batch (eligible: batch; rules 2025)')
    assert "evaluationInfo requests: streaming" in second
    assert "! requested streaming is not possible: Adobe evaluates it in batch" in second
    # the sibling definition seg-profile is known to be profile-only
    assert 'audience "seg-profile", which is profile-only: allowed' in second
    # positions are in the JSON file (escaped quotes counted): xEvent[ is at line 23, column 50
    assert "- ELIG-2025-SINGLE-EVENT-NO-WINDOW 23:50:" in second


def test_audiences_file(tmp_path: Path) -> None:
    audiences = tmp_path / "aud.json"
    audiences.write_text(json.dumps({"p": {"method": "batch", "profileOnly": True}}), "utf-8")
    code, out, _ = run("--audiences", str(audiences), "--merge-policy-active-on-edge", "-e",
                       'inSegment("p") and xEvent[timestamp occurs today]')
    assert code == 0
    assert out.startswith("<expression>: streaming (eligible: streaming, edge, batch")


def test_bad_audiences_file(tmp_path: Path) -> None:
    audiences = tmp_path / "aud.json"
    audiences.write_text("{not json", "utf-8")
    code, _, err = run("--audiences", str(audiences), "-e", "a = 1")
    assert code == 2  # broken input, as for every pql command (issue 10)
    assert f"{audiences}: not a JSON audiences file" in err


def test_syntax_error_exit_code() -> None:
    code, out, err = run("-e", "xEvent[a = 1")
    assert code == 1 and out == ""
    assert "<expression>:1:7: error PQL005" in err


def test_pql_file_with_comments_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "q.pql"
    path.write_text("-- checkout today\nxEvent[timestamp occurs today]\n", "utf-8")
    code, out, _ = run(str(path), "--merge-policy-active-on-edge")
    assert code == 0
    assert out.splitlines()[1] == "  event 2:1 (filter): up to 24 hours back"
    code, out, _ = run("-", "--merge-policy-active-on-edge", stdin="a = 1")
    assert out.startswith("<stdin>: streaming")


@pytest.mark.parametrize("rules", ["2025", "legacy"])
def test_rules_from_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rules: str) -> None:
    (tmp_path / "pqltools.toml").write_text(f'eligibility-rules = "{rules}"\n', "utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("-e", "a = 1")
    assert code == 0
    assert f"rules {rules})" in out.splitlines()[0]


def test_help_mentions_inputs() -> None:
    result = CliRunner().invoke(main, ["classify", "--help"])
    assert result.exit_code == 0
    assert "streaming, edge or batch" in result.stdout
    assert "--audiences" in result.stdout


def test_text_report_shows_what_to_change() -> None:
    code, out, _ = run("--merge-policy-active-on-edge", "-e", 'xEvent[eventType = "x"]')
    assert code == 0
    assert out.splitlines()[3] == (
        "      change: Add a window of at most 24 hours (`WHEN(today)`, `timestamp occurs < 24 "
        "hours before now`), or put the event in a batch audience and reference it with "
        "inSegment.")


def test_expression_longer_than_a_file_name() -> None:
    expression = " and ".join(["homeAddress.countryCode = \"US\""] * 20)
    code, out, err = run("--merge-policy-active-on-edge", expression)
    assert code == 0 and err == ""
    assert out.startswith("<expression>: streaming")
