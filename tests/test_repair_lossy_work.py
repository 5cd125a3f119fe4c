"""Lossy UTF-8-as-GBK mojibake in bulk: the work per lost byte and per character stays small
and bounded, and the repair stays accurate while doing it.

Pages a browser misread as GBK lose a byte pair to one U+FFFD wherever a pair was invalid (about
one mark in fifteen garbled characters). Each mark is rebuilt by comparing the characters that
fit the bytes around it; only those the character model has seen next to a neighbour, and the
most frequent of the rest, need a score. Work is counted as the model is asked, never timed.
"""
from __future__ import annotations

import difflib

import pytest

from cleancorp.evaluation import garbles
from cleancorp.fixes import cjk_mojibake
from cleancorp.fixes.cjk_mojibake import fix_cjk_mojibake


class CountingModel:
    """The character model, counting what it is asked: pair and character scores looked up one
    at a time, and characters scored as text."""

    def __init__(self, model) -> None:
        self.model = model
        self.chars = model.chars
        self.lookups = 0
        self.scored = 0

    def score(self, text: str) -> float:
        self.scored += len(text)
        return self.model.score(text)

    def pair_logp(self, a: str, b: str) -> float:
        self.lookups += 1
        return self.model.pair_logp(a, b)

    def logp(self, ch: str) -> float:
        self.lookups += 1
        return self.model.logp(ch)

    def followers(self, a: str) -> frozenset[str]:
        return self.model.followers(a)

    def leaders(self, b: str) -> frozenset[str]:
        return self.model.leaders(b)

    def is_common(self, ch: str) -> bool:
        return self.model.is_common(ch)


def _browser_lossy(lines: list[str]) -> list[str]:
    """UTF-8 paragraphs read as GBK or GB18030 the way a browser does (the evaluation's
    ``utf8-as-gbk`` family): one U+FFFD per invalid pair."""
    return [garbles.misread(line, "utf-8", "gbk" if k % 2 else "gb18030") for k, line in enumerate(lines)]


def _char_errors(expected: str, got: str) -> int:
    sm = difflib.SequenceMatcher(None, expected, got, autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in sm.get_opcodes() if op != "equal")


@pytest.fixture(scope="module")
def paragraphs(clean_lines) -> list[str]:
    """About 150,000 characters of the clean sample (about 400 KB of garble), Han-rich lines."""
    lines = [ln for ln in clean_lines if len(ln) >= 20]
    out: list[str] = []
    size = 0
    for line in lines:
        out.append(line)
        size += len(line)
        if size >= 150_000:
            break
    assert size >= 100_000, "the clean sample is too small for this test"
    return out


def _run(monkeypatch, dirty: list[str]) -> tuple[list[str], CountingModel]:
    counting = CountingModel(cjk_mojibake._model())
    monkeypatch.setattr(cjk_mojibake, "_model", lambda: counting)
    cjk_mojibake._fits.clear()  # remembered fits would hide the lookups of an earlier test
    return [fix_cjk_mojibake(line) for line in dirty], counting


def test_lookups_per_lost_byte_and_scored_characters_are_bounded(monkeypatch, paragraphs):
    dirty = _browser_lossy(paragraphs)
    marks = sum(line.count("\ufffd") for line in dirty)
    garbled = sum(len(line) for line in dirty)
    assert marks > 5_000
    got, counting = _run(monkeypatch, dirty)
    # Comparing every candidate (up to MAX_CANDIDATES = 96 of them) between two neighbours costs
    # about 35 lookups per mark on such text; the candidates the model knows next to a
    # neighbour, plus the most frequent other one, about 15 (ordering new candidate lists
    # included).
    assert counting.lookups <= 20 * marks, (counting.lookups, marks)
    # Each garbled character is scored as it stands and once more as its repair (two garbled
    # characters make about one and a third repaired ones): about 1.6 per garbled character.
    assert counting.scored <= 2 * garbled, (counting.scored, garbled)
    errors = sum(_char_errors(p, g) for p, g in zip(paragraphs, got))
    assert errors / sum(map(len, paragraphs)) < 0.02


def test_work_doubles_at_most_with_the_input(monkeypatch, paragraphs):
    half = paragraphs[: len(paragraphs) // 2]
    work = {}
    for name, part in (("half", half), ("whole", paragraphs)):
        _, counting = _run(monkeypatch, _browser_lossy(part))
        work[name] = counting.lookups + counting.scored
    assert work["whole"] <= 2.2 * work["half"] + 1000


def test_fits_agree_with_comparing_every_candidate(paragraphs):
    """Scoring only the candidates seen next to a neighbour (and the most frequent other one)
    picks what scoring all of them picks."""
    model = cjk_mojibake._model()

    def every_candidate(prev: str, options: tuple[str, ...], nxt: str) -> str:
        left = bool(prev) and prev >= "\u2000"
        right = nxt == cjk_mojibake.LINE_END or nxt >= "\u2000" and not nxt.isspace()
        best, best_score = "", float("-inf")
        for ch in options[: cjk_mojibake.MAX_CANDIDATES]:
            score = model.pair_logp(prev, ch) if left else model.logp(ch)
            if right:
                score += model.pair_logp(ch, nxt)
            if score > best_score:
                best, best_score = ch, score
        return best

    first, second = cjk_mojibake.PAIR_FIRST, cjk_mojibake.PAIR_SECOND
    patterns = [(0xE4, 0xB8, None), (0xE5, None, 0xBD), (0xE9, 0x97, first), (second, 0xB8, 0xAD), (0xE7, first, second)]
    option_sets = [cjk_mojibake._completions(p) for p in patterns] + [cjk_mojibake._frequent_chars()]
    option_sets.append(cjk_mojibake._ending_here(cjk_mojibake._completions((0xE4, 0xB8, None), 0xE5), (0xE4, 0xB8, None)))
    text = "".join(paragraphs[:40])
    contexts = [(text[k], text[k + 2]) for k in range(0, len(text) - 2, 7)] + [("", ""), ("a", cjk_mojibake.LINE_END), ("\u3000", "。")]
    checked = 0
    for options in option_sets:
        assert options
        for prev, nxt in contexts:
            cjk_mojibake._fits.clear()
            assert cjk_mojibake._best_fit(model, prev, options, nxt) == every_candidate(prev, options, nxt), (prev, options[:5], nxt)
            checked += 1
    assert checked > 1000
