"""What every job shares: definitions found by id, profiles read with their place, errors as
Adobe's job responses show them, timings, and the engine entry point."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pqltools.definitions import Definition, NoDefinitionError, load_definitions
from pqltools.errors import PQLError
from pqltools.jobs.data import Record, iter_records
from pqltools.runtime.membership import CompiledSegment, compiled_segment, profile_id

__all__ = [
    "ENGINES",
    "JobError",
    "Profile",
    "Timer",
    "compile_definitions",
    "find_definitions",
    "read_profiles",
    "run_segments",
]

ENGINES = ("python", "duckdb", "spark")
DEFINITION_SUFFIXES = (".json", ".pql")


@dataclass
class JobError:
    """One error of a job, in the shape of Adobe's ``errors`` items plus its place."""

    code: str
    msg: str
    location: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.location:
            out["location"] = self.location
        return out


@dataclass
class Timer:
    """``{"startTimeInMs", "endTimeInMs", "totalTimeInMs"}`` as Adobe's job metrics show."""

    start: float = field(default_factory=time.time)
    end: float | None = None

    def stop(self) -> Timer:
        self.end = time.time()
        return self

    @property
    def seconds(self) -> float:
        return (self.end if self.end is not None else time.time()) - self.start

    def as_json(self) -> dict[str, int]:
        end = self.end if self.end is not None else time.time()
        start_ms, end_ms = int(self.start * 1000), int(end * 1000)
        return {"startTimeInMs": start_ms, "endTimeInMs": end_ms,
                "totalTimeInMs": end_ms - start_ms}


def find_definitions(sources: Iterable[str | Path]) -> tuple[list[Definition], list[JobError]]:
    """Every definition in the given files and directories (``.json`` searched recursively).

    A file that holds no definition (a request body lying next to the definitions) is skipped;
    one that cannot be read is an error with its place.
    """
    out: list[Definition] = []
    errors: list[JobError] = []
    for source in sources:
        path = Path(source)
        files = sorted(p for p in path.rglob("*.json") if p.is_file()) if path.is_dir() \
            else [path]
        for file in files:
            try:
                out.extend(load_definitions(file))
            except NoDefinitionError:
                if not path.is_dir():
                    errors.append(JobError("PQL090", "holds no segment definition",
                                           str(file)))
            except PQLError as exc:
                d = exc.diagnostics[0]
                errors.append(JobError(d.code, d.message,
                                       f"{file}:{d.span.line}:{d.span.column}"))
    return out, errors


def definition_id(definition: Definition) -> str:
    """The audience id a definition runs under: its ``id``, else its ``name``, else its label."""
    return definition.id or definition.name or definition.label


def compile_definitions(definitions: Iterable[Definition]
                        ) -> tuple[list[CompiledSegment], list[JobError]]:
    """Compile each definition; one that does not compile is an error at its place in its file."""
    from pqltools.runtime.compiler import compile as compile_pql

    compiled: list[CompiledSegment] = []
    errors: list[JobError] = []
    for d in definitions:
        try:
            program = compile_pql(d.expression)
        except PQLError as exc:
            for diag in exc.diagnostics[:5]:
                span = d.file_span(diag.span)
                errors.append(JobError(diag.code, f"{d.label}: {diag.message}",
                                       f"{d.path}:{span.line}:{span.column}"))
            continue
        compiled.append(compiled_segment(definition_id(d), d.label, program))
    return compiled, errors


@dataclass
class Profile:
    """One input profile, its events, its id and where it came from."""

    profile: dict[str, Any]
    events: list[Any] | None
    id: str
    where: str


def read_profiles(data: str | Path | Iterable[Any], *, events_key: str = "events",
                  id_key: str | None = None, errors: list[JobError]) -> Iterator[Profile]:
    """The profiles of ``data`` (paths, or an iterable of profiles or (profile, events) pairs).

    Unusable records (not JSON, not an object, no id) are appended to ``errors`` with their
    place and skipped.
    """
    if isinstance(data, (str, Path)) or (isinstance(data, (list, tuple)) and data and all(
            isinstance(d, (str, Path)) for d in data)):
        records: Iterable[Record] = iter_records(data)
    else:
        records = (Record(item, f"<profiles>[{i}]") for i, item in enumerate(data))
    for record in records:
        if record.error is not None:
            errors.append(JobError("PQL094", record.error, record.where))
            continue
        value = record.value
        events: Any = None
        if isinstance(value, tuple) and len(value) == 2:
            value, events = value
        if not isinstance(value, dict):
            errors.append(JobError("PQL094", "a profile must be a JSON object", record.where))
            continue
        if events is None and events_key in value:
            events = value[events_key]
            value = {k: v for k, v in value.items() if k != events_key}
        if events is not None and not isinstance(events, list):
            errors.append(JobError("PQL094", f"`{events_key}` must be an array of events",
                                   record.where))
            continue
        pid = profile_id(value, id_key)
        if pid is None:
            errors.append(JobError("PQL094", "the profile has no id (`_id`, `personID`, `id` "
                                   "or an identityMap entry)" if id_key is None
                                   else f"the profile has no `{id_key}`", record.where))
            continue
        yield Profile(value, events, pid, record.where)


def run_segments(segments: list[CompiledSegment], profiles: Iterable[Profile], *, engine: str,
                 now: Any, previous: Mapping[str, Any] | None, id_key: str | None = None,
                 errors: list[JobError]) -> Iterator[tuple[Profile, dict[str, Any]]]:
    """Each profile with its new ``segmentMembership``, through :func:`pqltools.segment`.

    With the Python engine each profile is evaluated on its own, so one unusable profile is an
    error at its place and the others go on. Other engines get the whole batch at once.
    """
    from pqltools.runtime.context import make_clock
    from pqltools.runtime.membership import membership_for, order_segments

    if engine == "python":
        # what pqltools.segment(engine="python") does per profile, with the order and the clock
        # made once rather than per call
        ordered = order_segments(segments)
        clock = make_clock(now)
        for p in profiles:
            prior = previous.get(p.id, {}) if previous is not None else None
            try:
                membership = membership_for(ordered, p.profile, p.events, clock, prior)
            except PQLError as exc:
                errors.append(JobError(exc.diagnostics[0].code, exc.diagnostics[0].message,
                                       p.where))
                continue
            yield p, membership
        return
    yield from _run_engine(segments, profiles, engine, now, previous, id_key, errors)


def _run_engine(segments: list[CompiledSegment], profiles: Iterable[Profile], engine: str,
                now: Any, previous: Mapping[str, Any] | None, id_key: str | None,
                errors: list[JobError]) -> Iterator[tuple[Profile, dict[str, Any]]]:
    from pqltools.engines.run import segment

    batch = list(profiles)
    items = [(p.profile, p.events) for p in batch]
    try:
        results = list(segment(segments, items, engine=engine, now=now, previous=previous,
                               id_key=id_key))
    except ImportError as exc:
        raise EngineUnavailable(f"the {engine} engine needs its extra: "
                                f"pip install 'pqltools[{engine}]' ({exc})") from None
    except PQLError as exc:
        errors.append(JobError(exc.diagnostics[0].code, exc.diagnostics[0].message, engine))
        return
    yield from zip(batch, results)


class EngineUnavailable(Exception):
    """The requested engine cannot run here (not installed, or not in this version)."""
