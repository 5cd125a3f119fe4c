"""Family 4: double-byte text decoded one byte out of phase after a lost lead byte."""
from __future__ import annotations

import doctest
import random
import unicodedata

import pytest

pytest.importorskip("cleancorp.charmodel")

from cleancorp.document import StageRecord  # noqa: E402
from cleancorp.fixes import phase_shift  # noqa: E402
from cleancorp.fixes.artefacts import fix_artefacts  # noqa: E402
from cleancorp.fixes.phase_shift import find_runs, fix_phase_shift  # noqa: E402


def garble(line: str, codec: str, rng: random.Random, nfkc: bool) -> str | None:
    """Lose the lead byte of one double-byte character (it shows as `?`), decode as a browser
    would (invalid bytes → U+FFFD), optionally fold the page with NFKC afterwards."""
    data = line.encode(codec)
    leads, i = [], 0
    while i < len(data):
        if data[i] >= 0x81:
            leads.append(i)
            i += 2
        else:
            i += 1
    if not leads:
        return None
    p = rng.choice(leads)
    out = (data[:p] + b"?" + data[p + 1 :]).decode(codec, "replace")
    return unicodedata.normalize("NFKC", out) if nfkc else out


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def test_doctests():
    result = doctest.testmod(phase_shift)
    assert result.attempted >= 8 and result.failed == 0


def test_issue_example_is_repaired():
    b = "新闻发布会上,".encode("gbk")
    garbled = (b"?" + b[1:]).decode("gbk", "replace")
    assert garbled == "?挛欧⒉蓟嵘\ufffd,"
    rec = StageRecord()
    fixed = fix_phase_shift("在" + garbled + "他说。", rec)
    assert fixed.startswith("在新闻发布会")
    assert edit_distance(fixed, "在新闻发布会上,他说。") <= 1
    change = rec.changes[0]
    assert change.fix == "phase_shift" and change.before == garbled[:7]
    assert change.detail.startswith("gbk: score ")


def test_runs_are_read_both_ways():
    # A garbled `！` folded to `!` by NFKC: the run goes on through it up to the U+FFFD.
    runs = list(find_runs("?挛欧!蓟\ufffd记者", 0))
    assert [(r.body, r.folded) for r in runs] == [("挛欧！蓟", True)]
    # A Big5 trail byte in the ASCII range ends the run as a known byte.
    runs = list(find_runs("?s聞發", 0))
    assert [(r.body, r.tail) for r in runs] == [("", "s")]
    assert list(find_runs("?中?中", 0)) == []


@pytest.mark.parametrize(
    "line",
    [
        "何以如此神速高效?这得益于江北区公安分局。",
        "“请问需要多久才能办好?”今年5月5日,吕先生来到。",
        "你好?我是A股的投资者。",
        "网址是 index.php?id=3 ,请访问。",
        "为什么?s开头的单词",
        "?",
        "\ufffd",
    ],
)
def test_questions_and_ordinary_text_stay(line):
    assert fix_phase_shift(line) == line


def _texts(clean_lines):
    import opencc

    s2t = opencc.OpenCC("s2t")
    for line in clean_lines:
        trad = s2t.convert(line)
        for variant in (line, trad):
            yield variant
            yield unicodedata.normalize("NFKC", variant)


def test_clean_sample_is_untouched(clean_lines):
    for line in _texts(clean_lines):
        assert fix_phase_shift(line) == line, line[:80]


def test_shared_clean_text_is_untouched(shared):
    paths = sorted((shared / "corpora" / "zh-clean").glob("*.txt"))
    paths += [shared / "samples" / "page-a.txt", shared / "samples" / "page-b.txt"]
    for path in paths:
        for line in path.read_text(encoding="utf-8").split("\n"):
            for variant in (line, unicodedata.normalize("NFKC", line)):
                assert fix_phase_shift(variant) == variant, (path.name, line[:80])


@pytest.mark.parametrize(
    "codec, script, nfkc",
    [
        ("gbk", "simplified", False),
        ("gbk", "simplified", True),
        ("gbk", "traditional", False),
        ("big5", "traditional", False),
        ("big5", "traditional", True),
    ],
)
def test_generated_phase_shifts_character_error_rate(clean_lines, codec, script, nfkc):
    """Lossy form: one lead byte lost per paragraph; after phase repair and artefact removal
    the character error rate against the original is below 2%."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    rng = random.Random(4)
    sample = rng.sample([ln for ln in clean_lines if 20 <= len(ln) <= 300], 300)
    errors = total = unchanged = 0
    for line in sample:
        original = s2t.convert(line) if script == "traditional" else line
        try:
            original.encode(codec)
        except UnicodeEncodeError:
            continue
        dirty = garble(original, codec, rng, nfkc)
        if dirty is None:
            continue
        expected = unicodedata.normalize("NFKC", original) if nfkc else original
        fixed = fix_artefacts(fix_phase_shift(dirty))
        errors += edit_distance(fixed, expected)
        total += len(expected)
        unchanged += edit_distance(dirty, expected)
    assert errors / total < 0.02
    assert errors < unchanged / 3  # the repair removes most of the damage


@pytest.mark.parametrize("unit", ["?锟\ufffd", "?\u9fa5\u9fa4", "?!\u9fa5"])
def test_ten_megabytes_is_linear(unit):
    # Bounded work: one pass over the line; candidate searches are memoised, so repeated
    # garbles cost one search each.
    text = unit * (2_000_000 // len(unit))
    assert len(fix_phase_shift(text)) <= len(text)


def test_ten_megabytes_of_rare_characters_through_the_stage():
    from conftest import run_cli

    # Bounded work for the whole repair stage; the timeout bounds work, not speed.
    rare = "".join(chr(c) for c in range(0x9FA0, 0x9FA6))
    text = rare * (10_000_000 // len(rare))
    r = run_cli("--stages", "repair", stdin=text.encode(), timeout=180)
    assert r.returncode == 0, r.stderr[-300:]
    assert r.stdout.decode().rstrip("\n") == text


def test_ten_megabytes_of_garbled_lines_is_linear():
    rare = "".join(chr(c) for c in range(0x9FA0, 0x9FA6))
    lines = ("?" + rare + "\ufffd\n") * 1_200_000
    assert sum(len(fix_phase_shift(line)) for line in lines.split("\n")) <= len(lines)


def test_explain_shows_family_span_and_scores():
    from conftest import run_cli

    r = run_cli("--explain", "--stages", "repair", stdin="会议指出?挛欧⒉蓟嵘\ufffd,宣布了决定。\n".encode())
    assert r.stdout.decode().rstrip("\n") == "会议指出新闻发布会上,宣布了决定。"
    assert "repair/phase_shift: '?挛欧⒉蓟嵘\ufffd' → '新闻发布会上'  (gbk: score " in r.stderr.decode()


@pytest.mark.parametrize(
    "dirty, clean",
    [
        # `化` lost both bytes (its lead to `?`, its trail in a rejected pair): chosen by its
        # neighbours among the characters that pair allows.
        ("全面深?\ufffd敕⒄怪泄\ufffd业幕ダ\ufffd献鳌\ufffd", "全面深化与发展中国家的互利合作。"),
        # Two lost bytes next to each other (`过` and `了`): read together, `过了` wins over
        # `国人`, which reads better one character at a time.
        ("他算过?耍\ufffd刮扌牒醵嗉庸愀娣选\ufffd", "他算过了，还无须乎多加广告费。"),
        # Two U+FFFDs in a row: `，` lost both bytes.
        ("新的一年?\ufffd\ufffd艚粑\ufffd频澈凸\ufffd夜ぷ鞔缶郑\ufffd忧拷ㄉ琛\ufffd", "新的一年，要紧紧围绕党和国家工作大局，加强建设。"),
    ],
)
def test_lost_bytes_are_chosen_over_the_whole_run(dirty, clean):
    assert fix_phase_shift(dirty) == clean


def test_ascii_after_a_rejected_pair_may_be_a_trail_byte():
    # Big5 `唉唉，` (B3 E2 B3 E2 A1 41) without its first byte: two rejected pairs, then the
    # trail byte of `，` (0x41, `A`). Both readings of the run are offered.
    runs = list(find_runs("“?\ufffd\ufffdA母親", 1))
    assert [(r.end, r.tail) for r in runs] == [(4, "\ufffd"), (5, "A")]


def test_work_is_bounded_per_line(monkeypatch):
    """The search over lost bytes compares a bounded number of candidate pairs per character:
    doubling a garbled line at most doubles the work, and a line out of budget is left alone."""
    from cleancorp.evaluation.garbles import lose_lead_byte

    sample = [ln for ln in (p for p in _fixture_paragraphs()) if len(ln) >= 40][:400]
    garbled = [lose_lead_byte(ln, len(ln) // 3, "gbk") for ln in sample if ln.isprintable()]
    real = phase_shift._model()

    class Counting:
        def __init__(self):
            self.work = 0
            self.floor = real.floor

        def pair_logp(self, a, b):
            self.work += 1
            return real.pair_logp(a, b)

        def logp(self, ch):
            self.work += 1
            return real.logp(ch)

        def score(self, text):
            self.work += len(text)
            return real.score(text)

    work = {}
    for n in (100, 200):
        counting = Counting()
        monkeypatch.setattr(phase_shift, "_model", lambda: counting)
        phase_shift._decisions.clear()
        line = "".join(garbled[:n])
        fix_phase_shift(line)
        work[n] = (counting.work, len(line))
    assert work[200][0] <= 2.2 * work[100][0] + 1000
    assert work[200][0] <= (phase_shift.STEPS_PER_CHAR + 20) * work[200][1]
    # Out of budget: the run is left as it is.
    data = [None, 0xAF, 0xD3, None, None, 0xB7, 0xA2, None]
    assert phase_shift.rebuild(data, frozenset({2}), (), "gbk", "", "", real, phase_shift.Budget(0)) is None


def _fixture_paragraphs():
    from conftest import FIXTURES

    for path in sorted((FIXTURES / "clean").glob("*.txt")):
        yield from (ln for ln in path.read_text(encoding="utf-8").split("\n") if ln)


def test_lost_character_before_an_ascii_range_trail_byte():
    # Big5 `羿看了他` without the first byte: `羿` lost both bytes (a rejected pair), then
    # `看` reads as `搕` + `F`, its trail byte in the ASCII range.
    fixed = fix_phase_shift("?\ufffd搕F他一眼，不開口。王升就退出去了。")
    assert fixed.endswith("看了他一眼，不開口。王升就退出去了。")
    assert len(fixed) == len("羿看了他一眼，不開口。王升就退出去了。")


def test_lossless_run_screen_matches_where_the_backtracking_form_does():
    import re

    backtracking = re.compile(f"\\?(?=[^\\x00-\\x7f\ufffd]{{0,{phase_shift.MAX_RUN - 1}}}[\\x40-\\x7e])")
    rng = random.Random(12)
    alphabet = ["?", "中", "文", "a", "Z", "\ufffd", " ", "1", "@", "~", "\x7f", "。", "\U00020000"]
    for _ in range(20000):
        line = "".join(rng.choice(alphabet) if rng.random() < 0.3 else "中" for _ in range(rng.choice((3, 10, 40, 250))))
        assert [m.span() for m in phase_shift._LOSSLESS_RUN.finditer(line)] == [m.span() for m in backtracking.finditer(line)], line
