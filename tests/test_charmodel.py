"""The character model: covers simplified and traditional text, separates garble from text."""
from __future__ import annotations

import doctest
import math
import random

from cleancorp import charmodel
from cleancorp.charmodel import LINE_END, CharModel, load, parse
from cleancorp.opencc_fast import converter


def test_doctests():
    result = doctest.testmod(charmodel)
    assert result.attempted >= 8 and result.failed == 0


def test_loaded_once_per_process():
    assert load() is load()


def test_data_file_is_compact():
    assert charmodel.DATA_FILE.stat().st_size < 3_000_000


def test_unknown_characters_get_the_floor_and_ascii_is_neutral():
    m = load()
    assert m.logp("\U000f0000") == m.floor < m.logp("閲") < m.logp("的")
    assert m.score("hello, world 2024") == 0.0
    # a neutral character breaks the chain of pairs
    expected = (m.logp("重") + m.pair_logp("重", "庆") + m.logp("日") + m.pair_logp("日", "报")) / 4
    assert math.isclose(m.score("重庆 日报"), expected)


def test_pair_backs_off_to_the_character():
    m = load()
    # a pair never seen costs a fixed share of the character's own probability
    assert math.isclose(m.pair_logp("閲", "庆"), m.logp("庆") + math.log(1 - charmodel.PAIR_WEIGHT))
    assert m.pair_logp("重", "庆") > m.logp("庆")
    assert m.pair_logp("。", LINE_END) > m.pair_logp("的", LINE_END)


def test_parse_reads_counts():
    m = parse("# comment\nU\t中\t3\nU\t文\t1\nP\t中文\t1\n")
    assert isinstance(m, CharModel)
    assert m.chars == {"中": 3, "文": 1} and m.pairs == {"中文": 1}
    assert math.isclose(m.logp("中"), math.log(3 / 4))


def test_clean_text_outscores_garble_in_both_scripts(clean_lines):
    m = load()
    sample = clean_lines[::40]
    traditional = converter("s2t").convert("\n".join(sample)).split("\n")
    for script in (sample, traditional):
        for line in script:
            if sum(1 for c in line if "\u4e00" <= c <= "\u9fff") < 8:
                continue
            garble = line.encode("utf-8").decode("gb18030", "replace")
            assert m.score(line) > -8.0, line
            assert m.score(line) - m.score(garble) > 4.0, line


def test_common_characters_cover_everyday_text(clean_lines):
    m = load()
    text = "".join(clean_lines[:300])
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    common = sum(1 for c in han if m.is_common(c))
    assert common / len(han) > 0.97
    assert not m.is_common("閲") and not m.is_common("嶅")


def test_followers_and_leaders_are_the_seen_pairs():
    # Looked up per character in the pairs sorted by side: the same sets as indexing every pair.
    from cleancorp import charmodel

    model = charmodel.load()
    after: dict[str, set[str]] = {}
    before: dict[str, set[str]] = {}
    for pair, n in model.pairs.items():
        if n and len(pair) == 2:
            after.setdefault(pair[0], set()).add(pair[1])
            before.setdefault(pair[1], set()).add(pair[0])
    assert all(model.followers(a) == seen for a, seen in after.items())
    assert all(model.leaders(b) == seen for b, seen in before.items())
    assert model.followers("\x00") == frozenset() and model.leaders("閲") == frozenset()


def test_pair_logps_are_pair_logp_one_by_one():
    """The pairs looked up together give exactly the values looked up one by one, whether the
    model remembers them already or not (a model of its own starts remembering nothing)."""
    model = load()
    fresh = CharModel(model.chars, model.pairs)
    rng = random.Random(8)
    firsts = list("的一是在不了有和人这中大为上个国我以要他重庆閲嶅簡鏃ユ姤，。")
    for _ in range(300):
        some = [rng.choice(firsts) for _ in range(rng.randint(1, 70))]
        b = rng.choice(firsts + ["\u3000", LINE_END])
        expected = [model.pair_logp(a, b) for a in some]
        assert fresh.pair_logps(some, b) == expected
        assert model.pair_logps(some, b) == expected
