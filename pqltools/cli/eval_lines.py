"""The engine room of ``pql eval``: NDJSON profile lines in, result lines out.

:class:`LineEvaluator` turns one line (bytes) into its output text and, for an unusable line, a
problem message. :func:`evaluate_file` runs it over byte ranges of a large file in worker
processes (every core) and yields each range's results in file order, so the output is the same
as a single process's. Each worker compiles the queries itself from :class:`Settings` (compiled
programs are closures, which do not cross process boundaries).

Only the work the chosen output needs is done: printing ids evaluates the segments and nothing
else (no membership records, no timestamps formatted); lines are decoded from bytes by the JSON
scanner directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any, Literal

from pqltools.errors import PQLError
from pqltools.limits import json_float, out_of_range_message, refuse_json_constant
from pqltools.records import record
from pqltools.runtime.compiler import compile as compile_pql
from pqltools.runtime.context import Clock, make_clock
from pqltools.runtime.membership import (
    CompiledSegment,
    compiled_segment,
    membership_for,
    order_segments,
    profile_id,
    qualifying,
)

__all__ = ["LineEvaluator", "Output", "Settings", "decode_line", "evaluate_file", "ranges"]

#: what each line writes: qualifying ids, membership records, values, or (``count``) the
#: index in the run's segments of each segment the profile qualifies for, one per line
Output = Literal["ids", "membership", "values", "count"]

#: The JSON scanner itself: ``json.loads`` minus its Python-level wrapping (whitespace regular
#: expressions, argument handling), which is a quarter of the cost of decoding a short line.
#: Strict where Python is lenient (docs/limits.md): ``NaN``/``Infinity`` are not JSON and a
#: number beyond a double's range (``1e400``) is refused rather than read as infinity.
_DECODER = json.JSONDecoder(parse_constant=refuse_json_constant, parse_float=json_float)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def decode_line(raw: bytes) -> Any:
    """The JSON value of one NDJSON line; ValueError (``json``'s message) if it is not JSON.

    Raises :class:`UnicodeDecodeError` for bytes that are not UTF-8.
    """
    text = raw.decode("utf-8")
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        value, end = None, -1
    except ValueError as exc:  # Python's 4,300-digit limit on integers
        raise ValueError(out_of_range_message(exc)) from None
    if end == -1 or (end != len(text) and not text[end:].isspace()):
        # leading blanks, a byte-order mark, or not JSON: the decoder says which and where
        try:
            return _DECODER.decode(text.removeprefix("\ufeff").strip())
        except ValueError as exc:
            raise ValueError(out_of_range_message(exc)) from None
    return value


@record(frozen=True)
class Settings:
    """Everything a worker process needs to evaluate lines (picklable).

    ``segments`` are ``(id, label, PQL text, comments allowed)`` in dependency order.
    """

    segments: tuple[tuple[str, str, str, bool], ...]
    now: int
    events_key: str
    id_key: str | None
    output: Output

    def evaluator(self) -> LineEvaluator:
        """Compile the segments and return an evaluator for them."""
        compiled = [compiled_segment(seg_id, label, compile_pql(text, comments=comments))
                    for seg_id, label, text, comments in self.segments]
        return LineEvaluator(order_segments(compiled), make_clock(self.now), self.events_key,
                             self.id_key, self.output)


class LineEvaluator:
    """Evaluates NDJSON profile lines for one ``pql eval`` run.

    ``extra_events(pid)`` adds events from elsewhere (``--events FILE``); ``prior`` is the
    previous membership by profile id (``--previous``).
    """

    def __init__(self, segments: list[CompiledSegment], clock: Clock, events_key: str,
                 id_key: str | None, output: Output,
                 extra_events: Callable[[str], list[Any]] | None = None,
                 prior: dict[str, Any] | None = None) -> None:
        self.segments = segments
        self.clock = clock
        self.events_key = events_key
        self.id_key = id_key
        self.output = output
        self.extra_events = extra_events
        self.prior = prior
        self.several = len(segments) > 1
        # one segment printing ids or counting: the bound evaluator, which reuses its state
        # between lines
        self.single = (segments[0].program.bind(now=clock)
                       if output in ("ids", "count") and len(segments) == 1 else None)
        self.index = {seg.id: f"{i}\n" for i, seg in enumerate(segments)}

    def line(self, number: int, raw: bytes, write: Callable[[str], object]) -> str | None:
        """Evaluate line ``number`` and ``write`` its output.

        Returns None, or for an unusable line the problem, to be printed after ``FILE:LINE``
        (``": not valid JSON: ..."``, ``" (profile p-1): ..."``).
        """
        if not raw or raw.isspace():
            return None
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]  # a UTF-8 byte-order mark (Windows editors) is not data
        try:
            profile = decode_line(raw)
        except UnicodeDecodeError as exc:
            return f": not valid UTF-8 (byte {exc.start + 1} of the line)"
        except ValueError as exc:
            return f": not valid JSON: {exc}"
        except RecursionError:
            return ": JSON nested too deeply"
        if type(profile) is not dict:
            return f": a profile must be a JSON object, got {type(profile).__name__}"
        # the id is found only when it is printed (printing ids, most profiles do not qualify)
        pid = None
        events = profile.pop(self.events_key, None)
        if self.extra_events is not None:
            pid = self._pid(profile, number)
            events = (events if isinstance(events, list) else []) + self.extra_events(pid)
        try:
            single = self.single
            if single is not None:
                if single(profile, events):
                    write("0\n" if self.output == "count"
                          else f"{pid or self._pid(profile, number)}\n")
                return None
            self._emit(number, pid, profile, events, write)
        except PQLError as exc:
            return f" (profile {pid or self._pid(profile, number)}): {exc}"
        except Exception as exc:  # noqa: BLE001 - one bad line never stops the run
            return (f" (profile {pid or self._pid(profile, number)}): cannot evaluate this "
                    f"profile ({type(exc).__name__}: {exc!s:.200}); please report it as a bug")
        return None

    def _pid(self, profile: dict[str, Any], number: int) -> str:
        """The profile's id (``--id-key``, else the usual keys), else ``line:N``."""
        return profile_id(profile, self.id_key) or f"line:{number}"

    def _emit(self, number: int, pid: str | None, profile: dict[str, Any], events: Any,
              write: Callable[[str], object]) -> None:
        if self.output == "count":
            for seg_id in qualifying(self.segments, profile, events, self.clock):
                write(self.index[seg_id])
            return
        if self.output == "ids":
            ids = qualifying(self.segments, profile, events, self.clock)
            if ids:
                pid = pid or self._pid(profile, number)
                for seg_id in ids:
                    write(f"{pid}\t{seg_id}\n" if self.several else f"{pid}\n")
            return
        pid = pid or self._pid(profile, number)
        if self.output == "values":
            for seg in self.segments:
                value = seg.program.evaluate_value(profile, events, now=self.clock)
                record = {"id": pid, "value": value}
                if self.several:
                    record["segment"] = seg.id
                write(json.dumps(record) + "\n")
            return
        previous = self.prior.get(pid, {}) if self.prior is not None else None
        result = membership_for(self.segments, profile, events, self.clock, previous)
        write(json.dumps({"id": pid, "segmentMembership": result}) + "\n")


# ---------------------------------------------------------------- worker processes

#: The evaluator of this worker process, made once by :func:`_start_worker`.
_worker: LineEvaluator | None = None


def _start_worker(settings: Settings) -> None:
    global _worker
    _worker = settings.evaluator()


def _evaluate_range(task: tuple[str, int, int, int]) -> tuple[str, list[tuple[int, str]], int]:
    """Evaluate the lines in bytes ``[start, end)`` of ``path``; the first is line ``first``.

    Returns the output text, the problems ``(line number, message)`` and the bytes read.
    """
    path, start, end, first = task
    assert _worker is not None
    with open(path, "rb") as stream:
        stream.seek(start)
        data = stream.read(end - start)
    out: list[str] = []
    problems = []
    line = _worker.line
    for number, raw in enumerate(data.split(b"\n"), first):
        problem = line(number, raw, out.append)
        if problem is not None:
            problems.append((number, problem))
    return "".join(out), problems, end - start


def ranges(path: str, size: int, chunk: int) -> Iterator[tuple[str, int, int, int]]:
    """``(path, start, end, first line number)`` pieces of about ``chunk`` bytes, whole lines."""
    start, line = 0, 1
    with open(path, "rb") as stream:
        while start < size:
            end = min(size, start + chunk)
            if end < size:
                stream.seek(end)
                end += len(stream.readline())
            yield path, start, end, line
            stream.seek(start)
            line += stream.read(end - start).count(b"\n")
            start = end


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def evaluate_file(path: str, size: int, settings: Settings, jobs: int, *,
                  chunk: int | None = None) -> Iterator[tuple[str, list[tuple[int, str]], int]]:
    """Evaluate the NDJSON file at ``path`` in ``jobs`` worker processes.

    Yields, in file order, what :func:`_evaluate_range` returns for each piece.
    """
    import multiprocessing  # only large files pay for it

    piece = chunk or max(1 << 20, min(8 << 20, size // (jobs * 8) or 1))
    with multiprocessing.get_context().Pool(jobs, _start_worker, (settings,)) as pool:
        yield from pool.imap(_evaluate_range, ranges(path, size, piece))
