"""The wheel holds every package of the source tree (a non-editable ``pip install .`` would
otherwise lose a subpackage that the editable install of the tests still finds)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_of_the_tree_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {package: ROOT / folder for package, folder in config["package-dir"].items()}
    found = {".".join(path.parent.relative_to(ROOT).parts)
             for path in (ROOT / "pqltools").rglob("__init__.py")}
    found |= {package for package, folder in folders.items()
              if (folder / "__init__.py").exists() or package == "pqltools.grammar"}
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert {p for p in listed if p not in found} == set(), "listed but not in the tree"
