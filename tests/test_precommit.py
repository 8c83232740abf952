"""The pre-commit hooks in ``.pre-commit-hooks.yaml``, run over the staged files of a git repo.

``pre-commit try-repo`` installs this repository into an isolated environment from PyPI
(measured: about 30 s with a warm pip cache, much more without one, and it needs the network),
so the always-on tests below do what pre-commit does with the hooks instead: read each hook's
``entry``, ``args``, ``files`` and ``types``, select the staged files of a temporary git
repository the same way (``identify`` for types, as pre-commit does), run the command with the
selected file names and check the exit codes. ``PQL_TEST_PRECOMMIT=1`` adds the real
``pre-commit try-repo`` run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from identify.identify import tags_from_path

ROOT = Path(__file__).resolve().parents[1]
HOOKS: dict[str, dict[str, Any]] = {
    hook["id"]: hook
    for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))
}
DEFINITION = ('{"name": "x", "expression": {"type": "PQL", "format": "pql/text", '
              '"value": "homeAddress.countryCode = \\"US\\""}}\n')


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True, env=env).stdout


def make_repo(root: Path, files: dict[str, str]) -> Path:
    """A git repository with ``files`` staged (not committed), as before ``git commit``."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    git(repo, "add", "--", *files)
    return repo


def selected(hook: dict[str, Any], repo: Path) -> list[str]:
    """The staged files pre-commit hands to ``hook`` (``files``, ``exclude``, ``types``...)."""
    staged = git(repo, "diff", "--cached", "--name-only", "-z").split("\0")
    files_re = re.compile(hook.get("files", ""))
    exclude_re = re.compile(hook["exclude"]) if hook.get("exclude") else None
    out = []
    for name in filter(None, staged):
        tags = tags_from_path(str(repo / name))
        if not files_re.search(name) or (exclude_re and exclude_re.search(name)):
            continue
        if not set(hook.get("types", ["file"])) <= tags:
            continue
        if hook.get("types_or") and not set(hook["types_or"]) & tags:
            continue
        if set(hook.get("exclude_types", [])) & tags:
            continue
        out.append(name)
    return out


def command(hook: dict[str, Any]) -> list[str]:
    """``entry`` + ``args``, with the entry's executable from this test's environment."""
    entry = shlex.split(hook["entry"])
    executable = Path(sys.executable).parent / entry[0]
    found = str(executable) if executable.exists() else shutil.which(entry[0])
    assert found, f"{entry[0]} is not installed"
    return [found, *entry[1:], *hook.get("args", [])]


def run_hook(hook_id: str, repo: Path) -> tuple[int, list[str], str]:
    hook = HOOKS[hook_id]
    files = selected(hook, repo)
    if not files:
        return 0, files, ""
    proc = subprocess.run([*command(hook), *files], cwd=repo, capture_output=True, text=True,
                          check=False, timeout=120)
    return proc.returncode, files, proc.stdout + proc.stderr


def test_hooks_are_declared_as_pre_commit_expects() -> None:
    assert set(HOOKS) == {"pql-lint", "pql-format"}
    for hook in HOOKS.values():
        assert hook["language"] == "python"
        assert hook["entry"].split()[0] == "pql"
        assert re.compile(hook["files"]).search("a/b.pql")
        assert re.compile(hook["files"]).search("b.json")
        assert not re.compile(hook["files"]).search("b.pql.txt")
    assert HOOKS["pql-lint"]["require_serial"] is True


def test_lint_hook_passes_on_clean_staged_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"segments/us.pql": "-- US\nhomeAddress.countryCode = \"US\"\n",
                                "segments/us.json": DEFINITION, "README.md": "(not pql\n"})
    code, files, output = run_hook("pql-lint", repo)
    assert sorted(files) == ["segments/us.json", "segments/us.pql"]
    assert code == 0, output


def test_lint_hook_fails_on_a_staged_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"ok.pql": "a = 1\n", "bad.pql": "a = (1\n"})
    code, _, output = run_hook("pql-lint", repo)
    assert code == 1
    assert "bad.pql:1:5: error PQL005:" in output


def test_lint_hook_reports_a_non_definition_json_file_with_exit_2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"package.json": '{"name": "web"}\n'})
    code, _, output = run_hook("pql-lint", repo)
    assert code == 2
    assert "package.json:1:1: error PQL090: definition 0 has no `expression`" in output


def test_format_hook_runs_pql_format_on_the_staged_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"clean.pql": 'homeAddress.countryCode = "US"\n'})
    code, files, output = run_hook("pql-format", repo)
    assert files == ["clean.pql"]
    assert code == 0, output
    assert (repo / "clean.pql").read_text("utf-8") == 'homeAddress.countryCode = "US"\n'


def test_format_hook_rewrites_unformatted_files_so_pre_commit_fails(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"messy.pql": 'homeAddress.countryCode="US"\n'})
    code, _, output = run_hook("pql-format", repo)
    # pre-commit fails a hook that exits non-zero *or* modifies files
    changed = git(repo, "diff", "--name-only")
    assert code != 0 or changed.split() == ["messy.pql"], output
    assert (repo / "messy.pql").read_text("utf-8") == 'homeAddress.countryCode = "US"\n'


if os.environ.get("PQL_TEST_PRECOMMIT") == "1":

    def test_real_pre_commit_try_repo(tmp_path: Path) -> None:
        """The real thing: pre-commit installs this repository and runs the lint hook."""
        repo = make_repo(tmp_path, {"bad.pql": "a = (1\n", "ok.pql": "a = 1\n"})
        env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
        proc = subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "pql-lint",
             "--files", "bad.pql", "ok.pql"],
            cwd=repo, capture_output=True, text=True, check=False, timeout=600, env=env)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "bad.pql:1:5: error PQL005:" in proc.stdout


@pytest.mark.parametrize("hook_id", sorted(HOOKS))
def test_hook_entry_has_help(hook_id: str) -> None:
    proc = subprocess.run([*command(HOOKS[hook_id])[:2], "--help"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"Usage: pql {hook_id.split('-')[1]}")
