"""The one exception a feature raises to refuse a request with a message for the user.

A refusal is an expected answer (renaming to a keyword, formatting text that does not parse),
not a bug: the server sends it as an LSP ``RequestFailed`` error (-32803) whose message is shown
to the user as is, without a traceback and without logging an internal error.
"""

from __future__ import annotations

__all__ = ["REQUEST_FAILED", "Refused"]

#: LSP's error code for "the request was valid but could not be carried out".
REQUEST_FAILED = -32803


class Refused(Exception):
    """A request the server declines, and why (the message is for the user)."""
