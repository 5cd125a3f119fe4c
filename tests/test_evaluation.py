"""The evaluation harness: deterministic generation, families that really garble, exact scorer
numbers on hand-made cases, and a small run through the real CLI."""
from __future__ import annotations

import doctest
import json
import random
import re
import subprocess
import sys

import pytest

from cleancorp import evaluation
from cleancorp.evaluation import FAMILIES, format_table, garbles, run, score_document
from cleancorp.evaluation import chrome as chrome_mod
from cleancorp.evaluation import families as families_mod
from cleancorp.evaluation import naive as naive_mod
from cleancorp.evaluation import score as score_mod
from cleancorp.evaluation.families import CHROME, CONTENT, REPEAT, Case, generate, round_trips
from cleancorp.evaluation.score import cer, fold, levenshtein, line_outcomes, summarise

SMALL = 0.15  # two or three documents per family


try:
    import pypinyin  # noqa: F401  (the `eval` extra: readings for the glued-pinyin family)

    GENERATED = list(FAMILIES)
except ImportError:
    GENERATED = [name for name in FAMILIES if name != "pinyin-glued"]


@pytest.fixture(scope="module")
def small_cases() -> list[Case]:
    return generate(GENERATED, scale=SMALL)


@pytest.mark.parametrize("module", [garbles, chrome_mod, families_mod, score_mod, naive_mod, evaluation])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_same_seed_same_bytes(small_cases):
    again = generate(GENERATED, scale=SMALL)
    assert [(c.id, c.raw, c.answer, c.lines) for c in again] == [(c.id, c.raw, c.answer, c.lines) for c in small_cases]
    other = generate(["chrome", "garbled-span"], seed=7, scale=SMALL)
    mine = [c.raw for c in small_cases if c.family in ("chrome", "garbled-span")]
    assert [c.raw for c in other] != mine


def test_a_subset_generates_the_same_documents_as_the_full_run(small_cases):
    subset = generate(["artefacts"], scale=SMALL)
    assert [c.raw for c in subset] == [c.raw for c in small_cases if c.family == "artefacts"]


def test_every_family_garbles_and_has_an_answer(small_cases):
    seen = {c.family for c in small_cases}
    assert seen == set(GENERATED)
    for case in small_cases:
        assert case.answer.strip(), case.id
        assert "\n\n" not in case.answer and case.answer == case.answer.strip()
        if case.control:
            assert case.raw == case.answer.encode("utf-8")
        else:
            assert case.raw != case.answer.encode("utf-8"), case.id
        # The answer is exactly the content lines, in order.
        assert case.answer == "\n".join(t for label, t in case.lines if label == CONTENT)


def test_encoding_families_store_the_bytes_they_say(small_cases):
    for case in small_cases:
        if case.family == "enc-utf16-bom":
            assert case.raw[:2] in (b"\xff\xfe", b"\xfe\xff")
        if case.family == "enc-utf16":
            assert case.raw[:2] not in (b"\xff\xfe", b"\xfe\xff")
        if case.family in ("enc-gbk", "enc-gb18030", "enc-utf8-bom", "enc-utf16", "enc-utf16-bom"):
            text = case.raw.decode(case.note.split()[0]).removeprefix("\ufeff")
            assert [line for line in text.replace("\r\n", "\n").split("\n") if line] == case.answer.split("\n")
        if case.family == "enc-big5":
            text = case.raw.decode("big5")
            assert [line for line in text.replace("\r\n", "\n").split("\n") if line] == [
                families_mod.to_traditional(p) for p in case.answer.split("\n")]


def test_chrome_families_label_their_chrome(small_cases):
    for case in small_cases:
        if case.family in ("chrome", "body-twice", "dup-corpus"):
            labels = {label for label, _ in case.lines}
            assert CHROME in labels and CONTENT in labels, case.id
        if case.family == "body-twice":
            repeats = [t for label, t in case.lines if label == REPEAT]
            contents = [t for label, t in case.lines if label == CONTENT]
            assert repeats == contents


def test_dup_corpus_copies_point_at_earlier_originals(small_cases):
    dups = [c for c in small_cases if c.family == "dup-corpus"]
    ids = [c.id for c in dups]
    copies = [c for c in dups if c.duplicate_of]
    assert copies
    for c in copies:
        assert ids.index(c.duplicate_of) < ids.index(c.id)
        assert next(d for d in dups if d.id == c.duplicate_of).duplicate_of is None


def test_traditional_families_round_trip(small_cases):
    for case in small_cases:
        if case.family in ("enc-big5", "pinyin-glued"):
            assert all(round_trips(p) for p in case.answer.split("\n"))


def test_pinyin_family_glues_readings_of_traditional_characters():
    pytest.importorskip("pypinyin")
    case = generate(["pinyin-glued"], scale=SMALL)[0]
    text = case.raw.decode("utf-8")
    glued = re.compile(r"(?<=[\u4e00-\u9fff])\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
    assert glued.search(text)
    # Without the readings and indents, the page is the traditional form of the answer.
    bare = [line.removeprefix("????") for line in glued.sub("", text).split("\n")]
    assert bare == [families_mod.to_traditional(p) for p in case.answer.split("\n")]


def test_garbles_are_the_browser_ones():
    assert garbles.misread("议", "utf-8", "gbk") == "璁\ufffd"
    assert garbles.decode_cp1252_browser(bytes([0x80, 0x81, 0x9D, 0xE4])) == "€\x81\x9dä"
    shifted = garbles.lose_lead_byte("指出新闻发布会上,宣布", 2, "gbk")
    assert shifted.startswith("指出?") and shifted.endswith(",宣布")
    assert garbles.glue_pinyin("經濟", ["jīng", "jì"], {"經"}) == "經(jīng)濟"


# -- the scorer --------------------------------------------------------------------------------

def test_fold_and_cer_exact_numbers():
    assert fold("  第一段，\u3000\n\n第二段 ") == "第一段,\n第二段"
    assert cer("全会由区委常委会主持。", "全会由区委常委会主持。") == 0.0
    assert cer("????全会由区委常委会主持。", "全会由区委常委会主持。") == round(4 / 11, 4)
    assert cer("全会由區委常委会主持。", "全会由区委常委会主持。") == round(1 / 11, 4)
    # Width and whitespace do not count; a page of junk counts as 1, not more.
    assert cer("全会， 主持。\n", "全会,主持。") == 0.0
    assert cer("x" * 50, "全会") == 1.0
    assert cer("", "全会") == 1.0


def test_levenshtein_matches_the_textbook_algorithm():
    def textbook(a: str, b: str) -> int:
        prev = list(range(len(b) + 1))
        for i, x in enumerate(a, 1):
            cur = [i]
            for j, y in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
            prev = cur
        return prev[-1]

    rng = random.Random(3)
    for _ in range(400):
        a = "".join(rng.choice("ab区委会") for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice("ab区委会") for _ in range(rng.randint(0, 90)))
        assert levenshtein(a, b) == textbook(a, b), (a, b)
    long_a = "".join(rng.choice("的一是不了人我在") for _ in range(200))
    assert levenshtein(long_a * 5, long_a * 5 + "尾") == 1


def test_line_outcomes_count_kept_and_removed_lines():
    lines = [(CHROME, "首页 | 新闻 | 财经"), (CONTENT, "全会由区委常委会主持。"), (CHROME, "责任编辑：王明"),
             (CONTENT, "区委书记王俊讲话，强调要抓好落实。"), (REPEAT, "全会由区委常委会主持。")]
    out = "全会由区委常委会主持。\n责任编辑:王明\n区委书记王俊讲话，强调要抓好落实"
    assert line_outcomes(lines, out) == {"content": 2, "content_kept": 2, "chrome": 2, "chrome_kept": 1,
                                         "repeat": 1, "repeat_kept": 0}
    # Both copies in the output: the repeat counts as kept too.
    assert line_outcomes(lines, out + "\n全会由区委常委会主持。")["repeat_kept"] == 1
    # A content line damaged beyond 20 % is not kept.
    assert line_outcomes([(CONTENT, "全会由区委常委会主持。")], "全会由区委")["content_kept"] == 0


def test_summary_and_duplicate_decisions():
    case = Case("f-001", "f", b"", "全会主持。", [(CONTENT, "全会主持。")], duplicate_of="f-000")
    groups = {"f-000": "f-000", "f-001": "f-000", "f-002": "f-002"}
    right = score_document(case, "", {"drop_reason": "duplicate", "dropped_by": "dedup",
                                      "stages": {"dedup": {"duplicate_of": "out/f/input/f-000.txt"}}}, groups)
    assert right["dup_correct"] and right["dropped_dup"]
    wrong_target = score_document(case, "", {"drop_reason": "duplicate", "duplicate_of": "f-002.txt"}, groups)
    assert not wrong_target["dup_correct"]
    original = Case("f-000", "f", b"", "全会主持。", [(CONTENT, "全会主持。")])
    kept = score_document(original, "全会主持。", {"kept": True}, groups)
    false_drop = score_document(Case("f-002", "f", b"", "另一篇。", [(CONTENT, "另一篇。")]), "",
                                {"drop_reason": "duplicate", "duplicate_of": "f-000.txt"}, groups)
    s = summarise([kept, right, false_drop])
    # The true duplicate is left out of CER; the wrongly dropped page costs 1.
    assert s == {"docs": 3, "cer": 0.5, "exact": 0.5, "content_kept": 0.5, "chrome_removed": None,
                 "dup_precision": 0.5, "dup_recall": 1.0}


# -- through the real CLI ----------------------------------------------------------------------

def test_smoke_run_through_the_cli(tmp_path):
    results = run(["clean", "enc-gbk", "dup-corpus"], scale=SMALL, out_dir=tmp_path)
    fams = [r["family"] for r in results["families"]]
    assert fams == ["clean", "enc-gbk", "dup-corpus"]
    on_disk = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert on_disk["summary"] == results["summary"]
    for fam in fams:
        assert (tmp_path / fam / "report.jsonl").exists()
        assert len(list((tmp_path / fam / "input").iterdir())) == len(list((tmp_path / fam / "answer").iterdir()))
    rows = {r["family"]: r for r in results["families"]}
    for row in rows.values():
        for side in ("cleancorp", "naive"):
            for key in ("cer", "exact", "content_kept"):
                assert 0.0 <= row[side][key] <= 1.0
    # The naive chain never drops a document: no duplicate is found.
    assert rows["dup-corpus"]["naive"]["dup_recall"] == 0.0
    assert rows["dup-corpus"]["naive"]["dup_precision"] is None
    table = format_table(results)
    assert table.splitlines()[0].startswith("family") and "summary: cleancorp CER" in table.splitlines()[-1]


def test_command_line_lists_families_and_rejects_unknown_ones(tmp_path):
    listed = subprocess.run([sys.executable, "-m", "cleancorp.evaluation", "--list"], capture_output=True, text=True)
    assert listed.returncode == 0 and all(name in listed.stdout for name in FAMILIES)
    bad = subprocess.run([sys.executable, "-m", "cleancorp.evaluation", "--family", "nope", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "unknown family: nope" in bad.stderr
