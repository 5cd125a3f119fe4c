"""Family 5: bracketed pinyin readings glued after characters by script converters."""
from __future__ import annotations

import doctest
import random
import re
import unicodedata
from pathlib import Path

import pytest

from cleancorp.document import StageRecord
from cleancorp.fixes import pinyin
from cleancorp.fixes.pinyin import fix_glued_pinyin, is_reading_of, readings, syllable_key

ROOT = Path(__file__).resolve().parent.parent

_MARKS = {"1": "\u0304", "2": "\u0301", "3": "\u030c", "4": "\u0300"}


def with_tone_mark(key: str) -> str:
    """'qu1' → 'qū', 'lv4' → 'lǜ', 'le5' → 'le': the written form a converter prints."""
    base, tone = key[:-1], key[-1]
    base = base.replace("v", "ü")
    if tone == "5":
        return base
    vowels = [i for i, c in enumerate(base) if c in "aeiouü"]
    if not vowels:  # m2, ng2: the mark goes on the nasal
        pos = 0
    elif "a" in base:
        pos = base.index("a")
    elif "e" in base:
        pos = base.index("e")
    elif "ou" in base:
        pos = base.index("o")
    else:
        pos = vowels[-1]
    return unicodedata.normalize("NFC", base[: pos + 1] + _MARKS[tone] + base[pos + 1 :])


def glue_readings(text: str, rng: random.Random, rate: float, numbers: bool) -> str:
    """Append a reading of the character after some Han characters, as a converter does."""
    table = readings()
    out = []
    for ch in text:
        out.append(ch)
        known = table.get(ch)
        if known and rng.random() < rate:
            tonal = sorted(k for k in known if k[-1] != "5") or sorted(known)
            key = rng.choice(tonal)
            written = key if numbers else with_tone_mark(key)
            if key[-1] == "5" and numbers:
                written = key[:-1]
            out.append(f"({written})" if rng.random() < 0.8 else f"（{written}）")
    return "".join(out)


def test_doctests():
    result = doctest.testmod(pinyin)
    assert result.attempted >= 8 and result.failed == 0


def test_real_page_readings(shared):
    page = (shared / "samples" / "page-c.txt").read_text(encoding="utf-8")
    rec = StageRecord()
    fixed = "\n".join(fix_glued_pinyin(line, rec) for line in page.split("\n"))
    assert not re.search(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", fixed)
    assert "(記者 羅超)" in fixed
    assert "中國共產黨大渡口區第十二屆委員會" in fixed
    assert "在中央財經委員會第六次會議上" in fixed
    assert rec.info["fixes"]["glued_pinyin"] == page.count("(") - 1
    first = rec.changes[0]
    assert (first.fix, first.before, first.after) == ("glued_pinyin", "產(chǎn)", "產")
    assert first.detail == "chǎn is a reading of 產"


@pytest.mark.parametrize(
    "line",
    [
        "(记者 罗超) 4月23日,全会召开。",
        "会议在成都(成都)召开(2023)。",
        "国内生产总值(GDP)增长(点)。",
        "选项(a)与选项(b),以及(ma)和(A)。",
        "点(ma)不是点的读音,区(qu)没有声调,区(Qū1)两个声调。",
        "了(LE)大写的无声调音节不算。",
        "见第(1)条和第(2)款。",
        "Python(python3)与中文(zhongwen)。",
        "（记者　罗超）与（成都）",
        "区 (qū) 前有空格",
    ],
)
def test_brackets_that_are_not_readings_stay(line):
    assert fix_glued_pinyin(line) == line


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("區(qū)堅持", "區堅持"),
        ("區(qu1)堅持", "區堅持"),
        ("區(QŪ)堅持", "區堅持"),
        ("綠(lǜ)色 綠(lv4)色 綠(lu:4)色 綠(lü4)色", "綠色 綠色 綠色 綠色"),
        ("發（fā）展", "發展"),
        ("經(jīng)濟(jì)", "經濟"),
        ("了(le)", "了"),
        ("行(háng)业 行(xíng)动", "行业 行动"),
        ("嗯(ǹg)", "嗯"),
        ("區(qu\u0304)", "區"),  # tone mark as a combining character
    ],
)
def test_readings_are_removed(dirty, clean):
    assert fix_glued_pinyin(dirty) == clean


def test_syllable_key_rejects_non_syllables():
    assert [syllable_key(s) for s in ("bcd", "x", "a1b", "zhuangg", "1")] == [None] * 5
    assert is_reading_of("點", "diǎn") and not is_reading_of("點", "diàn")


def test_clean_sample_is_untouched(clean_lines):
    import opencc

    s2t = opencc.OpenCC("s2t")
    for line in clean_lines:
        assert fix_glued_pinyin(line) == line
        trad = s2t.convert(line)
        assert fix_glued_pinyin(trad) == trad


def test_shared_clean_text_is_untouched(shared):
    paths = sorted((shared / "corpora" / "zh-clean").glob("*.txt"))
    paths.append(shared / "samples" / "page-a.txt")
    for path in paths:
        for line in path.read_text(encoding="utf-8").split("\n"):
            assert fix_glued_pinyin(line) == line, (path.name, line[:80])


@pytest.mark.parametrize("numbers", [False, True])
def test_generated_readings_are_recovered_exactly(clean_lines, numbers):
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(5)
    sample = rng.sample(clean_lines, 400)
    exact = 0
    for i, line in enumerate(sample):
        original = s2t.convert(line) if i % 2 else line
        dirty = glue_readings(original, rng, rate=0.1, numbers=numbers)
        exact += fix_glued_pinyin(dirty) == original
    assert exact == len(sample)


def test_ten_megabytes_of_brackets_is_linear():
    # Bounded work: the regex anchors on a Han character before the bracket, so a long run of
    # brackets (or of brackets after Han characters) is one pass.
    assert fix_glued_pinyin("(" * 10_000_000) == "(" * 10_000_000
    text = "區(" * 2_000_000
    assert fix_glued_pinyin(text) == text
    text = "區(qū" * 1_000_000
    assert fix_glued_pinyin(text) == text


def test_ten_megabytes_of_brackets_through_the_stage(cli):
    # Bounded work for the whole repair stage; the timeout bounds work, not speed.
    for text in ("(" * 10_000_000, "區(" * 5_000_000):
        r = cli("--stages", "repair", stdin=text.encode(), timeout=180)
        assert r.returncode == 0, r.stderr[-300:]
        assert r.stdout.decode().rstrip("\n") == text


def test_stage_option_switches_the_fix_off(cli):
    line = "中共大渡口區(qū)委".encode()
    assert cli("--stages", "repair", stdin=line).stdout.decode().rstrip("\n") == "中共大渡口區委"
    off = cli("--stages", "repair", "--set", "repair.glued_pinyin=false", stdin=line)
    assert off.stdout.rstrip(b"\n") == line
