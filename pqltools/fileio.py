"""Writing the user's files safely (shared by ``pql lint --fix`` and ``pql format``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` through a temporary file in the same directory.

    The new content is flushed to disk before :func:`os.replace` swaps it in, so a crash or a
    full disk never leaves half a file; the file's permission bits are kept and line endings are
    written exactly as given.
    """
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
