"""Numeric limits shared by every layer (docs/limits.md lists all limits and how to change them).

PQL numbers are doubles in Adobe's engines. pqltools keeps integers exact (Python ints) but only
inside the range a double can hold, ±1.8e308: a literal beyond it is a syntax error (PQL007), and
arithmetic, aggregates or conversions whose result leaves it give null, as a float overflow
does. This keeps every number printable (Python refuses to convert integers of more than 4,300
digits to text) and every operation on numbers cheap (no integers of millions of digits built
by repeated multiplication). This module is at the bottom of the package: it imports nothing
from pqltools.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MAX_NUMBER", "MAX_NUMBER_DIGITS", "finite_number", "json_float", "load_json",
           "out_of_range_message", "parse_int_text", "refuse_json_constant"]

#: The largest magnitude a number may have: the first power of two beyond the largest double.
MAX_NUMBER = 2**1024
#: Digits of the largest allowed integer (a longer literal cannot be in range).
MAX_NUMBER_DIGITS = len(str(MAX_NUMBER))


def parse_int_text(text: str) -> int | None:
    """The integer written in ``text`` (ASCII digits), or None when it is beyond the range."""
    digits = text.lstrip("0")
    if len(digits) > MAX_NUMBER_DIGITS:
        return None
    value = int(digits or "0")
    return value if value < MAX_NUMBER else None


def finite_number(value: Any) -> Any:
    """``value`` if it is a number inside the range (or not a number at all), else None.

    Integers beyond ±2**1024 and non-finite floats (NaN, infinities) become None.
    """
    t = type(value)
    if t is int:
        return value if -MAX_NUMBER < value < MAX_NUMBER else None
    if t is float:
        return value if math.isfinite(value) else None
    return value


def refuse_json_constant(name: str) -> Any:
    """``parse_constant`` for :mod:`json`: ``NaN``, ``Infinity`` and ``-Infinity`` are refused."""
    raise ValueError(f"`{name}` is not JSON (JSON has no NaN or infinite numbers)")


def out_of_range_message(exc: ValueError) -> str:
    """A JSON decoding error, with Python's integer-conversion limit said in our words."""
    text = str(exc)
    if "integer string conversion" in text:
        return "a number is out of range (beyond ±1.8e308)"
    return text


def _int(text: str) -> int:
    value = parse_int_text(text.lstrip("-"))
    if value is None:
        raise ValueError(f"number {text[:20]}… is out of range (beyond ±1.8e308)")
    return -value if text.startswith("-") else value


def json_float(text: str) -> float:
    """``parse_float`` for :mod:`json`: a float beyond a double's range is refused."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range (beyond ±1.8e308)")
    return value


def load_json(text: str | bytes) -> Any:
    """Parse JSON data (profiles, events) as pqltools reads it; ``ValueError`` says why not.

    Stricter than :func:`json.loads` where Python is lenient: ``NaN`` and ``Infinity`` are
    refused (they are not JSON), and so are numbers beyond a double's range (Python would read
    ``1e400`` as infinity and refuse integers of more than 4,300 digits with a confusing
    message). Nesting too deep for the decoder raises ``RecursionError``.
    """
    import json  # not at import time: `pql lint` of a .pql file needs no JSON (start-up)

    return json.loads(text, parse_constant=refuse_json_constant, parse_int=_int,
                      parse_float=json_float)
