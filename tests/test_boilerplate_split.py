"""The shortcuts of the boilerplate stage give what the plain reading gives.

A rule's patterns anchored at the line start are tried there alone (``match``) and only the
others are searched for; a page judged that way must lose exactly the lines, report records
and metadata it loses when every rule searches its whole joined pattern. The line statistics
count a page's lines in one pass where they used to add, then count.
"""
from __future__ import annotations

import random
import re

import pytest

from cleancorp.document import Document
from cleancorp.linestats import LineStats, line_key
from cleancorp.stages.boilerplate import Boilerplate, keyword_regex, load_rules, split_patterns

from conftest import FIXTURES, SHARED


@pytest.fixture
def shared_or_none():
    """The shared sample material when it is present (the test then reads it too)."""
    return SHARED if SHARED.is_dir() else None


def _fixture_pages() -> list[str]:
    pages = []
    for path in sorted((FIXTURES / "boilerplate").glob("*.tsv")):
        rows = path.read_text(encoding="utf-8").split("\n")
        pages.append("\n".join(row.split("\t", 1)[-1] for row in rows if row))
    for path in sorted((FIXTURES / "expected").glob("*.txt")):
        pages.append(path.read_text(encoding="utf-8"))
    for path in sorted((FIXTURES / "clean").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        pages += ["\n".join(lines[i:i + 30]) for i in range(0, len(lines), 30)]
    return pages


def _shared_pages(shared) -> list[str]:
    pages = [p.read_text(encoding="utf-8") for p in sorted((shared / "samples").glob("*.txt"))]
    for path in sorted((shared / "corpora" / "zh-clean").glob("*.txt")):
        lines = path.read_text(encoding="utf-8").split("\n")
        pages += ["\n".join(lines[i:i + 30]) for i in range(0, len(lines), 30)]
    return pages


def _joined_only(stage: Boilerplate) -> Boilerplate:
    """``stage`` with every rule and the headings searched as one joined pattern."""
    rs = stage.ruleset
    for rule in rs.rules:
        rule.at_start, rule.anywhere = None, rule.pattern
    rs.heading_at_start, rs.heading_anywhere = None, rs.headings
    return stage


def _variants(pages: list[str]) -> list[str]:
    """The pages, and each page again with its lines shuffled among chrome lines of other
    pages, so that lines meet the rules at the head, in the tail and next to other chrome."""
    rng = random.Random(5)
    lines = [ln for page in pages for ln in page.split("\n") if ln.strip()]
    chrome = [ln for ln in lines if len(ln.strip()) <= 40]
    mixed = []
    for page in pages:
        own = page.split("\n")
        mixed.append("\n".join(rng.sample(chrome, 3) + own[:8] + rng.sample(chrome, 2) + own[8:] + rng.sample(chrome, 3)))
    return pages + mixed


def _outcome(stage: Boilerplate, pages: list[str]) -> list:
    out = []
    for n, text in enumerate(pages):
        doc = Document(str(n), text=text)
        stage.apply(doc)
        out.append((doc.text, doc.report(), doc.metadata))
    return out


@pytest.mark.parametrize("stats", [0, 2])
def test_split_rules_judge_fixture_pages_as_the_joined_patterns(stats):
    pages = _variants(_fixture_pages())
    assert len(pages) > 200
    fast = _outcome(Boilerplate(line_stats_min_docs=stats), pages)
    exact = _outcome(_joined_only(Boilerplate(line_stats_min_docs=stats)), pages)
    assert fast == exact
    assert sum(len(report["stages"].get("boilerplate", {}).get("removed", [])) for _, report, _ in fast) > 500


def test_split_rules_judge_shared_pages_as_the_joined_patterns(shared):
    pages = _variants(_shared_pages(shared))
    assert _outcome(Boilerplate(), pages) == _outcome(_joined_only(Boilerplate()), pages)


def test_every_fixture_line_meets_each_rule_as_the_joined_pattern():
    rs = load_rules()
    lines = {ln.strip() for page in _fixture_pages() for ln in page.split("\n")}
    split = 0
    for rule in [*rs.rules, None]:
        joined, at_start, anywhere = (
            (rs.headings, rs.heading_at_start, rs.heading_anywhere)
            if rule is None
            else (rule.pattern, rule.at_start, rule.anywhere)
        )
        if joined is None:
            continue
        split += at_start is not None
        for line in lines:
            fast = (at_start is not None and at_start.match(line) is not None) or (
                anywhere is not None and anywhere.search(line) is not None
            )
            assert fast == (joined.search(line) is not None), (rule and rule.name, line)
    assert split >= 15  # most rules have patterns anchored at the line start


@pytest.mark.parametrize(
    "patterns, lines",
    [
        (["^a|b", "^c"], ["xb", "ab", "c", "xc"]),  # "^a|b" is not anchored as a whole
        (["(^a)", "^b"], ["a", "xa", "b"]),  # an anchor inside a group stays searched
        (["(x)", "^(a)\\1"], ["aa", "ax", "x"]),  # a group reference numbers across patterns
        ([r"\Aend", "mid"], ["endx", "xend", "amid"]),
    ],
)
def test_split_patterns_find_the_same_lines(patterns, lines):
    joined = re.compile("|".join(f"(?:{p})" for p in patterns))
    at_start, anywhere = split_patterns(patterns, joined)
    for line in lines:
        fast = (at_start is not None and at_start.match(line) is not None) or (
            anywhere is not None and anywhere.search(line) is not None
        )
        assert fast == (joined.search(line) is not None), (patterns, line)


def test_patterns_with_group_references_stay_joined():
    joined = re.compile("(?:(x))|(?:^(a)\\1)")
    assert split_patterns(["(x)", "^(a)\\1"], joined) == (None, joined)


def test_a_line_new_to_the_run_costs_one_attempt_per_anchored_rule(monkeypatch):
    # Work bound: a title line unknown to the remembered verdicts is tried at its start by
    # the anchored patterns, not at every one of its characters.
    stage = Boilerplate(line_stats_min_docs=0)
    rs = stage.ruleset
    calls = []

    class Counting:
        def __init__(self, name, rx):
            self.name, self.rx = name, rx

        def match(self, line):
            calls.append((self.name, "match"))
            return self.rx.match(line)

        def search(self, line):
            calls.append((self.name, "search"))
            return self.rx.search(line)

    for rule in rs.rules:
        if rule.at_start is not None:
            rule.at_start = Counting(rule.name, rule.at_start)
        if rule.anywhere is not None:
            rule.anywhere = Counting(rule.name, rule.anywhere)
    title = "全区召开优化营商环境工作推进会暨重点项目集中开工仪式"
    stage.classify([title])
    assert calls and all(kind == "match" or name in {"copyright", "copyright-notice", "source-time"} for name, kind in calls)
    assert sum(kind == "search" for _, kind in calls) <= 3


def test_keyword_regex_finds_the_lines_the_plain_alternation_finds(shared_or_none):
    words = load_rules().sentence_keywords
    plain = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
    anchored = keyword_regex(words)
    pages = _fixture_pages() + (_shared_pages(shared_or_none) if shared_or_none else [])
    lines = {ln for page in pages for ln in page.split("\n")}
    # every keyword, alone, inside a sentence, at either end, and cut short by one character
    for word in words:
        lines |= {word, f"本网{word}声", f"{word}。", f"，{word}", word[:-1], word[1:]}
    found = 0
    for line in lines:
        hit = plain.search(line) is not None
        assert (anchored.search(line) is not None) == hit, line
        found += hit
    assert found > 300


@pytest.mark.parametrize("words", [[], ["甲"], ["", "乙"], ["a.b", "(c)", "版 权", "版权"]])
def test_keyword_regex_edge_cases(words):
    rx = keyword_regex(words)
    if not words:
        assert rx is None
        return
    plain = re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))
    for line in ["", "甲", "乙丙", "axb", "a.b", "(c)", "c", "版 权", "版权所有", "版"]:
        assert (rx.search(line) is not None) == (plain.search(line) is not None), (words, line)


def test_add_and_count_equals_add_then_count():
    rng = random.Random(3)
    keys = [line_key(f"行{n}") for n in range(400)]
    one, two = LineStats(width=64, depth=3), LineStats(width=64, depth=3)  # small: keys collide
    for _ in range(300):
        page = rng.sample(keys, rng.randint(0, 12))
        page += page[: rng.randint(0, 2)]  # a line twice on a page counts once
        one.add_document(page)
        assert two.add_and_count(page) == [one.count(k) for k in page]
    assert one._cells == two._cells and one.documents == two.documents == 300
