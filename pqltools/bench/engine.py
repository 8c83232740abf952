"""``python -m pqltools.bench engine``: the SQL engines against hand-written SQL and the interpreter.

Generates (once, cached in ``--dir``) N profiles with ten events each as Parquet (the two segments
of ``python -m pqltools.bench eval``: profile-only and events), then for each segment measures,
in the same run:

* ``pql eval --engine duckdb --count`` as a subprocess (end to end: start-up, compile, scan);
* hand-written DuckDB SQL for the same question over the same file (the reference), in this
  process and, like the CLI, end to end in a new process (``python -c "import duckdb; ..."``:
  start-up and the first query's cold caches included);
* the interpreter (``Program.bind``, the fastest way it runs) over a sample of the profiles
  already decoded into Python objects, and ``pql eval --count`` over the same sample as NDJSON;
* with ``--spark``, Spark local mode: ``pql eval --engine spark --count`` (end to end, JVM
  start-up included), the engine's Spark SQL in this process, and hand-written Spark SQL for
  the same question (the Spark reference), both in one session.

Generated files are kept in ``--dir`` and reused by a later run with the same sizes;
``--delete`` removes them at the end (the 10M file is about 1 GB). ``--apart`` also times the
events segment with the events in their own Parquet file, joined by identity (``pql eval
--events``), against a hand-written DuckDB join.

Every engine must count the same qualifying profiles (on the sample for the interpreter), else
the run fails. Prints seconds and profiles per second, and the ratios the issue asks for.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from pqltools.bench import installed_environment
from pqltools.bench.eval import EVENT_PQL, NOW, PROFILE_PQL

__all__ = ["main"]

NOW_ISO = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
_HAND = {
    "profile-only": ("person.name.firstName = 'John' AND homeAddress.countryCode IN "
                     "('US', 'CA', 'GB') AND (person.age >= 21 OR loyalty.tier <> 'none')"),
    "events": ("homeAddress.countryCode = 'US' AND len(list_filter(events, lambda e: "
               "e.eventType = 'commerce.purchases' AND e.timestamp > TIMESTAMPTZ "
               "'2025-05-16 12:00:00+00' AND e.timestamp <= TIMESTAMPTZ "
               "'2025-06-15 12:00:00+00')) >= 2"),
}
#: the same questions in Spark SQL (``filter`` and ``size`` instead of DuckDB's list functions)
_HAND_SPARK = {
    "profile-only": _HAND["profile-only"],
    "events": ("homeAddress.countryCode = 'US' AND size(filter(events, e -> "
               "e.eventType = 'commerce.purchases' AND e.timestamp > TIMESTAMP "
               "'2025-05-16 12:00:00' AND e.timestamp <= TIMESTAMP '2025-06-15 12:00:00')) >= 2"),
}
_PQL = {"profile-only": PROFILE_PQL, "events": EVENT_PQL}


def _generate(con: Any, path: Path, count: int, events: int) -> None:
    # data generation only (deterministic from the row number); the engine's SQL is compiled
    con.execute(f"""
        COPY (
          SELECT 'p' || i AS _id,
            {{'name': {{'firstName': (['John','Jane','Joe','Mary','Ana','Li'])[(1 + hash(i) % 6)::BIGINT]}},
             'age': (14 + hash(i * 7) % 67)::BIGINT}} AS person,
            {{'countryCode': (['US','CA','GB','FR','DE','JP'])[(1 + hash(i * 3) % 6)::BIGINT]}}
              AS homeAddress,
            {{'tier': (['none','silver','gold'])[(1 + hash(i * 5) % 3)::BIGINT]}} AS loyalty,
            list_transform(range({events}), lambda j: {{
              'eventType': (['commerce.purchases','web.webpagedetails.pageViews',
                             'commerce.productViews'])[(1 + hash(i * 31 + j) % 3)::BIGINT],
              'timestamp': TIMESTAMPTZ '{NOW_ISO}' - to_minutes((hash(i * 17 + j) % 86400)::BIGINT)
            }}) AS events
          FROM range({count}) t(i)
        ) TO '{path}' (FORMAT parquet)""")


def _timed(fn: Any, rounds: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _python(code: str, args: list[str]) -> int:
    """Run ``code`` in a new Python process (as installed: bytecode reused); the number it
    prints."""
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True,
                         text=True, env=installed_environment()).stdout
    return int(out.strip())


#: ``pql`` as its console script runs it
_cli = partial(_python, "from pqltools.cli import main; main()")
#: hand-written SQL the way a Python user runs it from a new process
_HAND_PROCESS = ("import sys, duckdb; con = duckdb.connect(); "
                 "con.execute('SET enable_progress_bar = false'); "
                 "print(con.execute(sys.argv[1]).fetchall()[0][0])")


def _fetch_count(con: Any, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _first(run_sql: Any, source: Any, query: Any) -> int:
    """The single value of a one-row, one-column query run by an engine's ``run_sql``."""
    return int(next(iter(run_sql(source, query)))[0])


def _count_bound(bound: Any, rows: list[tuple[dict[str, Any], list[Any]]]) -> int:
    return sum(1 for profile, events in rows if bound(profile, events))


def _spark_count(spark: Any, sql: str) -> int:
    return int(spark.sql(sql).collect()[0][0])


def _interpreter_rows(con: Any, path: Path) -> list[tuple[dict[str, Any], list[Any]]]:
    rows = []
    for row in con.execute(f"SELECT to_json(t) FROM '{path}' t").fetchall():
        profile = json.loads(row[0])
        events = profile.pop("events") or []
        for e in events:  # ISO-8601 strings, as profiles arrive in JSON
            e["timestamp"] = e["timestamp"].replace(" ", "T")
        rows.append((profile, events))
    return rows


def main(argv: list[str]) -> int:
    """Run the benchmark; exit code 1 when two engines count differently."""
    parser = argparse.ArgumentParser(prog="python -m pqltools.bench engine")
    parser.add_argument("--profiles", type=int, default=2_000_000)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--sample", type=int, default=50_000,
                        help="profiles the interpreter evaluates (its rate is per profile)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/pqltools-bench-engine"))
    parser.add_argument("--spark", action="store_true",
                        help="also time Spark local mode (the CLI, the engine's SQL and "
                             "hand-written Spark SQL)")
    parser.add_argument("--apart", action="store_true",
                        help="also time the events segment with the events in their own "
                             "Parquet file (pql eval --events) against a hand-written join")
    parser.add_argument("--delete", action="store_true",
                        help="delete the generated files at the end (default: keep them for "
                             "the next run)")
    args = parser.parse_args(argv)

    import duckdb

    from pqltools.engines.duckdb_engine import connect
    from pqltools.runtime.compiler import compile as compile_pql
    args.dir.mkdir(parents=True, exist_ok=True)
    con = connect()
    data = args.dir / f"profiles-{args.profiles}x{args.events}.parquet"
    sample = args.dir / f"sample-{args.sample}x{args.events}.parquet"
    for path, n in ((data, args.profiles), (sample, args.sample)):
        if not path.exists():
            print(f"generating {path} ...", flush=True)
            _generate(con, path, n, args.events)
    sample_json = sample.with_suffix(".ndjson")
    rows = _interpreter_rows(con, sample)
    if not sample_json.exists():
        with sample_json.open("w") as out:
            for profile, events in rows:
                out.write(json.dumps({**profile, "events": events}) + "\n")
    print(f"{args.profiles:,} profiles x {args.events} events ({data.stat().st_size >> 20} MB "
          f"Parquet); interpreter on {args.sample:,}; best of {args.rounds}; "
          f"{os.cpu_count()} cores")
    failed = False
    for name, pql in _PQL.items():
        hand_sql = f"SELECT count(*) FROM '{data}' WHERE {_HAND[name]}"
        t_hand, n_hand = _timed(partial(_fetch_count, con, hand_sql), args.rounds)
        t_hand_new, n_hand_new = _timed(partial(_python, _HAND_PROCESS, [hand_sql]), args.rounds)
        cli = ["eval", "--engine", "duckdb", "--count", "--now", NOW_ISO, "-e", pql, str(data)]
        t_cli, n_cli = _timed(partial(_cli, cli), args.rounds)
        from pqltools.engines import duckdb_engine as dd
        from pqltools.engines.output import count_select
        from pqltools.engines.plan import compile_run
        from pqltools.runtime.context import make_clock
        segments = compile_run({name: pql})
        source = dd.open_source(str(data), segments, con=con)
        plan = dd.plan_for(source, segments, make_clock(NOW_ISO))
        counted = count_select(plan.query, plan.columns)
        t_sql, n_sql = _timed(partial(_first, dd.run_sql, source, counted), args.rounds)
        program = compile_pql(pql)
        t_interp, n_interp = _timed(partial(_count_bound, program.bind(now=NOW_ISO), rows), 1)
        cli_py = ["eval", "--count", "--now", NOW_ISO, "-e", pql, str(sample_json)]
        t_interp_cli, n_interp_cli = _timed(partial(_cli, cli_py), 1)
        n_sample_sql = con.execute(
            f"SELECT count(*) FROM '{sample}' WHERE {_HAND[name]}").fetchall()[0][0]
        rate_cli = args.profiles / t_cli
        rate_hand = args.profiles / t_hand
        rate_interp = args.sample / t_interp
        rate_interp_cli = args.sample / t_interp_cli
        print(f"\n{name}: {pql}")
        print(f"  pql eval --engine duckdb --count  {t_cli:8.2f} s  {rate_cli:14,.0f} /s  "
              f"({n_cli:,} qualify)")
        print(f"  engine's SQL in-process           {t_sql:8.2f} s  "
              f"{args.profiles / t_sql:14,.0f} /s  ({n_sql:,})")
        print(f"  hand-written DuckDB SQL           {t_hand:8.2f} s  {rate_hand:14,.0f} /s  "
              f"({n_hand:,})")
        print(f"  hand-written, new process         {t_hand_new:8.2f} s  "
              f"{args.profiles / t_hand_new:14,.0f} /s  ({n_hand_new:,})")
        print(f"  interpreter (Program.bind)        {'':8}    {rate_interp:14,.0f} /s  "
              f"({n_interp:,} of {args.sample:,})")
        print(f"  pql eval --count (python, NDJSON) {'':8}    {rate_interp_cli:14,.0f} /s  "
              f"({n_interp_cli:,} of {args.sample:,})")
        if args.spark:
            failed |= _spark(args, data, name, pql, n_hand)
        print(f"  engine SQL vs hand-written: {t_sql / t_hand:.2f}x the time; CLI vs "
              f"hand-written: {t_cli / t_hand:.2f}x in process, {t_cli / t_hand_new:.2f}x both "
              f"in a new process; engine vs "
              f"interpreter: {rate_cli / rate_interp:.1f}x (bind), "
              f"{rate_cli / rate_interp_cli:.1f}x (pql eval) profiles/s")
        if not (n_cli == n_sql == n_hand == n_hand_new
                and n_interp == n_interp_cli == n_sample_sql):
            print("  MISMATCH between engines", file=sys.stderr)
            failed = True
        if args.apart and name == "events":
            failed |= _apart(args, con, data, pql, n_hand, t_cli)
    del duckdb
    if args.delete:
        apart = [data.with_name(data.stem + f"-{k}.parquet") for k in ("profiles", "events")]
        for path in (data, sample, sample_json, *apart):
            path.unlink(missing_ok=True)
    return 1 if failed else 0


def _apart(args: Any, con: Any, data: Path, pql: str, expected: int, t_nested: float) -> bool:
    """The events segment with the events in their own file, joined by identity: ``pql eval
    --events`` against a hand-written join; True when a count differs from ``expected``."""
    profiles = data.with_name(data.stem + "-profiles.parquet")
    events = data.with_name(data.stem + "-events.parquet")
    if not events.exists():
        print(f"generating {profiles} and {events} ...", flush=True)
        con.execute(f"COPY (SELECT * EXCLUDE (events) FROM '{data}') TO '{profiles}' "
                    "(FORMAT parquet)")
        con.execute(f"COPY (SELECT _id AS profileId, e.eventType AS eventType, e.timestamp AS "
                    f"timestamp FROM (SELECT _id, unnest(events) AS e FROM '{data}')) "
                    f"TO '{events}' (FORMAT parquet)")
    cli = ["eval", "--engine", "duckdb", "--count", "--now", NOW_ISO, "--events", str(events),
           "-e", pql, str(profiles)]
    t_cli, n_cli = _timed(partial(_cli, cli), args.rounds)
    hand = (f"SELECT count(*) FROM '{profiles}' p LEFT JOIN (SELECT profileId, "
            f"list(struct_pack(eventType, timestamp)) AS events FROM '{events}' "
            f"GROUP BY profileId) g ON p._id = g.profileId WHERE {_HAND['events']}")
    t_hand, n_hand = _timed(partial(_fetch_count, con, hand), args.rounds)
    n = args.profiles
    print("  events apart (own Parquet file, joined by identity):")
    print(f"  pql eval --engine duckdb --count --events {t_cli:8.2f} s  {n / t_cli:14,.0f} /s  "
          f"({n_cli:,})")
    print(f"  hand-written DuckDB join          {t_hand:8.2f} s  {n / t_hand:14,.0f} /s  "
          f"({n_hand:,})")
    print(f"  CLI vs hand-written join: {t_cli / t_hand:.2f}x the time; apart vs nested (CLI): "
          f"{t_cli / t_nested:.2f}x")
    return not n_cli == n_hand == expected


def _spark(args: Any, data: Path, name: str, pql: str, expected: int) -> bool:
    """Spark local mode for one question; True when a count differs from ``expected``."""
    from pqltools.engines import spark_engine as se
    from pqltools.engines.output import count_select
    from pqltools.engines.plan import compile_run
    from pqltools.runtime.context import make_clock
    spark_cli = ["eval", "--engine", "spark", "--count", "--now", NOW_ISO, "-e", pql, str(data)]
    t_cli, n_cli = _timed(partial(_cli, spark_cli), 1)
    spark = se.session()
    segments = compile_run({name: pql})
    source = se.open_source(str(data), segments, spark=spark)
    plan = se.plan_for(source, segments, make_clock(NOW_ISO))
    counted = count_select(plan.query, plan.columns)
    t_sql, n_sql = _timed(partial(_first, se.run_sql, source, counted), args.rounds)
    hand = f"SELECT count(*) FROM parquet.`{data}` WHERE {_HAND_SPARK[name]}"
    t_hand, n_hand = _timed(partial(_spark_count, spark, hand), args.rounds)
    n = args.profiles
    print(f"  pql eval --engine spark --count   {t_cli:8.2f} s  {n / t_cli:14,.0f} /s  "
          f"({n_cli:,})")
    print(f"  engine's Spark SQL in-process     {t_sql:8.2f} s  {n / t_sql:14,.0f} /s  "
          f"({n_sql:,})")
    print(f"  hand-written Spark SQL            {t_hand:8.2f} s  {n / t_hand:14,.0f} /s  "
          f"({n_hand:,})")
    print(f"  Spark engine SQL vs hand-written Spark SQL: {t_sql / t_hand:.2f}x the time")
    return not n_cli == n_sql == n_hand == expected


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
