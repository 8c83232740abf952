"""The parser shares nothing per call: concurrent parses, and the shipped LALR table cache."""

from __future__ import annotations

import marshal
import re
import threading
from pathlib import Path

import pytest

from pqltools.errors import PQLSyntaxError
from pqltools.syntax import lexer_cache
from pqltools.syntax import parser as parser_module
from pqltools.syntax.parser import parse, parse_document

#: Texts whose parses record different diagnostics (from the builder and from error recovery).
TEXTS = [
    'homeAddress.countryCode = "US"',
    'a = "bad \\q escape"',
    "a = 99999999999999999999999999999999999999e999999",
    "a = (1 + ",
    'xEvent[eventType = "x"].count() > 2 and person.age >= 21',
    "a = $2x",
    'chain(xEvent, timestamp, [A: WHAT(eventType = "a") WHAT(eventType = "b")])',
    "not not not a = 1 ) )",
]


def _summary(text: str) -> tuple[object, list[tuple[str, int, int, str]]]:
    result = parse_document(text)
    return result.expr, [(d.code, d.span.start, d.span.end, d.message)
                         for d in result.diagnostics]


def test_concurrent_parses_keep_their_own_diagnostics() -> None:
    expected = {text: _summary(text) for text in TEXTS}
    assert any(diags for _, diags in expected.values())
    assert any(not diags for _, diags in expected.values())
    start = threading.Barrier(8)
    mismatches: list[str] = []

    def work(offset: int) -> None:
        start.wait()
        for i in range(300):
            text = TEXTS[(i + offset) % len(TEXTS)]
            if _summary(text) != expected[text]:
                mismatches.append(text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert mismatches == []


def test_first_use_from_many_threads_builds_one_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser_module, "_parser", None)
    seen: list[int] = []
    start = threading.Barrier(6)

    def work() -> None:
        start.wait()
        seen.append(id(parser_module._get_parser()))
        parse("a = 1")

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 6 and len(set(seen)) == 1


def test_shipped_cache_matches_the_grammar() -> None:
    path = parser_module._cache_path()
    assert marshal.loads(path.read_bytes())["key"] == parser_module.cache_key(), (
        "grammar/pql.lark.cache is stale: run python -m pqltools.syntax.build_parser_cache")
    assert parser_module._load_cached(path, parser_module.cache_key()) is not None


def test_cached_and_built_parsers_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    cached = {text: _summary(text) for text in TEXTS}
    built = parser_module._build(parser_module.grammar_text(), parser_module._BUILDER)
    monkeypatch.setattr(parser_module, "_parser", built)
    assert {text: _summary(text) for text in TEXTS} == cached


def test_stale_or_broken_cache_is_ignored(tmp_path: Path) -> None:
    target = parser_module.write_parser_cache(tmp_path / "pql.lark.cache")
    key = parser_module.cache_key()
    assert parser_module._load_cached(target, key) is not None
    assert parser_module._load_cached(target, parser_module.cache_key("start: X")) is None
    for broken in (b"not marshal data", marshal.dumps([1, 2]), marshal.dumps({"key": key}),
                   target.read_bytes()[:1000]):
        target.write_bytes(broken)
        assert parser_module._load_cached(target, key) is None
    assert parser_module._load_cached(tmp_path / "missing", key) is None


def test_errors_still_raise_after_concurrent_use() -> None:
    with pytest.raises(PQLSyntaxError):
        parse("a = (")



def _lexer_modules(parser: object) -> set[object]:
    return {lexer.re for lexer in lexer_cache._basic_lexers(parser)}


def test_stored_lexer_patterns_are_the_ones_re_compiles(tmp_path: Path) -> None:
    """Every pattern the cache stores restores to the object ``re.compile`` makes (issue 9)."""
    target = parser_module.write_parser_cache(tmp_path / "pql.lark.cache")
    stored = marshal.loads(target.read_bytes())["regex"]
    assert stored["key"] == lexer_cache.key()
    entries = stored["entries"]
    assert len(entries) > 20
    patterns = lexer_cache.StoredPatterns(entries)
    for pattern, flags, *_ in entries:
        assert patterns.compile(pattern, flags) == re.compile(pattern, flags)
    for pattern, flags, *_ in entries:
        for subject in ("x", "and", "42", '"s"', " "):
            ours, theirs = patterns.match(pattern, subject, flags), re.match(pattern, subject, flags)
            assert (ours and (ours.span(), ours.groups())) == (
                theirs and (theirs.span(), theirs.groups()))
    assert patterns.compile("not stored", 0) == re.compile("not stored")
    # a loaded parser's lexers compile from the stored codes, and parse as the built parser does
    loaded = parser_module._load_cached(target, parser_module.cache_key())
    assert loaded is not None
    modules = _lexer_modules(loaded)
    assert len(modules) == 1 and len(next(iter(modules))) == len(entries)  # type: ignore[arg-type]


def test_lexer_patterns_from_another_python_are_not_used(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target = parser_module.write_parser_cache(tmp_path / "pql.lark.cache")
    expected = {text: _summary(text) for text in TEXTS}
    monkeypatch.setattr(lexer_cache, "key", lambda: "another interpreter")
    loaded = parser_module._load_cached(target, parser_module.cache_key())
    assert loaded is not None and _lexer_modules(loaded) == {re}
    monkeypatch.setattr(parser_module, "_parser", loaded)
    assert {text: _summary(text) for text in TEXTS} == expected


def test_a_stored_code_that_does_not_load_falls_back_to_re() -> None:
    pattern = "(?P<A>a+)|(?P<B>b)"
    good = lexer_cache._entry(pattern, 0)
    assert good is not None
    broken = (*good[:3], b"\xff\xff\xff\xff" * 4, *good[4:])
    patterns = lexer_cache.StoredPatterns([broken])  # type: ignore[list-item]
    assert patterns.compile(pattern) == re.compile(pattern)
