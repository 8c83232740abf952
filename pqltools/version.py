"""The package version, written once (in pyproject.toml) and read from the installed metadata.

``importlib.metadata`` costs tens of milliseconds to import, so it is imported on first use:
commands that never print the version do not pay for it.
"""

from __future__ import annotations

from functools import cache


@cache
def package_version() -> str:
    """pqltools' version as installed (``0+unknown`` when run from a tree that is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pqltools")
    except PackageNotFoundError:
        return "0+unknown"
