"""Family 6: stray `?`, U+FFFD and private-use characters; real questions stay."""
from __future__ import annotations

import doctest
import random
import re
import unicodedata

import pytest

from cleancorp.document import StageRecord
from cleancorp.fixes import artefacts
from cleancorp.fixes.artefacts import fix_artefacts, is_question

HAN = re.compile("[\u4e00-\u9fff]")


def test_doctests():
    result = doctest.testmod(artefacts)
    assert result.attempted >= 10 and result.failed == 0


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ("????全会由区委常委会主持。", "全会由区委常委会主持。"),
        ("? ? ? ?全会由区委常委会主持。", "全会由区委常委会主持。"),
        ("？？全会由区委常委会主持。", "全会由区委常委会主持。"),
        ("\u3000??全会由区委常委会主持。", "全会由区委常委会主持。"),
        ("????(記者 羅超) 4月23日", "(記者 羅超) 4月23日"),
        ("????2023年是关键一年。", "2023年是关键一年。"),
        ("?全会召开。", "全会召开。"),
        ("会议结束。????全会要求,", "会议结束。全会要求,"),
        ("记者 艾? ? 杰 报道", "记者 艾杰 报道"),
        ("(记者 艾 ? 杰)", "(记者 艾杰)"),
        ("记者 艾??杰 报道", "记者 艾??杰 报道"),  # no spaces, no full-width punctuation: unknown
        ("国务院总理朱?基说，要改革。", "国务院总理朱基说，要改革。"),
        ("国务院总理朱??基说，要改革。", "国务院总理朱基说，要改革。"),
        ("重庆\ufffd日报", "重庆日报"),
        ("重庆\ufffd\ufffd日报\ufffd", "重庆日报"),
        ("重庆\ue123日报\U000f0001", "重庆日报"),
        ("\ufffd\ufffd??全会召开。", "全会召开。"),
    ],
)
def test_artefacts_are_removed(dirty, clean):
    assert fix_artefacts(dirty) == clean


@pytest.mark.parametrize(
    "line",
    [
        "警方处置突发治安事件,何以如此神速高效?这得益于江北区公安分局。",
        "“请问营业执照和食品经营许可证需要多久才能办好?”今年5月5日,吕先生来到。",
        "你来吗?我来。你呢?他也来吧?",
        "你去不去?我去，他没去。",
        "为什么，他也来了?我不知道，真的。",
        "翁——乞丐?不见得罢。",
        "“金龙?我是的。金鼎?我有。”",
        "真的？是的。",
        "真的？？是的。",
        "真的??",
        "什么???我不信",
        "http://example.com/index.php?id=3&page=2",
        "GDP?CPI?",
        "???",
        "?php echo 1; ?>",
    ],
)
def test_real_questions_and_other_marks_stay(line):
    assert fix_artefacts(line) == line


def test_changes_are_recorded():
    rec = StageRecord()
    fix_artefacts("????总理朱?基说，重庆\ufffd日报", rec)
    got = [(c.fix, c.before, c.after, c.detail) for c in rec.changes]
    assert got == [
        ("artefacts", "\ufffd", "", "lost character (U+FFFD)"),
        ("artefacts", "????", "", "paragraph indent"),
        ("artefacts", "朱?基", "朱基", "lost character"),
    ]
    assert rec.info["fixes"] == {"artefacts": 3}


def test_question_words_cover_traditional():
    assert is_question("你去嗎?", 3) and is_question("為什麼呢?", 4) and is_question("是否可行?", 4)


def _variants(clean_lines):
    import opencc

    s2t = opencc.OpenCC("s2t")
    for line in clean_lines:
        trad = s2t.convert(line)
        yield line
        yield trad
        yield unicodedata.normalize("NFKC", line)
        yield unicodedata.normalize("NFKC", trad)


def test_clean_sample_is_untouched(clean_lines):
    """Clean text, its traditional form, and both NFKC-folded (where `？` became `?`)."""
    for line in _variants(clean_lines):
        assert fix_artefacts(line) == line, line[:80]


def test_shared_clean_text_is_untouched(shared):
    paths = sorted((shared / "corpora" / "zh-clean").glob("*.txt"))
    paths += [shared / "samples" / "page-a.txt", shared / "samples" / "page-b.txt"]
    for path in paths:
        for line in path.read_text(encoding="utf-8").split("\n"):
            assert fix_artefacts(line) == line, (path.name, line[:80])
            folded = unicodedata.normalize("NFKC", line)
            assert fix_artefacts(folded) == folded, (path.name, line[:80])


def test_real_page_indents(shared):
    page = (shared / "samples" / "page-c.txt").read_text(encoding="utf-8")
    fixed = [fix_artefacts(line) for line in page.split("\n")]
    assert not any("?" in line for line in fixed)
    assert fixed[0].startswith("(記者 羅超) 4月23日,")
    assert sum(line.startswith("????") for line in page.split("\n")) == sum(
        a != b for a, b in zip(page.split("\n"), fixed)
    )


def damage(line: str, rng: random.Random) -> tuple[str, str]:
    """One artefact in a clean line: the dirty line and the line the fix should give back."""
    kind = rng.randrange(5)
    if kind == 0:
        return rng.choice(["????", "? ? ? ?", "？？", "??"]) + line, line
    if kind == 1:
        return line[: len(line) // 2] + "\ue000" + line[len(line) // 2 :], line
    spots = [i for i in range(1, len(line) - 1) if HAN.match(line[i - 1]) and HAN.match(line[i + 1]) and HAN.match(line[i])]
    if not spots:
        return "????" + line, line
    i = rng.choice(spots)
    expected = line[:i] + line[i + 1 :]
    if kind == 2:
        return line[:i] + "\ufffd" + line[i + 1 :], expected
    if kind == 3:
        return line[:i] + "? ?" + line[i + 1 :], expected
    return line[:i] + "?" + line[i + 1 :], expected


def test_generated_artefacts_are_recovered(clean_lines):
    """Lossless recovery: every damaged line comes back as the clean line (lost characters
    removed), on lines that write their punctuation full-width."""
    rng = random.Random(6)
    lines = [ln for ln in clean_lines if "，" in ln and len(ln) > 10]
    sample = rng.sample(lines, 1000)
    exact = 0
    failures = []
    for line in sample:
        dirty, expected = damage(line, rng)
        got = fix_artefacts(dirty)
        exact += got == expected
        if got != expected:
            failures.append((dirty, got))
    assert exact / len(sample) >= 0.95, failures[:5]


@pytest.mark.parametrize("unit", ["\ufffd", "中 ? ", "吗?"])
def test_ten_megabytes_is_linear(unit):
    # Bounded work: every regex here is one pass; question-word lookback is capped per mark.
    text = unit * (2_000_000 // len(unit))
    out = fix_artefacts(text)
    assert len(out) <= len(text)


def test_ten_megabytes_of_question_marks_through_the_stage(cli):
    # Bounded work for the whole repair stage (every fix) on one 10 MB line and on 10 MB of
    # short lines; the timeout bounds work, it is not a speed target.
    for text in ("?" * 10_000_000, "????\n" * 2_000_000):
        r = cli("--stages", "repair", stdin=text.encode(), timeout=180)
        assert r.returncode == 0, r.stderr[-300:]
        assert len(r.stdout) <= len(text) + 1


def test_stage_repairs_real_page(shared, cli):
    r = cli("--stages", "repair", str(shared / "samples" / "page-c.txt"))
    assert r.returncode == 0
    text = r.stdout.decode()
    assert "????" not in text and "(qū)" not in text and "區委常委會主持" in text
