"""The Segmentation Service workflow offline: segment jobs, export jobs, preview and estimate.

Library calls (the ``pql job run``, ``pql export``, ``pql preview`` and ``pql estimate`` commands
are thin shells over them; docs/jobs.md has a worked example):

* :func:`run_segment_job` a segment job request over local definitions and profiles;
* :func:`run_export_job` an export job request (optionally evaluating first);
* :func:`preview` pages of qualifying profiles, :func:`estimate` an audience size from a sample;
* :func:`parse_body`, :func:`parse_segment_job_request`, :func:`parse_export_request` read
  request bodies with located errors (:class:`RequestError`); :func:`check_body` lints
  schedules and ad-hoc activation bodies.
"""

from __future__ import annotations

import importlib
from typing import Any

from pqltools.jobs.requests import (
    Body,
    ExportRequest,
    RequestError,
    SegmentFilter,
    SegmentJobRequest,
    check_body,
    parse_body,
    parse_export_request,
    parse_segment_job_request,
)

__all__ = [
    "Body",
    "ExportRequest",
    "RequestError",
    "SegmentFilter",
    "SegmentJobRequest",
    "check_body",
    "estimate",
    "parse_body",
    "parse_export_request",
    "parse_segment_job_request",
    "preview",
    "run_export_job",
    "run_segment_job",
]

_LAZY = {
    "run_segment_job": "pqltools.jobs.segment_job",
    "run_export_job": "pqltools.jobs.export_job",
    "preview": "pqltools.jobs.preview",
    "estimate": "pqltools.jobs.estimate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pqltools.jobs' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
