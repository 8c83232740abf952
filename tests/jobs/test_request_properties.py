"""Any JSON body: the request readers raise RequestError (with a span inside the text) or
return a request; check_body never raises."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pqltools.jobs.requests import (
    RequestError,
    check_body,
    parse_body,
    parse_export_request,
    parse_segment_job_request,
)

KEYS = st.sampled_from([
    "segmentId", "segments", "schema", "name", "fields", "filter", "status", "segmentNs",
    "segmentQualificationTime", "startTime", "endTime", "fromIngestTimestamp", "emptyProfiles",
    "additionalFields", "eventList", "toIngestTimestamp", "destination", "datasetId",
    "segmentPerBatch", "evaluationInfo", "segmentation", "mergePolicy", "id", "version",
    "activationInfo", "exportIds", "schedule", "type", "properties", "state", "x",
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
                    st.sampled_from(["", "*", "ups", "realized", "exited", "0 0 1 * * ?",
                                     "2026-01-01T00:00:00Z", "batch_segmentation", "a,b.c",
                                     "0 0 */2 * * ?", "nonsense"]))
BODIES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)), max_leaves=25)


@given(BODIES)
def test_readers_raise_only_located_request_errors(value: Any) -> None:
    text = json.dumps(value, indent=1)
    for reader in (parse_segment_job_request, parse_export_request):
        try:
            reader(parse_body("<body>", text))
        except RequestError as exc:
            span = exc.span
            assert 0 <= span.start <= span.end <= len(text)
    findings = check_body(parse_body("<body>", text))
    for d in findings or []:
        assert 0 <= d.span.start <= d.span.end <= len(text)
