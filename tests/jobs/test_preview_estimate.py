"""pql preview and pql estimate: paging, hash sampling shared with SQL engines, intervals and
their coverage."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from pqltools.jobs.estimate import bounds, default_sample_size, estimate
from pqltools.jobs.preview import decode_token, encode_token, preview
from pqltools.jobs.stats import beta_quantile, interval, regularized_beta
from pqltools.runtime.sampling import (
    in_sample,
    sample_condition_sql,
    sample_key,
    sample_threshold,
)
from tests.jobs.conftest import NOW, profile, run_cli, write_ndjson

US = 'homeAddress.countryCode = "US"'


@pytest.fixture
def many(tmp_path: Path) -> Path:
    return write_ndjson(tmp_path / "many.ndjson", [
        profile(f"p{i:03d}", "US" if i % 4 == 0 else "FR") for i in range(200)])


# -- preview -------------------------------------------------------------------------------

def test_preview_pages_through_qualifying_profiles(many: Path) -> None:
    first = preview(US, many, limit=20, now=NOW)
    assert first["state"] == "RESULT_READY"
    assert [next(iter(r)) for r in first["results"]] == [f"p{i:03d}" for i in range(0, 80, 4)]
    assert first["page"] == {"offset": 0, "size": 20, "limit": 20}
    item = first["results"][0]["p000"]
    assert item == {"endCustomerIds": {"p000@example.com": {"namespace": "Email"}}}
    pages = [first]
    while pages[-1]["links"]["next"]:
        pages.append(preview(US, many, limit=20, start=pages[-1]["links"]["next"], now=NOW))
    ids = [next(iter(r)) for page in pages for r in page["results"]]
    assert ids == [f"p{i:03d}" for i in range(0, 200, 4)]
    assert len(pages) == 3 and pages[-1]["page"] == {"offset": 40, "size": 10, "limit": 20}


def test_preview_tokens() -> None:
    assert decode_token(encode_token(40)) == 40
    assert decode_token("7") == 7 and decode_token(None) == 0
    with pytest.raises(ValueError, match="not a preview page token"):
        decode_token("garbage!")


def test_preview_cli_with_profiles(many: Path) -> None:
    result = run_cli("preview", US, str(many), "--limit", "2", "--with-profiles", "--now", NOW)
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["results"][0]["p000"]["profile"]["homeAddress"] == {"countryCode": "US"}
    following = run_cli("preview", US, str(many), "--limit", "2", "--start",
                        body["links"]["next"])
    assert next(iter(json.loads(following.stdout)["results"][0])) == "p008"
    bad = run_cli("preview", US, str(many), "--start", "not-a-token!")
    assert bad.exit_code == 2 and "not a preview page token" in bad.stderr


def test_preview_and_estimate_read_a_preview_request_body(tmp_path: Path, many: Path) -> None:
    body = tmp_path / "preview.json"
    body.write_text(json.dumps({"predicateExpression": US, "predicateType": "pql/text",
                                "predicateModel": "_xdm.context.profile"}))
    page = run_cli("preview", str(body), str(many), "--limit", "3")
    assert [next(iter(r)) for r in json.loads(page.stdout)["results"]] == ["p000", "p004",
                                                                          "p008"]
    size = run_cli("estimate", str(body), str(many), "--format", "json")
    assert json.loads(size.stdout)["estimatedSize"] == 50
    body.write_text('{\n  "predicateExpression": "a = 1",\n  "predicateType": "pql/json"\n}')
    bad = run_cli("preview", str(body), str(many))
    assert bad.exit_code == 2 and f"{body}:3:20:" in bad.stderr
    assert "pql/text only" in bad.stderr


def test_preview_of_a_definition_file_needs_one_definition(tmp_path: Path, many: Path) -> None:
    from tests.jobs.conftest import DEFINITIONS

    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps(DEFINITIONS))
    several = run_cli("preview", str(defs), str(many))
    assert several.exit_code == 2 and "--segment-id" in several.stderr
    one = run_cli("preview", str(defs), str(many), "--segment-id", "us", "--limit", "1")
    assert one.exit_code == 0 and json.loads(one.stdout)["page"]["size"] == 1


# -- sampling ------------------------------------------------------------------------------

def test_sample_threshold_and_key() -> None:
    assert sample_threshold(1.0) is None and sample_threshold(0.5) == "800000000000"
    assert sample_key("p1", 17) == "02fd862a903c"  # md5("17:p1")
    assert in_sample("anything", 3, None)
    with pytest.raises(ValueError):
        sample_threshold(-0.1)


def test_duckdb_samples_the_same_profiles_as_python() -> None:
    duckdb = pytest.importorskip("duckdb")
    ids = [f"id-{i}" for i in range(3000)] + ["ünïcode", "with'quote", "1234"]
    con = duckdb.connect()
    con.execute("CREATE TABLE p (pid VARCHAR)")
    con.executemany("INSERT INTO p VALUES (?)", [[i] for i in ids])
    for seed, fraction in [(0, 0.1), (7, 0.5), (12345, 0.01), (3, 1.0)]:
        sql = f"SELECT pid FROM p WHERE {sample_condition_sql('pid', seed, fraction)}"
        in_sql = {row[0] for row in con.execute(sql).fetchall()}
        threshold = sample_threshold(fraction)
        assert in_sql == {i for i in ids if in_sample(i, seed, threshold)}
    # an integer id column samples like its decimal text
    con.execute("CREATE TABLE q AS SELECT range AS n FROM range(500)")
    sql = f"SELECT n FROM q WHERE {sample_condition_sql('n', 1, 0.3)}"
    assert {r[0] for r in con.execute(sql).fetchall()} == {
        n for n in range(500) if in_sample(str(n), 1, sample_threshold(0.3))}


def test_sample_share_is_close_to_the_fraction() -> None:
    threshold = sample_threshold(0.2)
    share = sum(in_sample(f"x{i}", 11, threshold) for i in range(20000)) / 20000
    assert 0.19 < share < 0.21


# -- intervals -----------------------------------------------------------------------------

def test_beta_quantiles_match_known_values() -> None:
    # Clopper-Pearson 95% for 3 of 10: [0.0667, 0.6525] (standard tables)
    assert beta_quantile(0.025, 3, 8) == pytest.approx(0.066739, abs=1e-5)
    assert beta_quantile(0.975, 4, 7) == pytest.approx(0.652453, abs=1e-5)
    assert regularized_beta(0.5, 2, 2) == pytest.approx(0.5)
    assert regularized_beta(0.3, 1, 1) == pytest.approx(0.3)


def test_wilson_without_correction_matches_the_textbook() -> None:
    # 40 of 100 from a huge population: Wilson 95% [0.3094, 0.4980]
    result = interval(40, 100, 10**12, method="wilson")
    assert (result.lower, result.upper) == (pytest.approx(0.3094, abs=1e-4),
                                            pytest.approx(0.4980, abs=1e-4))


def test_method_choice_and_finite_population_correction() -> None:
    assert interval(3, 1000, 10**9).method == "clopper-pearson"
    assert interval(995, 1000, 10**9).method == "clopper-pearson"
    assert interval(300, 1000, 10**9).method == "wilson"
    wide = interval(300, 1000, 10**9)
    narrow = interval(300, 1000, 1100)  # the sample is most of the store
    assert narrow.upper - narrow.lower < (wide.upper - wide.lower) / 2
    assert interval(300, 1000, 1000).method == "exact"
    assert bounds(300, 1000, 1000)["lowerBound"] == bounds(300, 1000, 1000)["upperBound"] == 300


def test_bounds_respect_what_was_seen() -> None:
    b = bounds(5, 100, 120)  # at least 5 match, at most 120 - 95
    assert 5 <= b["lowerBound"] <= b["estimatedSize"] <= b["upperBound"] <= 25


def test_default_sample_size_is_adobes_rule() -> None:
    assert default_sample_size(999_999) == 999_999
    assert default_sample_size(1_000_000) == 1_000_000
    assert default_sample_size(20_000_000) == 1_000_000
    assert default_sample_size(40_000_000) == 2_000_000


def test_interval_coverage_simulation() -> None:
    """The 95% interval covers the true count 94-96.5% of the time.

    5,000 profiles; 240 seeds of the real hash sampler at a 20% sample fraction (so the
    finite-population correction matters); true rates 0.1% to 50%. Each seed samples once and
    every rate's matching set is a fixed prefix of one shuffled order, so the run is quick and
    always the same. (The exact expected coverage of this grid, summed over the binomial
    sample size and hypergeometric matches, is 95.9%: Clopper-Pearson is conservative at the
    0.1% rate, where about one sampled profile matches; the Wilson rates are at 95.2-95.6%.)
    """
    total, seeds, fraction = 5000, 240, 0.2
    rates = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5]
    ids = [f"profile-{i}" for i in range(total)]
    order = list(range(total))
    random.Random(20261201).shuffle(order)
    threshold = sample_threshold(fraction)
    covered = {r: 0 for r in rates}
    for seed in range(seeds):
        sampled = [in_sample(i, seed, threshold) for i in ids]
        read = sum(sampled)
        prefix = [0]
        for index in order[:total // 2]:
            prefix.append(prefix[-1] + sampled[index])
        for rate in rates:
            truth = round(rate * total)
            b = bounds(prefix[truth], read, total)
            covered[rate] += b["lowerBound"] <= truth <= b["upperBound"]
    overall = sum(covered.values()) / (seeds * len(rates))
    assert 0.94 <= overall <= 0.965, {r: c / seeds for r, c in covered.items()}
    assert all(c / seeds >= 0.91 for c in covered.values()), covered


# -- estimate ------------------------------------------------------------------------------

def test_estimate_reads_the_whole_small_store_by_default(many: Path) -> None:
    result = estimate(US, many, now=NOW)
    assert result["totalRows"] == result["numRowsToRead"] == result["profilesReadSoFar"] == 200
    assert result["estimatedSize"] == result["lowerBound"] == result["upperBound"] == 50
    assert result["interval"]["method"] == "exact" and result["confidenceInterval"] == "95%"


def test_estimate_from_a_sample_is_deterministic_per_seed(many: Path) -> None:
    a = estimate(US, many, sample_fraction=0.5, seed=4, now=NOW)
    b = estimate(US, many, sample_fraction=0.5, seed=4, now=NOW)
    c = estimate(US, many, sample_fraction=0.5, seed=5, now=NOW)
    assert a == b
    assert (a["profilesReadSoFar"], a["profilesMatchedSoFar"]) != (
        c["profilesReadSoFar"], c["profilesMatchedSoFar"])
    read = a["profilesReadSoFar"]
    assert read == sum(in_sample(f"p{i:03d}", 4, sample_threshold(0.5)) for i in range(200))
    assert a["lowerBound"] <= a["estimatedSize"] <= a["upperBound"]
    assert a["standardError"] > 0 and a["numRowsToRead"] == 100


def test_estimate_sample_size(many: Path) -> None:
    result = estimate(US, many, sample_size=40, seed=1, now=NOW)
    assert result["numRowsToRead"] == 40
    assert result["sample"]["fraction"] == 0.2
    with pytest.raises(ValueError, match="not both"):
        estimate(US, many, sample_size=4, sample_fraction=0.1)


def test_estimate_cli_text_and_json(many: Path) -> None:
    text = run_cli("estimate", US, str(many), "--sample-fraction", "0.5", "--seed", "2")
    assert text.exit_code == 0 and "estimated size:" in text.stdout
    result = run_cli("estimate", US, str(many), "--sample-size", "50", "--format", "json",
                     "--interval", "clopper-pearson")
    body = json.loads(result.stdout)
    assert set(body) >= {"estimatedSize", "standardError", "confidenceInterval",
                         "profilesReadSoFar", "profilesMatchedSoFar", "totalRows",
                         "numRowsToRead", "lowerBound", "upperBound"}
    assert body["interval"]["method"] == "clopper-pearson"
    bad = run_cli("estimate", "a = = 1", str(many))
    assert bad.exit_code == 2


def test_estimate_counts_every_record_of_the_store(tmp_path: Path) -> None:
    from pqltools.jobs.data import count_records, write_records

    ndjson = write_ndjson(tmp_path / "p.ndjson", [profile(f"x{i}", "US") for i in range(30)])
    with ndjson.open("a") as handle:
        handle.write("\n   \n")  # blank lines are not records
    as_array = tmp_path / "p.json"
    as_array.write_text(json.dumps([profile(f"y{i}", "US") for i in range(7)]))
    assert count_records(ndjson) == 30 and count_records(as_array) == 7
    assert count_records([ndjson, as_array]) == 37
    pytest.importorskip("duckdb")
    parquet = tmp_path / "p.parquet"
    write_records((profile(f"z{i}", "FR") for i in range(12)), parquet, "parquet")
    assert count_records(tmp_path) == 49
    result = estimate(US, tmp_path, sample_fraction=0.5, seed=1, now=NOW)
    assert result["totalRows"] == 49


def test_duckdb_draws_the_sample_in_sql_and_agrees(tmp_path: Path) -> None:
    """On Parquet data the DuckDB engine samples with sample_condition_sql inside the query;
    the Python engine samples with in_sample: same profiles, same estimate."""
    from pqltools.jobs.data import write_records

    store = tmp_path / "store.parquet"
    write_records((profile(f"q{i}", "US" if i % 3 else "FR", purchases=i % 4)
                   for i in range(300)), store, "parquet")
    query = 'homeAddress.countryCode = "US" and xEvent.count() >= 2'
    for seed in (1, 2, 3):
        py = estimate(query, store, sample_fraction=0.3, seed=seed, now=NOW)
        sql = estimate(query, store, sample_fraction=0.3, seed=seed, now=NOW, engine="duckdb")
        assert (py["sampledBy"], sql["sampledBy"]) == ("python", "sql")
        for key in ("profilesReadSoFar", "profilesMatchedSoFar", "estimatedSize",
                    "lowerBound", "upperBound", "totalRows"):
            assert py[key] == sql[key], (seed, key)
    assert py["profilesReadSoFar"] == sum(
        in_sample(f"q{i}", 3, sample_threshold(0.3)) for i in range(300))


def test_beta_quantile_inverts_the_cdf() -> None:
    rnd = random.Random(7)
    for _ in range(300):
        a, b = rnd.uniform(0.5, 60), rnd.uniform(0.5, 6000)
        q = rnd.choice([0.005, 0.025, 0.975, 0.995, rnd.random()])
        assert regularized_beta(beta_quantile(q, a, b), a, b) == pytest.approx(q, abs=1e-9)
