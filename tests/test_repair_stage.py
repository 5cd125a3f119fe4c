"""How the repair stage finds the lines it has to look at: the fast prechecks match exactly
where the plain ones do, only lines with a hit reach a fix, and the stage's bookkeeping
(characters changed, recorded changes) is exact."""
from __future__ import annotations

import doctest
import random
import re

import pytest

from cleancorp import fixes
from cleancorp.document import Document
from cleancorp.fixes import cjk_mojibake, fast_precheck, precheck_pattern, western
from cleancorp.fixes.western import fix_western
from cleancorp.stages import repair
from cleancorp.stages.repair import FIXES, Repair, chars_changed


def test_doctests():
    result = doctest.testmod(fixes)
    assert result.attempted >= 3 and result.failed == 0


def _probe_lines(clean_lines: list[str]) -> list[str]:
    """Clean paragraphs, the same garbled in the usual ways, and hand-made edge cases."""
    rng = random.Random(11)
    clean = rng.sample([ln for ln in clean_lines if 5 <= len(ln) <= 120], 300)
    out = list(clean)
    for ln in clean[:100]:
        out.append(ln.encode("utf-8").decode("gbk", "replace"))
        out.append(ln.encode("utf-8").decode("big5", "replace"))
        out.append(ln.encode("gbk", "replace").decode("latin-1"))
        out.append(ln.encode("utf-8").decode("cp1252", "replace"))
        b5 = ln.encode("big5", "replace")
        out.append("?" + b5[1:].decode("big5", "replace"))
    out += [
        "", "?", "？", "\ufffd", "&", "&amp;", "&#x4e2d;", "(", "（zhong1）", "區(qū)",
        "????全会", "中?文", "a?é", "\ue000", "\U000f0000", "Copyright © 2024", "首页 · 要闻",
        "\x00\x07\x7f", "中\u200b文", "\u00a9\u00b7", "€‚ƒ", "?\ufffd?", "閲?嶅", "(\ufffd",
    ]
    return out


@pytest.mark.parametrize("fix", FIXES, ids=[f.name for f in FIXES])
def test_fast_precheck_matches_like_the_plain_alternation(fix, clean_lines):
    plain = re.compile(precheck_pattern(fix.precheck_parts))
    assert fix.precheck.pattern == fast_precheck(fix.precheck_parts).pattern
    for line in _probe_lines(clean_lines):
        assert [m.span() for m in fix.precheck.finditer(line)] == [m.span() for m in plain.finditer(line)], line


def test_stage_precheck_hits_the_lines_any_fix_would(clean_lines):
    stage = Repair()
    plain = [re.compile(precheck_pattern(f.precheck_parts)) for f in FIXES]
    for line in _probe_lines(clean_lines):
        assert bool(stage.precheck.search(line)) == any(p.search(line) for p in plain), line
    # With a fix switched off, its parts are left out of the stage's precheck.
    assert Repair(glued_pinyin=False).precheck.search("（zhong1）") is None
    assert Repair(ftfy=False, cjk_mojibake=False, phase_shift=False, glued_pinyin=False, artefacts=False).precheck.search("?") is None


def test_fast_precheck_rejects_parts_it_cannot_lead_with():
    with pytest.raises(ValueError):
        fast_precheck((("[^a]", "b"),))


def test_only_lines_with_a_hit_reach_the_fixes(clean_lines):
    """A long clean document (1500 lines) with two damaged lines: the fixes see those two lines only."""
    stage = Repair()
    seen: list[str] = []

    def counting(fix):
        def apply(line, record):
            seen.append(line)
            return fix.apply(line, record)

        return fix._replace(apply=apply)

    stage.fixes = [counting(f) for f in stage.fixes]
    clean = [ln for ln in clean_lines if not stage.precheck.search(ln)][:1500]
    assert len(clean) == 1500
    lines = clean[:700] + ["记者 閲嶅簡鏃ユ姤 报道"] + clean[700:] + ["????全会由区委常委会主持。"]
    doc = Document("a", text="\n".join(lines))
    stage.apply(doc)
    assert set(seen) == {"记者 閲嶅簡鏃ユ姤 报道", "????全会由区委常委会主持。"}
    assert doc.text.split("\n") == clean[:700] + ["记者 重庆日报 报道"] + clean[700:] + ["全会由区委常委会主持。"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("中\ufffd\n中文\n閲嶅簡鏃ユ姤", "中\n中文\n重庆日报"),  # hits in the first and the last line
        ("閲嶅簡鏃ユ姤\n\n閲嶅簡鏃ユ姤\n", "重庆日报\n\n重庆日报\n"),  # empty lines, trailing newline
        ("\n\n????中文", "\n\n中文"),
        ("中文\n", None),  # nothing to do: the document is left as it is, nothing recorded
    ],
)
def test_stage_maps_hits_to_their_lines(text, expected):
    doc = Document("a", text=text)
    Repair().apply(doc)
    if expected is None:
        assert doc.text == text and "repair" not in doc.log
    else:
        assert doc.text == expected


def test_repeated_line_is_recorded_each_time():
    """The ftfy result of a line is remembered, but each occurrence is still a recorded change."""
    doc = Document("a", text="â€œä¸­æ–‡â€\x9d\nâ€œä¸­æ–‡â€\x9d")
    Repair().apply(doc)
    assert doc.text == "“中文”\n“中文”"
    rec = doc.log["repair"]
    assert [c.fix for c in rec.changes] == ["ftfy", "ftfy"]
    assert rec.chars_changed == 2 * chars_changed("â€œä¸­æ–‡â€\x9d", "“中文”")


def _chars_changed_by_steps(before: str, after: str) -> int:
    """The definition, one character at a time."""
    n = min(len(before), len(after))
    start = 0
    while start < n and before[start] == after[start]:
        start += 1
    end = 0
    while end < n - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return max(len(before), len(after)) - start - end


def test_chars_changed_agrees_with_its_definition():
    rng = random.Random(5)
    for _ in range(20_000):
        a = "".join(rng.choice("ab中") for _ in range(rng.randint(0, 9)))
        b = "".join(rng.choice("ab中") for _ in range(rng.randint(0, 9)))
        assert chars_changed(a, b) == _chars_changed_by_steps(a, b), (a, b)
    assert chars_changed("aa", "aaa") == 1
    assert chars_changed("", "") == 0
    assert repair.chars_changed("重庆閲嶅簡日报", "重庆重庆日报") == 3


def test_ftfy_remembers_short_lines_only():
    western._ftfy_line.cache_clear()
    short = "Café Müller · 要闻 · 时政"
    long = "中文" * western.FTFY_CACHE_MAX_LINE + " © " + "&amp;"
    assert fix_western(short) == short
    assert fix_western(long) == long.replace("&amp;", "&")
    assert fix_western(short) == short
    info = western._ftfy_line.cache_info()
    assert (info.hits, info.misses, info.currsize) == (1, 1, 1)


def _window_by_chars(piece: str, codec: str) -> tuple[list[int], dict[int, int]]:
    """The bytes and boundaries of a piece without lost-byte marks, one character at a time."""
    data: list[int] = []
    boundary: dict[int, int] = {}
    for n, ch in enumerate(piece):
        if n:
            boundary[len(data)] = n
        b = cjk_mojibake._encode_char(ch, codec)
        data += b if b is not None else b"\xff"
    boundary[len(data)] = len(piece)
    return data, boundary


def test_window_of_han_text_reads_like_one_character_at_a_time(clean_lines):
    rng = random.Random(2)
    pieces = [ln[k : k + 12] for ln in rng.sample(clean_lines, 300) for k in (0, 5)]
    pieces += ["閲嶅簡鏃ユ姤", "€中文", "中\U00020000文", "中a文", "…、。", "瓩", "\ue000中", "x"]
    for piece in pieces:
        if "?" in piece or "\ufffd" in piece or not piece:
            continue
        for codec in cjk_mojibake.MISREAD_UTF8:
            assert cjk_mojibake._window(piece, 0, 12, codec, True) == _window_by_chars(piece, codec), (piece, codec)


@pytest.mark.parametrize(
    "line, hits",
    [
        ("首页 · 要闻 · 时政", False),  # everyday `·` and `©` are no mojibake
        ("Copyright © 2024 新华网 版权所有", False),
        ("记者 王明·李华", False),
        ("Ã©tÃ© Â· ä¸­", True),  # as continuation bytes, after a lead letter
        ("·ÄÅ", True),  # `·` as a Mac Roman lead byte before continuation letters
        ("©\u2122", True),
    ],
)
def test_ftfy_precheck_skips_everyday_middle_dots_and_copyright(line, hits):
    assert bool(western.PRECHECK.search(line)) == hits


@pytest.mark.parametrize(
    "line, hits",
    [
        ("你好？我是记者。", False),  # a typed question mark: the fix keeps it
        ("真的？", False),
        ("？？全会由区委常委会主持。", True),
        ("\u3000？全会", True),
        ("艾？ ？杰", True),
        ("中 ？ 文", True),
    ],
)
def test_artefacts_precheck_skips_typed_fullwidth_question_marks(line, hits):
    from cleancorp.fixes import artefacts

    assert bool(artefacts.PRECHECK.search(line)) == hits


def test_narrow_prechecks_miss_only_lines_the_fixes_leave_alone(monkeypatch, clean_lines):
    """Every line the narrowed prechecks of ftfy and artefacts let through unseen, the fix
    itself (run with the broad precheck: any `·`, `©`, `？`) leaves as it is."""
    from cleancorp.fixes import artefacts

    lines = _probe_lines(clean_lines) + [
        "首页 · 要闻 · 时政", "Copyright © 2024", "你好？我是", "真的？", "朱？基说", "“好？”他问",
        "a·b", "©®", "·\u00a0", "中？\u3000文", "？", "中\n？？文",
    ]
    broad = {
        western: re.compile("[\u0080-\u00ff\u0100-\u024f\u0370-\u04ff\u221a\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200d\u2060\ufeff\u180e]|&(?:#|[a-zA-Z]{2,8};)"),
        artefacts: re.compile("[?？\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff]"),
    }
    fixes = {western: western.fix_western, artefacts: artefacts.fix_artefacts}
    for module, pattern in broad.items():
        narrow = module.PRECHECK
        missed = [ln for ln in lines if pattern.search(ln) and not narrow.search(ln)]
        assert missed, module.__name__
        monkeypatch.setattr(module, "PRECHECK", pattern)
        western._ftfy_line.cache_clear()
        for line in missed:
            assert fixes[module](line) == line, (module.__name__, line)
        monkeypatch.setattr(module, "PRECHECK", narrow)


def _dirty_documents() -> list[str]:
    lines = ["????全会由区委常委会主持。", "记者 閲嶅簡鏃ユ姤 报道", "ÖØÇìÈÕ±¨ 2024", "会议指出?挛欧⒉蓟嵘\ufffd,宣布了决定。",
             "全會由區委常委會主持", "首页 · 要闻", "总理朱?基说，要办好?”", "区(qū)委"]
    rng = random.Random(4)
    return ["\n".join(rng.choice(lines) for _ in range(6)) for _ in range(30)]


def test_a_line_met_again_is_repaired_once_with_the_same_record(monkeypatch):
    """Lines repeat across pages (chrome, quoted sentences): the fixes run once per distinct
    line, and every document still gets the text and record a fresh stage gives it."""
    texts = _dirty_documents()
    fresh = []
    for text in texts:
        doc = Document("d", text=text)
        Repair().apply(doc)
        fresh.append((doc.text, doc.log["repair"].to_json()))
    stage = Repair()
    repaired: list[str] = []
    original = stage._repair_line

    def counted(line, first, offset, idle=0):
        repaired.append(line)
        return original(line, first, offset, idle)

    monkeypatch.setattr(stage, "_repair_line", counted)
    for _ in range(2):
        for text, expected in zip(texts, fresh):
            doc = Document("d", text=text)
            stage.apply(doc)
            assert (doc.text, doc.log["repair"].to_json()) == expected
    hit_lines = {line for text in texts for line in text.split("\n") if stage.precheck.search(line)}
    assert sorted(repaired) == sorted(hit_lines)


def test_remembered_lines_are_bounded(monkeypatch):
    monkeypatch.setattr(repair, "REMEMBER_LINES", 5)
    monkeypatch.setattr(repair, "REMEMBER_LINE_CHARS", 40)
    stage = Repair()
    long_line = "????" + "全会由区委常委会主持。" * 10
    for i in range(50):
        doc = Document("d", text=f"????第{i}条\n{long_line}")
        stage.apply(doc)
        assert doc.text == f"第{i}条\n{long_line[4:]}"
        assert len(stage._repaired) <= 5
    assert long_line not in stage._repaired
