"""segment(): segmentMembership output, status transitions, segment-of-segments, cycles."""

from __future__ import annotations

from typing import Any

import pytest

import pqltools
from pqltools.definitions import load_definitions
from pqltools.errors import PQLEvaluationError, PQLValidationError
from pqltools.runtime.membership import compile_segments, profile_id

NOW = "2024-05-15T12:00:00Z"
STAMP = "2024-05-15T12:00:00.000+00:00"


def _ups(result: dict[str, Any]) -> dict[str, Any]:
    return result["ups"]  # type: ignore[no-any-return]


def test_realized_for_new_member() -> None:
    [result] = pqltools.segment({"adults": "age >= 18"}, [{"age": 30}], now=NOW)
    assert result == {"ups": {"adults": {"status": "realized", "lastQualificationTime": STAMP}}}


def test_existing_when_staying_and_exited_when_leaving() -> None:
    before = {"ups": {"adults": {"status": "realized", "lastQualificationTime": "2024-05-01"}}}
    stays = {"age": 30, "segmentMembership": before}
    leaves = {"age": 10, "segmentMembership": before}
    out = list(pqltools.segment({"adults": "age >= 18"}, [stays, leaves], now=NOW))
    assert _ups(out[0])["adults"] == {"status": "existing", "lastQualificationTime": STAMP}
    assert _ups(out[1])["adults"] == {"status": "exited", "lastQualificationTime": STAMP}


def test_exited_member_requalifying_is_realized() -> None:
    profile = {"age": 30, "segmentMembership": {"ups": {"adults": {"status": "exited"}}}}
    [out] = pqltools.segment({"adults": "age >= 18"}, [profile], now=NOW)
    assert _ups(out)["adults"]["status"] == "realized"


def test_non_member_gets_no_entry_and_old_exits_expire() -> None:
    recent = {"status": "exited", "lastQualificationTime": "2024-05-01T00:00:00Z"}
    old = {"status": "exited", "lastQualificationTime": "2024-03-01T00:00:00Z"}
    profiles = [{"age": 1},
                {"age": 1, "segmentMembership": {"ups": {"adults": recent}}},
                {"age": 1, "segmentMembership": {"ups": {"adults": old}}}]
    out = list(pqltools.segment({"adults": "age >= 18"}, profiles, now=NOW))
    assert [_ups(o) for o in out] == [{}, {"adults": recent}, {}]


def test_other_namespaces_and_audiences_are_carried_over() -> None:
    previous = {"ups": {"other": {"status": "existing"}}, "AAM": {"t1": {"status": "realized"}}}
    [out] = pqltools.segment({"adults": "age >= 18"},
                             [{"age": 40, "segmentMembership": previous}], now=NOW)
    assert out["AAM"] == {"t1": {"status": "realized"}}
    assert _ups(out)["other"] == {"status": "existing"}
    assert _ups(out)["adults"]["status"] == "realized"


def test_previous_mapping_by_profile_id() -> None:
    previous = {"p1": {"ups": {"adults": {"status": "realized"}}}}
    profiles = [{"_id": "p1", "age": 40}, {"_id": "p2", "age": 40}]
    out = list(pqltools.segment({"adults": "age >= 18"}, profiles, now=NOW, previous=previous))
    assert [_ups(o)["adults"]["status"] for o in out] == ["existing", "realized"]


def test_segment_of_segments_in_dependency_order() -> None:
    definitions = {
        "us-buyers": 'inSegment("us") and inSegment("buyers")',
        "buyers": 'xEvent[eventType = "buy"].count() > 0',
        "us": 'homeAddress.countryCode = "US"',
    }
    order = [s.id for s in compile_segments(definitions)]
    assert order.index("us") < order.index("us-buyers")
    assert order.index("buyers") < order.index("us-buyers")
    items = [({"homeAddress": {"countryCode": "US"}}, [{"eventType": "buy", "timestamp": 1}]),
             ({"homeAddress": {"countryCode": "US"}}, [])]
    out = list(pqltools.segment(definitions, items, now=NOW))
    assert sorted(_ups(out[0])) == ["buyers", "us", "us-buyers"]
    assert sorted(_ups(out[1])) == ["us"]


def test_insegment_on_unknown_id_reads_stored_membership() -> None:
    profile = {"segmentMembership": {"ups": {"batch-seg": {"status": "existing"}}}}
    [out] = pqltools.segment({"combo": 'inSegment("batch-seg")'}, [profile], now=NOW)
    assert _ups(out)["combo"]["status"] == "realized"


def test_cycle_is_a_clear_error() -> None:
    definitions = {"a": 'inSegment("b")', "b": 'inSegment("c")', "c": 'inSegment("a")'}
    with pytest.raises(PQLValidationError) as info:
        pqltools.segment(definitions, [{}], now=NOW)
    assert info.value.diagnostics[0].message == (
        "segments depend on each other in a cycle: inSegment('a') -> inSegment('b') -> "
        "inSegment('c') -> inSegment('a')")


def test_self_reference_is_a_cycle() -> None:
    with pytest.raises(PQLValidationError, match="cycle: inSegment\\('a'\\) -> inSegment"):
        pqltools.segment({"a": 'inSegment("a") or x = 1'}, [{}], now=NOW)


def test_definitions_from_files_use_their_ids() -> None:
    definitions = load_definitions([
        {"id": "seg-1", "name": "Adults", "expression": {"type": "PQL", "format": "pql/text",
                                                         "value": "age >= 18"}},
        {"name": "Named only", "expression": {"type": "PQL", "format": "pql/text",
                                              "value": 'inSegment("seg-1")'}},
    ])
    [out] = pqltools.segment(definitions, [{"age": 20}], now=NOW)
    assert sorted(_ups(out)) == ["Named only", "seg-1"]


def test_duplicate_ids_are_rejected() -> None:
    definitions = load_definitions([
        {"id": "x", "expression": {"value": "a"}}, {"id": "x", "expression": {"value": "b"}}])
    with pytest.raises(PQLValidationError, match="two definitions have the id 'x'"):
        pqltools.segment(definitions, [], now=NOW)


def test_results_stream_lazily() -> None:
    def profiles() -> Any:
        yield {"age": 30}
        raise AssertionError("read too far")

    results = pqltools.segment({"adults": "age >= 18"}, profiles(), now=NOW)
    assert _ups(next(results))["adults"]["status"] == "realized"


def test_bad_profile_is_an_evaluation_error() -> None:
    with pytest.raises(PQLEvaluationError, match="a profile must be a JSON object"):
        list(pqltools.segment({"a": "x"}, [[1]], now=NOW))


@pytest.mark.parametrize(("profile", "key", "expected"), [
    ({"_id": "a", "personID": "b"}, None, "a"),
    ({"personID": "b"}, None, "b"),
    ({"identityMap": {"Email": [{"id": "e"}], "ECID": [{"id": "c", "primary": True}]}}, None,
     "c"),
    ({"identityMap": {"Email": [{"id": "e"}]}}, None, "e"),
    ({"crm": {"id": 42}}, "crm.id", "42"),
    ({"x": 1}, None, None),
])
def test_profile_id(profile: dict[str, Any], key: str | None, expected: str | None) -> None:
    assert profile_id(profile, key) == expected
