"""Configuration: the CLI's ``[tool.pqltools]`` settings per document, and the server's own options.

Lint configuration is exactly what ``pql lint`` uses (:meth:`pqltools.analysis.config.Config.load`
walking up from the document's directory, else from the workspace root). Loaded configurations
are cached per directory and reloaded when the file they came from changes (its modification time
is checked on every use, so this works even with clients that do not report file changes) or when
the client reports a changed ``pyproject.toml``/``pqltools.toml``.

Server options (debounce delay...) come from ``initializationOptions`` and from the ``pqltools``
section of ``workspace/didChangeConfiguration``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pqltools.analysis.config import Config, ConfigError
from pqltools.errors import Diagnostic, Severity, Span

__all__ = ["CONFIG_FILE_NAMES", "ConfigResult", "ConfigStore", "ServerOptions"]

CONFIG_FILE_NAMES = ("pyproject.toml", "pqltools.toml")


@dataclass(frozen=True)
class ServerOptions:
    """Options of the server itself (not of the linter).

    ``debounce_ms``: how long after the last change diagnostics are computed.
    ``eligibility``: show the evaluation-method verdict in hover, symbols and code lenses.
    ``workspace_diagnostics``: publish diagnostics for every PQL file of the workspace, not
    only the open ones.
    """

    debounce_ms: int = 100
    eligibility: bool = True
    workspace_diagnostics: bool = True

    @classmethod
    def from_client(cls, data: Any, base: ServerOptions | None = None) -> ServerOptions:
        """Read ``{"debounceMs": 50, "eligibility": false, "workspaceDiagnostics": true}`` (or
        the same under ``pqltools``);
        values of the wrong type are ignored rather than trusted."""
        base = base or cls()
        if isinstance(data, dict) and isinstance(data.get("pqltools"), dict):
            data = data["pqltools"]
        if not isinstance(data, dict):
            return base
        debounce = data.get("debounceMs", base.debounce_ms)
        if isinstance(debounce, bool) or not isinstance(debounce, (int, float)) or debounce < 0:
            debounce = base.debounce_ms
        eligibility = data.get("eligibility", base.eligibility)
        everywhere = data.get("workspaceDiagnostics", base.workspace_diagnostics)
        return cls(debounce_ms=min(int(debounce), 10_000),
                   eligibility=eligibility if isinstance(eligibility, bool)
                   else base.eligibility,
                   workspace_diagnostics=everywhere if isinstance(everywhere, bool)
                   else base.workspace_diagnostics)


@dataclass(frozen=True)
class ConfigResult:
    """The configuration for one document, or the error that made it unusable."""

    config: Config
    error: Diagnostic | None = None

    @property
    def source(self) -> Path | None:
        """The file the configuration came from."""
        return self.config.path


class ConfigStore:
    """Finds, caches and reloads the ``[tool.pqltools]`` configuration of each directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._lock = threading.Lock()
        # directory -> (config file or None, its mtime, result)
        self._cache: dict[Path, tuple[Path | None, float, ConfigResult]] = {}
        # one object for "no directory" (untitled documents without a workspace): results
        # memoised per configuration (lint, verdicts) are found again on the next edit
        self._default = ConfigResult(Config())

    def invalidate(self) -> None:
        """Forget everything (a configuration file was created, changed or deleted)."""
        with self._lock:
            self._cache.clear()

    def for_path(self, path: Path | None) -> ConfigResult:
        """The configuration that applies to a document at ``path`` (None: the workspace's)."""
        directory = path.parent if path is not None else self.root
        if directory is None:
            return self._default
        with self._lock:
            cached = self._cache.get(directory)
        if cached is not None:
            found, mtime, result = cached
            if found is None or _mtime(found) == mtime:
                return result
        return self._load(directory)

    def _load(self, directory: Path) -> ConfigResult:
        try:
            found = Config.find(directory)
        except OSError:
            found = None
        result: ConfigResult
        try:
            result = ConfigResult(Config.from_file(found) if found else Config())
        except ConfigError as exc:
            first = exc.diagnostics[0]
            where = f"{exc.path}:{first.span.line}:{first.span.column}"
            result = ConfigResult(Config(), Diagnostic(
                first.code, f"configuration error ({where}): {first.message}; using defaults",
                Severity.ERROR, Span(0, 0, 1, 1, 1, 1)))
        with self._lock:
            self._cache[directory] = (found, _mtime(found) if found else 0.0, result)
        return result


def _mtime(path: Path) -> float:
    try:
        return os.stat(path).st_mtime_ns / 1e9
    except OSError:
        return -1.0
