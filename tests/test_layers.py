"""Imports point down the layers of docs/architecture.md, never up.

Every ``import`` and ``from ... import`` in the library (lazy ones inside functions included) is
read with :mod:`ast`; the module it names is placed in the table below and must not sit on a
higher layer than the importing module. A new module that fits no row fails the test, so the
table (and docs/architecture.md) stays complete.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: (layer, module prefix), bottom first. The longest matching prefix places a module; a module
#: may import its own layer or any lower one. Keep in step with docs/architecture.md.
LAYERS: list[tuple[int, str]] = [
    (0, "pqltools.errors"),
    (0, "pqltools.codes"),
    (0, "pqltools.version"),
    (0, "pqltools.fileio"),
    (0, "pqltools.catalog"),
    (0, "pqltools.limits"),
    (0, "pqltools.records"),
    (1, "pqltools.syntax"),
    (1, "pqltools.grammar"),
    (2, "pqltools.definitions"),
    (2, "pqltools.sources"),
    (3, "pqltools.analysis"),
    (4, "pqltools.runtime"),
    (5, "pqltools.engines"),
    (5, "pqltools.streaming"),  # the streaming membership simulator over the runtime
    (5, "pqltools.jobs"),  # segment/export jobs, preview, estimate over the runtime and engines
    (6, "pqltools.render"),
    (7, "pqltools"),  # the facade: pqltools/__init__.py re-exports the public API
    (8, "pqltools_lsp"),
    (9, "pqltools.cli"),
    (9, "pqltools.__main__"),
    (10, "pqltools.bench"),
    (10, "pqltools.fuzz"),
]

NAMES = {0: "base", 1: "syntax", 2: "input", 3: "analysis", 4: "runtime", 5: "engines",
         6: "render", 7: "facade", 8: "language server", 9: "command line", 10: "benchmarks"}


def layer_of(module: str) -> int | None:
    """The layer of ``module`` (a dotted name), None for a module outside the project."""
    best: tuple[int, int] | None = None
    for layer, prefix in LAYERS:
        # the facade is the package's __init__ alone, not everything below it
        matches = module == prefix or (prefix != "pqltools" and module.startswith(prefix + "."))
        if matches and (best is None or len(prefix) > best[1]):
            best = (layer, len(prefix))
    return None if best is None else best[0]


def library_modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the library and the language server."""
    found: dict[str, Path] = {}
    for package, folder in (("pqltools", ROOT / "pqltools"), ("pqltools_lsp", ROOT / "lsp")):
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


MODULES = library_modules()


def imported_modules(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in ``path``; ``from p import m`` names ``p.m``
    when ``p.m`` is a module of the project, else ``p``."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    is_package = path.name == "__init__.py"
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                out.append((node.lineno, full if full in MODULES else base))
    return out


def test_every_module_has_a_layer() -> None:
    assert [m for m in MODULES if layer_of(m) is None] == []


def test_the_table_finds_the_modules() -> None:
    """The test would pass vacuously if the walk found nothing."""
    assert {"pqltools.analysis.scope", "pqltools.cli.runner", "pqltools_lsp.server",
            "pqltools.render.sarif", "pqltools.sources"} <= set(MODULES)
    assert layer_of("pqltools.analysis.results") == 3
    assert layer_of("pqltools") == 7 and layer_of("pqltools.cli.runner") == 9
    assert layer_of("pqltools.not_in_the_table") is None


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    own = layer_of(module)
    assert own is not None
    upward = []
    for line, target in imported_modules(module, MODULES[module]):
        layer = layer_of(target)
        if layer is not None and layer > own:
            upward.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {target} "
                          f"({NAMES[layer]}) from the {NAMES[own]} layer")
    assert upward == []


def test_an_upward_import_is_caught(tmp_path: Path) -> None:
    """The checker itself: an analysis module that imports the CLI is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from pqltools.cli import inputs\n", "utf-8")
    (target,) = [t for _, t in imported_modules("pqltools.analysis.bad", bad)]
    assert target == "pqltools.cli.inputs"
    assert layer_of(target) > layer_of("pqltools.analysis.bad")  # type: ignore[operator]
