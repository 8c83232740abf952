"""Reading and writing the user's files safely (every ``pql`` command reads through here).

Reading: bytes decoded as strict UTF-8 (no newline translation, so a rewrite changes nothing
else), a leading byte-order mark set aside (positions count from the first character after it),
and a clear :class:`UnreadableInput` for anything else. Writing (``pql lint --fix``, ``pql
format``): see :func:`write_atomic`.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["BOM", "UnreadableInput", "decode_text", "path_exists", "read_stdin", "read_text",
           "write_atomic"]

#: The UTF-8 byte-order mark some Windows editors put at the start of a file.
BOM = b"\xef\xbb\xbf"


class UnreadableInput(Exception):
    """A file or standard input that cannot be used as text; the message says why."""


def decode_text(data: bytes) -> str:
    """``data`` as text: strict UTF-8, a leading byte-order mark dropped."""
    data = data.removeprefix(BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableInput(f"not UTF-8 text (byte {exc.start})") from None


def path_exists(path: str | Path) -> bool:
    """Whether ``path`` names an existing file or directory; False for what cannot be a path.

    A PQL expression given on the command line is first tried as a file name, and one longer
    than the system allows (``File name too long``) or holding a NUL is simply not a file.
    """
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def read_text(path: Path) -> str:
    """The text of the file ``path`` (see :func:`decode_text`)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read: {exc.strerror or exc}") from None
    return decode_text(data)


def read_stdin() -> str:
    """All of standard input as text (read as bytes, so the locale's encoding plays no part)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text-only stream (an embedding application)
        return sys.stdin.read()
    return decode_text(stream.read())


def write_atomic(path: Path, text: str) -> None:
    """Replace the content of the file ``path`` with ``text``, keeping everything else about it.

    * A symbolic link stays a link: the file it points to is rewritten.
    * The new content goes to a temporary file in the same directory, is flushed to disk, and
      only then takes the file's place (:func:`os.replace`), so a crash or a full disk never
      leaves half a file. On Linux the temporary file has no name until that moment
      (``O_TMPFILE``), so a killed process leaves nothing behind.
    * Permission bits, owner and group are kept; a file with several hard links, or one whose
      owner this process cannot give to a new file, is rewritten in place instead (links and
      owner kept; on failure the old content is put back).
    * A byte-order mark the file started with is kept; line endings are written as given.
    """
    target = Path(os.path.realpath(path))
    info = target.stat()
    data = text.encode("utf-8")
    with open(target, "rb") as handle:
        if handle.read(len(BOM)) == BOM and not data.startswith(BOM):
            data = BOM + data
    if info.st_nlink > 1 or not _can_own(info):
        _write_in_place(target, data)
        return
    try:
        _replace(target, data, info, unnamed=_UNNAMED[0])
    except _NoUnnamedFiles:
        _UNNAMED[0] = False  # e.g. a sandbox without linkat through /proc: named from now on
        _replace(target, data, info, unnamed=False)


class _NoUnnamedFiles(Exception):
    """An unnamed temporary file could not be given a name (no ``linkat`` through /proc)."""


_UNNAMED = [bool(getattr(os, "O_TMPFILE", 0)) and Path("/proc/self/fd").is_dir()]


def _replace(target: Path, data: bytes, info: os.stat_result, *, unnamed: bool) -> None:
    directory = target.parent
    fd, tmp = _temporary(directory, target.name, unnamed)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), info.st_mode & 0o7777)
            if hasattr(os, "fchown") and (info.st_uid, info.st_gid) != _owner():
                os.fchown(handle.fileno(), info.st_uid, info.st_gid)
            if tmp is None:  # unnamed: give it a name now that it is complete
                tmp = _link_unnamed(handle.fileno(), directory, target.name)
        os.replace(tmp, target)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def _owner() -> tuple[int, int]:
    return (os.geteuid(), os.getegid()) if hasattr(os, "geteuid") else (-1, -1)


def _can_own(info: os.stat_result) -> bool:
    """Whether a new file can be given ``info``'s owner and group (root, or they are ours)."""
    if not hasattr(os, "geteuid"):
        return True
    uid, gid = _owner()
    return uid == 0 or (info.st_uid == uid and (info.st_gid == gid
                                                or info.st_gid in os.getgroups()))


def _temporary(directory: Path, name: str, unnamed: bool) -> tuple[int, str | None]:
    """An open temporary file in ``directory``: unnamed (``O_TMPFILE``) where possible."""
    if unnamed:
        try:
            return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o600), None
        except OSError:
            pass  # the file system does not support it: a named temporary file
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".pqltools.tmp")
    return fd, tmp


def _link_unnamed(fd: int, directory: Path, name: str) -> str:
    for attempt in range(100):
        tmp = str(directory / f".{name}.{os.getpid()}.{attempt}.pqltools.tmp")
        try:
            os.link(f"/proc/self/fd/{fd}", tmp, follow_symlinks=True)
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise _NoUnnamedFiles(str(exc)) from None
    raise FileExistsError(f"cannot name a temporary file in {directory}")


def _write_in_place(target: Path, data: bytes) -> None:
    with open(target, "r+b") as handle:
        old = handle.read()
        try:
            handle.seek(0)
            handle.write(data)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            handle.seek(0)
            handle.write(old)  # fits: it held this much space before
            handle.truncate()
            handle.flush()
            raise
