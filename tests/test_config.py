"""Configuration loading: discovery, every key, and errors that name the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pqltools.analysis.config import Config, ConfigError, Limits
from pqltools.errors import Diagnostic, Severity, Span


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_no_file(tmp_path: Path) -> None:
    config = Config.load(tmp_path)
    assert config == Config()
    assert config.eligibility_rules == "2025"
    assert config.fail_on is Severity.ERROR
    assert config.limits == Limits()


def test_pyproject_section_found_walking_up(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", """
[tool.pqltools]
select = ["PQL1"]
ignore = ["PQL105"]
fail-on = "warning"
eligibility-rules = "legacy"
schema = "schemas/profile.json"

[tool.pqltools.severity]
PQL101 = "warning"

[tool.pqltools.limits]
chain-steps-error = 8
in-list = 4

[tool.pqltools.per-file-ignores]
"legacy/*.json" = ["PQL2"]
""")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    config = Config.load(sub)
    assert config.path == (tmp_path / "pyproject.toml").resolve()
    assert config.select == ("PQL1",)
    assert config.ignore == ("PQL105",)
    assert config.fail_on is Severity.WARNING
    assert config.eligibility_rules == "legacy"
    assert config.schema == (tmp_path / "schemas" / "profile.json").resolve()
    assert config.severity == {"PQL101": Severity.WARNING}
    assert config.limits.chain_steps_error == 8 and config.limits.in_list == 4
    assert config.limits.chain_steps_warning == 3
    assert config.per_file_ignores == {"legacy/*.json": ("PQL2",)}


def test_pyproject_without_section_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "pqltools.toml", 'ignore = ["PQL120"]\n')
    write(tmp_path / "inner" / "pyproject.toml", '[project]\nname = "x"\n')
    config = Config.load(tmp_path / "inner")
    assert config.ignore == ("PQL120",)
    assert config.path is not None and config.path.name == "pqltools.toml"


def test_pqltools_toml_wins_over_pyproject_in_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.pqltools]\nignore = ["PQL101"]\n')
    write(tmp_path / "pqltools.toml", 'ignore = ["PQL102"]\n')
    assert Config.load(tmp_path).ignore == ("PQL102",)


def test_select_ignore_and_default_off_rules() -> None:
    assert Config().is_enabled("PQL101")
    assert not Config().is_enabled("PQL150", default=False)
    assert Config(select=("ALL",)).is_enabled("PQL150", default=False)
    only = Config(select=("PQL2",), ignore=("PQL205",))
    assert only.is_enabled("PQL201")
    assert not only.is_enabled("PQL101")
    assert not only.is_enabled("PQL205")


def test_fail_on_threshold() -> None:
    warn = Diagnostic("PQL120", "m", Severity.WARNING, Span(0, 0, 1, 1, 1, 1))
    assert not Config().fails([warn])
    assert Config(fail_on=Severity.WARNING).fails([warn])
    assert Config(fail_on=Severity.HINT).fails([warn])


def test_per_file_ignores_glob(tmp_path: Path) -> None:
    write(tmp_path / "pqltools.toml", '[per-file-ignores]\n"legacy/*.json" = ["PQL2"]\n'
          '"*.pql" = ["PQL130"]\n')
    config = Config.load(tmp_path)
    assert config.ignored_for_file(tmp_path / "legacy" / "old.json") == ("PQL2",)
    assert config.ignored_for_file(tmp_path / "new" / "x.pql") == ("PQL130",)
    assert config.ignored_for_file(tmp_path / "new" / "x.json") == ()
    assert config.ignored_for_file(None) == ()


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ('selct = ["PQL1"]\n', "unknown configuration key 'selct'; did you mean 'select'?", 1),
        ('\nfail-on = "fatal"\n',
         "fail-on must be one of error, warning, info, hint, not 'fatal'", 2),
        ('select = 3\n', "select must be a list of rule codes, not an integer", 1),
        ('ignore = ["E501"]\n', "ignore: 'E501' is not a rule code or prefix like PQL1", 1),
        ('eligibility-rules = "2024"\n',
         'eligibility-rules must be "2025" or "legacy", not \'2024\'', 1),
        ('[limits]\nchain-steps = 3\n',
         "unknown configuration key 'limits.chain-steps'; did you mean 'chain-steps-error'?", 2),
        ('[limits]\nnesting = -1\n', "limits.nesting must be a non-negative integer, not -1", 2),
        ('[severity]\nPQL1 = "hint"\n', "severity: 'PQL1' is not a rule code like PQL101", 2),
        ('select = [\n', "invalid TOML:", 2),
    ],
)
def test_bad_config_names_file_and_line(tmp_path: Path, text: str, message: str,
                                        line: int) -> None:
    path = write(tmp_path / "pqltools.toml", text)
    with pytest.raises(ConfigError) as info:
        Config.load(tmp_path)
    err = info.value
    assert err.path == str(path)
    assert message in err.diagnostics[0].message
    assert err.diagnostics[0].span.line == line
    assert str(err).startswith(f"{path}:{line}:")


def test_bad_pyproject_section_uses_prefixed_key(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.pqltools]\nfail_on = "error"\n')
    with pytest.raises(ConfigError, match=r"unknown configuration key 'tool.pqltools.fail_on'; "
                                          r"did you mean 'fail-on'\?"):
        Config.load(tmp_path)


def test_find_and_explicit_file(tmp_path: Path) -> None:
    assert Config.find(tmp_path) is None
    path = write(tmp_path / "sub" / "pqltools.toml", 'schema = "s.json"\n')
    (tmp_path / "sub" / "x.pql").write_text("a = 1\n")
    assert Config.find(tmp_path / "sub" / "x.pql") == path.resolve()
    assert Config.find(tmp_path / "sub") == path.resolve()
    config = Config.from_file(path)
    assert config.schema == path.parent / "s.json"
    with pytest.raises(ConfigError, match="cannot read configuration"):
        Config.from_file(tmp_path / "absent.toml")


def test_with_overrides_keeps_other_fields() -> None:
    base = Config(ignore=("PQL120",), fail_on=Severity.WARNING)
    changed = base.with_overrides(select=("PQL1",))
    assert changed.select == ("PQL1",)
    assert changed.ignore == ("PQL120",) and changed.fail_on is Severity.WARNING
    assert base.select == ()


def test_codes_may_be_a_single_string_and_limits_reject_booleans(tmp_path: Path) -> None:
    write(tmp_path / "pqltools.toml", 'ignore = "PQL131"\n')
    assert Config.load(tmp_path).ignore == ("PQL131",)
    write(tmp_path / "pqltools.toml", "[limits]\nnesting = true\n")
    with pytest.raises(ConfigError, match="limits.nesting must be a non-negative integer"):
        Config.load(tmp_path)
