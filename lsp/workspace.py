"""The definitions of the whole workspace: where ``inSegment("id")`` points, and which files
get diagnostics without being opened.

The workspace is the folder the client opened: its ``.pql`` files and the ``.json`` files that
look like segment definitions (:func:`~pqltools_lsp.documents.looks_like_definitions`), found by
walking it (hidden folders, ``node_modules`` and virtual environments skipped) up to
:data:`MAX_FILES` files of at most :data:`MAX_BYTES` each. Each file is read again only when its
modification time changes; an open document's text wins over the file on disk.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from pqltools_lsp.documents import Snapshot, looks_like_definitions

__all__ = ["MAX_BYTES", "MAX_FILES", "WorkspaceIndex", "string_value"]

MAX_FILES = 5000
MAX_BYTES = 5_000_000
_SKIPPED = frozenset({"node_modules", "__pycache__", "venv", ".venv", "env", "site-packages",
                      "dist", "build"})


def string_value(token_text: str) -> str | None:
    """The value of a PQL string literal token (None when it is not a complete literal)."""
    if len(token_text) < 2 or not token_text.endswith('"'):
        return None
    try:
        value = json.loads(token_text)
    except ValueError:
        return token_text[1:-1]
    return value if isinstance(value, str) else None


class WorkspaceIndex:
    """The PQL files below a root folder and the definitions they hold."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[int, Snapshot | None]] = {}

    def paths(self) -> Iterator[Path]:
        """``.pql`` and ``.json`` files of the workspace (at most :data:`MAX_FILES`)."""
        if self.root is None or not self.root.is_dir():
            return
        seen = 0
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED)
            for name in sorted(files):
                if name.endswith((".pql", ".json")):
                    seen += 1
                    if seen > MAX_FILES:
                        return
                    yield Path(folder) / name

    def snapshot(self, path: Path, encoding: str = "utf-16") -> Snapshot | None:
        """The snapshot of a file on disk (None when unreadable, too big, or not PQL)."""
        try:
            stat = path.stat()
        except OSError:
            return None
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == stat.st_mtime_ns and (
                cached[1] is None or cached[1].encoding == encoding):
            return cached[1]
        snap: Snapshot | None = None
        if stat.st_size <= MAX_BYTES:
            try:
                text = path.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
            if text is not None and (path.suffix == ".pql" or looks_like_definitions(text)):
                snap = Snapshot.build(path.as_uri(), text, None, encoding=encoding)
        with self._lock:
            self._files[path] = (stat.st_mtime_ns, snap)
        return snap

    def snapshots(self, encoding: str = "utf-16") -> Iterator[Snapshot]:
        """Every PQL document of the workspace, read from disk."""
        for path in self.paths():
            snap = self.snapshot(path, encoding)
            if snap is not None:
                yield snap

    def find_definition(self, segment_id: str, open_documents: dict[str, Snapshot],
                        encoding: str = "utf-16") -> tuple[Snapshot, tuple[int, int]] | None:
        """The document and ``[start, end)`` of the definition whose ``id`` is ``segment_id``
        (open documents first, then the files of the workspace)."""
        seen: set[str] = set()
        candidates: list[Snapshot] = list(open_documents.values())
        for snap in candidates:
            seen.add(snap.uri)
            hit = _definition_in(snap, segment_id)
            if hit is not None:
                return snap, hit
        for snap in self.snapshots(encoding):
            if snap.uri in seen:
                continue
            hit = _definition_in(snap, segment_id)
            if hit is not None:
                return snap, hit
        return None


def _definition_in(snap: Snapshot, segment_id: str) -> tuple[int, int] | None:
    for region in snap.regions:
        if region.definition is not None and region.definition.id == segment_id:
            found = snap.definition_object(region)
            return found[1] if found is not None else region.extent
    return None
