"""The repair stage's screens: cheap tests that let a line skip a search (family 2's decoding of
every start character, family 4's choice of lost bytes) only where the search would leave the
line as it is. Proof on data: the stage with and without the screens gives the same text and
the same record for clean, traditional and dirty documents of every evaluation family. Proof
that they pay: clean lines no longer reach the searches (counted calls, not seconds)."""
from __future__ import annotations

import random
import re

import pytest

from cleancorp.document import Document
from cleancorp.evaluation.families import generate
from cleancorp.fixes import cjk_mojibake, phase_shift
from cleancorp.opencc_fast import converter
from cleancorp.stages.decode import Decode
from cleancorp.stages.repair import Repair

from conftest import FIXTURES


def _unscreened(monkeypatch) -> None:
    """Switch the screens off: every run is searched in full."""
    monkeypatch.setattr(cjk_mojibake, "_utf8_misread_starts", lambda line: None)
    monkeypatch.setattr(cjk_mojibake, "_may_read_as_utf8", lambda run, codec: True)
    monkeypatch.setattr(phase_shift, "_score_ceiling", lambda *args: None)
    monkeypatch.setattr(phase_shift, "_LOSSLESS_RUN", re.compile("\\?"))


def _repaired(texts: list[str]) -> list[tuple[str, dict | None]]:
    # Memos of earlier decisions are cleared, so that each side decides everything itself.
    phase_shift._decisions.clear()
    cjk_mojibake._fits.clear()
    stage = Repair()
    out = []
    for text in texts:
        doc = Document("d", text=text)
        stage.apply(doc)
        rec = doc.log.get("repair")
        out.append((doc.text, rec.to_json() if rec is not None else None))
    return out


def _assert_same_with_and_without_screens(monkeypatch, texts: list[str]) -> None:
    screened = _repaired(texts)
    with monkeypatch.context() as m:
        _unscreened(m)
        full = _repaired(texts)
    for text, a, b in zip(texts, screened, full):
        assert a == b, text[:200]


@pytest.fixture(scope="module")
def clean_paragraphs(clean_lines) -> list[str]:
    rng = random.Random(11)
    return rng.sample(clean_lines, min(600, len(clean_lines)))


def _decoded(raws: list[bytes]) -> list[str]:
    stage = Decode()
    texts = []
    for raw in raws:
        doc = Document("d", raw=raw)
        stage.apply(doc)
        texts.append(doc.text or "")
    return texts


def test_screens_change_nothing_on_clean_and_traditional_text(monkeypatch, clean_paragraphs):
    traditional = converter("s2t").convert("\n".join(clean_paragraphs)).split("\n")
    pages = [p.read_text(encoding="utf-8") for p in sorted((FIXTURES / "clean").glob("*.txt"))]
    _assert_same_with_and_without_screens(monkeypatch, clean_paragraphs + traditional + pages)


@pytest.mark.parametrize("seed", [1, 20240])
def test_screens_change_nothing_on_every_evaluation_family(monkeypatch, seed):
    cases = generate(None, seed=seed) + generate(["phase-shift"], seed=seed, scale=2.0)
    assert {c.family for c in cases} >= {"utf8-as-gbk", "garbled-span", "phase-shift", "artefacts", "enc-big5"}
    _assert_same_with_and_without_screens(monkeypatch, _decoded([c.raw for c in cases]))


def test_screens_change_nothing_on_mixed_lines(monkeypatch, clean_paragraphs):
    """Garble of every kind dropped into clean and traditional paragraphs, next to ASCII, marks
    and the euro sign: whatever the search makes of them, the screened stage makes too."""
    rng = random.Random(5)
    traditional = converter("s2t").convert("\n".join(clean_paragraphs[:200])).split("\n")
    words = [p[i : i + rng.randint(2, 8)] for p in clean_paragraphs[:200] for i in (0, len(p) // 2)]
    garbles = []
    for word in words:
        data = word.encode("utf-8")
        garbles.append(data.decode("gbk", "replace"))
        garbles.append(data.decode("big5", "replace"))
        garbles.append(data.decode("gb18030", "ignore"))
        garbles.append("?" + word.encode("gbk", "replace")[1:].decode("gbk", "replace"))
    extras = ["", " ", "a", "GDP", "2024", "€", "?", "\ufffd", "·", "（a）", "\u3000"]
    lines = []
    for _ in range(300):
        base = rng.choice(clean_paragraphs[200:] + traditional)
        cut = rng.randint(0, len(base))
        lines.append(base[:cut] + rng.choice(extras) + rng.choice(garbles) + rng.choice(extras) + base[cut:])
    _assert_same_with_and_without_screens(monkeypatch, lines)


def test_screens_change_nothing_on_shared_material(monkeypatch, shared):
    texts = _decoded([p.read_bytes() for p in sorted((shared / "samples").glob("*.txt"))])
    corpora = sorted((shared / "corpora").rglob("*.txt"))
    rng = random.Random(3)
    for path in corpora:
        lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln]
        picked = rng.sample(lines, min(150, len(lines)))
        texts += picked + converter("s2t").convert("\n".join(picked)).split("\n")
    assert texts
    _assert_same_with_and_without_screens(monkeypatch, texts)


def _count_calls(monkeypatch, module, name: str) -> list[int]:
    calls = [0]
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_clean_lines_skip_the_utf8_search(monkeypatch, clean_paragraphs):
    """Clean simplified and traditional lines that look like family-2 garble to the precheck
    (rare characters such as `瑕疵`; traditional characters all the time) are screened out:
    the decoding search runs on almost none of them, where it ran on every one before."""
    traditional = converter("s2t").convert("\n".join(clean_paragraphs)).split("\n")
    lines = [ln for ln in clean_paragraphs + traditional + ["产品瑕疵或者根据", "被羁押的殳某"] if cjk_mojibake.PRECHECK.search(ln)]
    assert len(lines) >= 50
    with monkeypatch.context() as m:
        _unscreened(m)
        unscreened = _count_calls(m, cjk_mojibake, "_best_in_run")
        for line in lines:
            cjk_mojibake.fix_cjk_mojibake(line)
    searched = _count_calls(monkeypatch, cjk_mojibake, "_best_in_run")
    for line in lines:
        assert cjk_mojibake.fix_cjk_mojibake(line) == line
    assert unscreened[0] >= len(lines) and searched[0] <= unscreened[0] // 10
    # The garble itself is still found and searched.
    assert cjk_mojibake.fix_cjk_mojibake("产品瑕疵 閲嶅簡鏃ユ姤 報導") == "产品瑕疵 重庆日报 報導"
    assert searched[0] >= 1


def test_question_mark_before_clean_text_skips_the_lost_byte_search(monkeypatch, clean_paragraphs):
    """`?` (a lost indent) before clean text and a Latin letter reads as a phase-shifted run;
    the score ceiling rejects it without choosing the lost byte."""
    lines = [f"?{p[:60]}GDP增长" for p in clean_paragraphs[:100] if p[:1] >= "\u3400"]
    rebuilt = _count_calls(monkeypatch, phase_shift, "rebuild")
    for line in lines:
        assert phase_shift.fix_phase_shift(line) == line
    assert rebuilt[0] <= len(lines) // 10
    assert phase_shift.fix_phase_shift("会议指出?挛欧⒉蓟嵘\ufffd,宣布了决定。") == "会议指出新闻发布会上,宣布了决定。"


def test_indent_before_text_without_latin_letters_is_not_searched(monkeypatch, clean_paragraphs):
    """A `????` indent before a paragraph no ASCII-range byte ends: no run can end there, and
    the phase-shift fix returns before looking for one."""
    lines = ["????" + p for p in clean_paragraphs if not re.search("[\x40-\x7e]", p)][:100]
    assert len(lines) >= 50
    searched = _count_calls(monkeypatch, phase_shift, "_best_repair")
    for line in lines:
        assert phase_shift.fix_phase_shift(line) == line
    assert searched[0] == 0


def test_screen_passes_lines_with_lost_bytes_and_finds_garble_starts():
    assert cjk_mojibake._utf8_misread_starts("瑕疵\ufffd") is None
    assert cjk_mojibake._utf8_misread_starts("瑕疵?") is None
    assert cjk_mojibake._utf8_misread_starts("价格 100€ 瑕疵") is None
    starts = cjk_mojibake._utf8_misread_starts("產品瑕疵 記者閲嶅簡鏃ユ姤")
    assert 7 in starts["gb18030"] and starts["big5"] == []
    assert cjk_mojibake._utf8_misread_starts("中華人民共和國憲法") == {"gb18030": [], "big5": []}


def test_score_ceiling_bounds_every_reading():
    """The ceiling is never below the score of the reading the search chooses."""
    model = cjk_mojibake._model()
    rng = random.Random(2)
    text = "会议指出新闻发布会上宣布了决定加强建设工作大局"
    for _ in range(40):
        i = rng.randrange(len(text) - 4)
        piece = text[i : i + rng.randint(2, 8)]
        for codec in phase_shift.CODECS:
            try:
                data = piece.encode(codec)
            except UnicodeEncodeError:
                piece = converter("s2t").convert(piece)
                data = piece.encode(codec, "replace")
            body = data[1:-1].decode(codec, "replace")
            if "\ufffd" in body:
                continue
            run = phase_shift.Run(0, len(body) + 2, body, "Q", False)
            ceiling = phase_shift._score_ceiling(run, codec, "指", "", model)
            text_read = phase_shift.repair_run(run, codec, "指", "", model)
            if text_read is None:
                assert ceiling[0] == float("-inf")
            else:
                assert model.score("指" + text_read) <= ceiling[0] + 1e-9


def test_the_white_space_the_screens_skip_is_all_that_isspace_knows():
    from cleancorp.fixes import cjk_mojibake

    every = "".join(chr(c) for c in range(0x80, 0x110000) if chr(c).isspace() and c != 0x3000)
    assert cjk_mojibake._SPACE_CHARS == every


def test_phase_shift_page_test_is_false_only_where_no_line_changes(clean_paragraphs):
    """``may_act_on`` screens a whole page: where it says False, the fix changes no line."""
    rng = random.Random(3)
    pages = []
    for _ in range(150):
        lines = rng.sample(clean_paragraphs, 6)
        lines = ["????" + ln if rng.random() < 0.7 else ln for ln in lines]
        if rng.random() < 0.3:
            k = rng.randrange(len(lines))
            data = lines[k].encode("gbk", "replace")
            lines[k] = "?" + data[1:].decode("gbk", "replace")  # a lost lead byte
        pages.append("\n".join(lines))
    screened_out = 0
    for page in pages:
        if not phase_shift.may_act_on(page):
            screened_out += 1
            assert all(phase_shift.fix_phase_shift(ln) == ln for ln in page.split("\n"))
    assert screened_out >= 30


def test_indented_page_skips_phase_shift(monkeypatch, clean_paragraphs):
    """A page of `????` indents before text no trail byte ends never reaches the fix."""
    lines = ["????" + p for p in clean_paragraphs if not re.search("[\x40-\x7e]", p)][:40]
    called = _count_calls(monkeypatch, phase_shift, "fix_phase_shift")
    stage = Repair()
    monkeypatch.setattr(stage, "fixes", [f._replace(apply=getattr(phase_shift, "fix_phase_shift")) if f.name == "phase_shift" else f for f in stage.fixes])
    doc = Document("d", text="\n".join(lines))
    stage.apply(doc)
    assert doc.text == "\n".join(ln[4:] for ln in lines)
    assert called[0] == 0
    # The same page with one phase-shifted run is searched, and repaired.
    doc = Document("d", text="\n".join(lines + ["会议指出?挛欧⒉蓟嵘\ufffd,宣布了决定。"]))
    stage.apply(doc)
    assert doc.text.endswith("会议指出新闻发布会上,宣布了决定。") and called[0] >= 1
