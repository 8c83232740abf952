"""``python -m pqltools.bench NAME [args]``: run the benchmark in ``pqltools.bench.NAME``.

Each benchmark is a module of this package with a ``main(argv: list[str]) -> int`` function, so
adding one is adding a module. Without a name (or with ``-h``) the available ones are listed.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import pqltools.bench as package


def available() -> list[str]:
    """Names of the benchmark modules in this package."""
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__)
                  if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    """Dispatch ``argv[0]`` to ``pqltools.bench.<name>.main(argv[1:])``; exit code 2 if unknown."""
    names = available()
    usage = f"usage: python -m pqltools.bench {{{','.join(names)}}} [options]"
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0 if argv else 2
    name = argv[0]
    if name not in names:
        print(f"{usage}\nunknown benchmark {name!r}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"pqltools.bench.{name}")
    result: int = module.main(argv[1:])
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
