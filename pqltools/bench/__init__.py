"""Benchmarks: ``python -m pqltools.bench NAME`` (``python -m pqltools.bench`` lists them)."""

from __future__ import annotations

import os

__all__ = ["installed_environment"]


def installed_environment(pythonpath: str | None = None) -> dict[str, str]:
    """The environment for a timed subprocess, as an installed package runs: bytecode is
    written and reused (pip compiles it at install time), so ``PYTHONDONTWRITEBYTECODE`` is
    dropped; ``pythonpath`` goes first on ``PYTHONPATH`` (another checkout, to compare)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    return env
