"""Previews offline: pages of the profiles that qualify for one definition (PREVIEW).

The result has the shape of Adobe's ``GET /preview/{PREVIEW_ID}``: ``results`` is a list of
``{"<profile id>": {"endCustomerIds": {...}}}`` items (the profile's other identities, from its
``identityMap``), ``page`` gives the offset and size, and ``links.next`` is the token of the next
page (empty on the last). With ``include_profiles`` each item also carries the profile itself.
Tokens are opaque strings; a plain number is accepted as an offset too.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pqltools.jobs.common import JobError, read_profiles, run_segments
from pqltools.runtime.compiler import compile as compile_pql
from pqltools.runtime.context import make_clock
from pqltools.runtime.functions import MEMBER_STATUSES
from pqltools.runtime.membership import compiled_segment, namespace_key

__all__ = ["decode_token", "encode_token", "preview"]

_TOKEN_PREFIX = "pql-preview:"
PREVIEW_ID = "preview"


def encode_token(offset: int) -> str:
    """The ``links.next`` token for a page starting at ``offset``."""
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_token(token: str | int | None) -> int:
    """The offset a ``--start`` token stands for (a token from ``links.next`` or a number)."""
    if token is None or token == "":
        return 0
    if isinstance(token, int) or token.isdigit():
        return int(token)
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if text.startswith(_TOKEN_PREFIX) and text[len(_TOKEN_PREFIX):].isdigit():
        return int(text[len(_TOKEN_PREFIX):])
    raise ValueError(f"{token!r} is not a preview page token (use links.next of a previous page "
                     "or an offset)")


def _identities(profile: dict[str, Any], pid: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    identities = profile.get("identityMap")
    if isinstance(identities, dict):
        for namespace, entries in identities.items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str) \
                        and entry["id"] != pid:
                    out[entry["id"]] = {"namespace": namespace}
    return out


def preview(expression: str, profiles: str | Path | Iterable[Any], *, limit: int = 100,
            start: str | int | None = None, include_profiles: bool = False,
            engine: str = "python", now: Any = None, events_key: str = "events",
            id_key: str | None = None, segment_id: str = "preview") -> dict[str, Any]:
    """One page of the profiles for which ``expression`` is true, in input order.

    Raises :class:`~pqltools.errors.PQLError` when the expression does not compile and
    ValueError for a bad ``start`` token or ``limit``.
    """
    if limit < 1:
        raise ValueError(f"the page size must be at least 1, got {limit}")
    offset = decode_token(start)
    segments = [compiled_segment(segment_id, segment_id, compile_pql(expression))]
    errors: list[JobError] = []
    stream = read_profiles(profiles, events_key=events_key, id_key=id_key, errors=errors)
    results: list[dict[str, Any]] = []
    seen = 0
    more = False
    for p, membership in run_segments(segments, stream, engine=engine, now=make_clock(now),
                                      previous=None, id_key=id_key, errors=errors):
        entry = (membership.get(namespace_key(membership)) or {}).get(segment_id) or {}
        if entry.get("status") not in MEMBER_STATUSES:
            continue
        seen += 1
        if seen <= offset:
            continue
        if len(results) == limit:
            more = True
            break
        item: dict[str, Any] = {"endCustomerIds": _identities(p.profile, p.id)}
        if include_profiles:
            item["profile"] = p.profile if p.events is None else {**p.profile,
                                                                  events_key: p.events}
        results.append({p.id: item})
    return {
        "state": "RESULT_READY" if not errors else "FAILED",
        "results": results,
        "page": {"offset": offset, "size": len(results), "limit": limit},
        "links": {"next": encode_token(offset + len(results)) if more else ""},
        "errors": [e.as_json() for e in errors],
    }
