"""The dedup stage: repeated runs inside a page, exact and near duplicates across documents."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cleancorp import Pipeline, minhash
from cleancorp.document import Document
from cleancorp.registry import OptionError, create_stage
from cleancorp.stages import dedup as dedup_module
from cleancorp.stages.dedup import Dedup, paragraph_keys
from conftest import FIXTURES, ROOT

BODY = [
    "全会充分肯定一年来全区贯彻落实党的二十大精神和市委全会部署取得的成绩，认为全区上下坚持稳中求进工作总基调，经济社会发展呈现稳中有进、进中提质的良好态势。",
    "全会强调，",
    "做好明年工作，要坚持以高质量发展统揽全局，完整、准确、全面贯彻新发展理念，加快构建现代化产业体系，持续增进民生福祉，推动各项事业再上新台阶。",
    "全会强调，",
    "要毫不动摇坚持党的全面领导，深入推进全面从严治党，以钉钉子精神抓好各项任务落实，确保市委决策部署在全区落地见效，奋力谱写新篇章。",
]
TITLE = "中共大渡口区委召开全会"


def apply(text: str, **opts) -> Document:
    doc = Document("t", text=text)
    Dedup(**opts).apply(doc)
    return doc


# -- inside one document -----------------------------------------------------------------------

def test_second_copy_inside_chrome_is_dropped_exactly():
    page = "\n".join([TITLE, "2023-12-25 来源：区融媒体中心", *BODY, "分享到", "", TITLE, "来源：区融媒体中心", ""]
                     + [x for p in BODY for x in (p, "")])
    doc = apply(page)
    # the source line is not a repeat (chrome is the boilerplate stage's business); blank lines
    # left doubled by the removal go too
    assert doc.text == "\n".join([TITLE, "2023-12-25 来源：区融媒体中心", *BODY, "分享到", "", "来源：区融媒体中心", ""])
    removed = doc.log["dedup"].removed
    assert [r.line_no for r in removed] == [10, 13, 15, 17, 19, 21]
    assert [r.rule for r in removed][2:] == [f"repeat-of-line-{n}" for n in (4, 5, 6, 7)]
    # each removed line names the line it repeats; the repeated title is part of the run
    assert removed[0].text == TITLE and removed[0].rule == "repeat-of-line-1"
    assert removed[1].rule == "repeat-of-line-3"


def test_repeat_in_other_width_whitespace_and_script_counts():
    copy = [BODY[0].replace("，", ",").replace("。", "."), "全会強調,", "做好明年工作, 要坚持以高质量发展统揽全局，完整、準確、全面貫徹新發展理念，加快構建現代化產業體系，持續增進民生福祉，推動各項事業再上新台階。",
            "全会强调，", "　" + BODY[4]]
    doc = apply("\n".join(BODY + ["相关新闻"] + copy))
    assert doc.text == "\n".join(BODY + ["相关新闻"])


def test_title_and_lead_repeated_before_the_body():
    lead = BODY[0]
    doc = apply("\n".join([TITLE, lead, "分享", TITLE, "来源：新华网", *BODY]))
    assert doc.text == "\n".join([TITLE, lead, "分享", "来源：新华网", *BODY[1:]])


def test_short_repeats_and_formula_sentences_stay():
    law = [
        "第一百二十条 组织、领导恐怖活动组织的，处十年以上有期徒刑或者无期徒刑，并处没收财产。",
        "单位犯前款罪的，对单位判处罚金，并对其直接负责的主管人员和其他直接责任人员，依照前款的规定处罚。",
        "第一百二十一条 以暴力、胁迫或者其他方法劫持航空器的，处十年以上有期徒刑或者无期徒刑。",
        "单位犯前款罪的，对单位判处罚金，并对其直接负责的主管人员和其他直接责任人员，依照前款的规定处罚。",
    ]
    text = "\n".join(BODY + law)
    assert apply(text).text == text


def test_a_dateline_prefixed_repeat_of_the_lead_is_part_of_the_copy():
    copy = ["本报讯（记者 王敏）" + BODY[0]] + BODY[1:]
    doc = apply("\n".join(BODY + ["上一篇：无", TITLE] + copy))
    assert doc.text == "\n".join(BODY + ["上一篇：无", TITLE])  # the title was not in the first copy


def test_min_chars_decides_how_long_a_repeated_run_must_be():
    text = "\n".join([BODY[2], "中间的一段话，与上下文无关，只是分隔。", BODY[2]])
    assert apply(text).text == text  # 64 key characters: below the default
    assert apply(text, min_chars=40).text == "\n".join(text.split("\n")[:2])


def test_page_b_keeps_every_body_paragraph_once(shared):
    raw = (shared / "samples" / "page-b.txt").read_bytes()
    pipeline = Pipeline()
    doc = pipeline.process(raw)
    lines = [ln for ln in doc.text.split("\n") if ln.strip()]
    keys = [minhash.comparison_key(ln).tobytes() for ln in lines]
    long = [k for k in keys if len(k) // 4 >= 40]
    assert len(long) == len(set(long)) > 100
    assert sum("重庆日报讯" in ln for ln in lines) == 0 or sum("2023年是全面贯彻党的二十大精神开局之年" in ln for ln in lines) == 1


# -- clean text is never changed ---------------------------------------------------------------

def _clean_files(shared_dir: Path | None) -> list[Path]:
    paths = sorted((FIXTURES / "clean").glob("*.txt"))
    if shared_dir is not None:
        paths += sorted((shared_dir / "corpora" / "zh-clean").glob("*.txt"))
    return paths


def _shared_or_none() -> Path | None:
    from conftest import SHARED

    return SHARED if SHARED.is_dir() else None


@pytest.mark.parametrize("path", _clean_files(_shared_or_none()), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_clean_file_as_one_document_is_untouched(path):
    text = path.read_text(encoding="utf-8")
    doc = apply(text)
    assert doc.dropped is None
    assert doc.text == text


@pytest.mark.parametrize("path", _clean_files(_shared_or_none()), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_clean_file_cut_into_documents_loses_nothing(path):
    # Consecutive, non-overlapping documents of one clean file are different texts; a small
    # document starting anywhere must keep the formula sentences a law repeats.
    lines = path.read_text(encoding="utf-8").split("\n")
    stage = Dedup()
    cuts = [(i, 15) for i in range(0, len(lines), 15)] + [(i, 5) for i in range(0, len(lines), 2)]
    for i, size in cuts:
        text = "\n".join(lines[i : i + size])
        if size == 5:
            doc = Document("small", text=text)
            Dedup(across=False).apply(doc)
            assert doc.text == text
            continue
        if not text.strip():
            continue
        doc = Document(f"{path.name}:{i}", text=text)
        stage.apply(doc)
        assert doc.dropped is None, (doc.id, doc.log["dedup"].info)
        assert doc.text == text


# -- across documents --------------------------------------------------------------------------

ARTICLE = "\n".join(BODY)
OTHER = (
    "近年来，北碚区深入学习贯彻生态文明思想，统筹推进高质量发展和高水平保护，扎实谱写缙云山综合提升文章。"
    "提质打造缙云山发展格局，依托焕然一新的生态环境，开发研学路线、发展本土产业、打造网红景点，累计接待游客四十四万人。\n"
    "同时，以点带面推动全区生态环境质量持续提升改善，巍巍缙云山旧貌换新颜，群众获得感幸福感明显增强。"
    "作为全市主题教育的正面典型，缙云山生态环境综合整治提升工作体现了闭环落实的政治自觉。"
)


def run_stage(texts: list[str], **opts) -> list[Document]:
    stage = Dedup(**opts)
    docs = []
    for i, t in enumerate(texts):
        doc = Document(f"d{i}", text=t)
        stage.apply(doc)
        docs.append(doc)
    return docs


def info(doc: Document) -> dict:
    return doc.log["dedup"].info


def test_exact_copy_in_other_whitespace_and_punctuation_is_dropped():
    docs = run_stage([ARTICLE, "  " + ARTICLE.replace("，", ",").replace("\n", "\n\n") + "\n", OTHER])
    assert [d.dropped for d in docs] == [None, "duplicate", None]
    assert info(docs[1]) == {"duplicate_of": "d0", "similarity": 1.0, "measure": "exact"}


def test_near_copy_is_dropped_with_its_similarity():
    edited = ARTICLE.replace("稳中求进", "稳中有进").replace("钉钉子", "钉子")
    docs = run_stage([ARTICLE, edited])
    assert docs[1].dropped == "duplicate"
    assert info(docs[1])["duplicate_of"] == "d0"
    assert info(docs[1])["measure"] == "jaccard"
    assert 0.8 <= info(docs[1])["similarity"] < 1.0


def test_rewrapped_copy_is_an_exact_duplicate():
    rewrapped = "".join(BODY[:2]) + "\n" + "\n".join(BODY[2:])
    docs = run_stage([ARTICLE, rewrapped])
    assert info(docs[1])["measure"] == "exact"


def test_truncated_copy_is_dropped_by_containment():
    prefix = ARTICLE[: int(len(ARTICLE) * 0.6)]
    docs = run_stage([ARTICLE, prefix])
    assert docs[1].dropped == "duplicate"
    assert info(docs[1])["measure"] == "containment"


def test_traditional_copy_is_a_duplicate_even_without_conversion():
    from opencc import OpenCC

    docs = run_stage([ARTICLE, OpenCC("s2t").convert(ARTICLE)])
    assert docs[1].dropped == "duplicate"


def test_articles_sharing_a_paragraph_or_a_quotation_are_kept():
    shares = OTHER + "\n" + BODY[2]
    quotes = OTHER.replace("文章。", "文章。正如全会所说：“" + BODY[0][:60] + "”")
    docs = run_stage([ARTICLE, shares, quotes])
    assert [d.dropped for d in docs] == [None, None, None]


def test_a_longer_article_containing_an_earlier_one_is_kept():
    docs = run_stage([BODY[0], BODY[0] + "\n" + OTHER])
    assert docs[1].dropped is None


def test_thresholds_are_options():
    edited = ARTICLE.replace("稳中求进", "稳中有进")
    assert run_stage([ARTICLE, edited], threshold=1.0, containment=1.0)[1].dropped is None
    with pytest.raises(OptionError):
        create_stage("dedup", {"threshold": "1.5"})
    with pytest.raises(OptionError):
        create_stage("dedup", {"min_chars": "0"})


def test_across_off_keeps_copies():
    assert run_stage([ARTICLE, ARTICLE], across=False)[1].dropped is None


def test_generated_copies_and_negatives():
    # A small seeded version of the evaluation corpus, judged by the stage directly.
    from cleancorp.evaluation.dedup_set import cross_corpus

    docs = cross_corpus(seed=3, originals=25)
    stage = Dedup()
    wrong = []
    for d in docs:
        doc = Document(d.id, text=Pipeline(skip=["dedup"]).process(d.text).text)
        stage.apply(doc)
        if (doc.dropped == "duplicate") != d.duplicate:
            wrong.append((d.id, d.kind))
    assert wrong == []
    assert {d.kind for d in docs} >= {"exact", "near", "rewrapped", "truncated", "traditional"}


# -- the sketch and the index ------------------------------------------------------------------

def test_sketch_is_deterministic_across_processes():
    code = (
        "from cleancorp import minhash; import sys;"
        "s = minhash.sketch(minhash.comparison_key(sys.argv[1]));"
        "print(s.signature.tobytes().hex(), s.shingles)"
    )
    outs = set()
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-c", code, ARTICLE], capture_output=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        outs.add(proc.stdout)
    assert len(outs) == 1


def test_jaccard_estimate_is_close_to_the_true_value():
    rng = random.Random(5)
    text = OTHER * 3 + ARTICLE
    errors = []
    for _ in range(20):
        a = text[rng.randrange(50) :]
        b = text[: len(text) - rng.randrange(200)]
        ka, kb = minhash.comparison_key(a), minhash.comparison_key(b)
        sa = {ka[i : i + 5].tobytes() for i in range(len(ka) - 4)}
        sb = {kb[i : i + 5].tobytes() for i in range(len(kb) - 4)}
        true = len(sa & sb) / len(sa | sb)
        est = float(minhash.jaccard(minhash.sketch(ka).signature, minhash.sketch(kb).signature))
        errors.append(abs(est - true))
    assert max(errors) < 0.15 and sum(errors) / len(errors) < 0.06


def test_key_table_grows_and_keeps_first_values():
    table = minhash.KeyTable(16)
    keys = np.arange(1, 5001, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for i in range(0, 5000, 50):
        table.insert(keys[i : i + 50], i // 50)
    table.insert(keys[:10], 999)
    assert table.lookup(keys).tolist() == [i // 50 for i in range(5000)]
    assert table.lookup(np.array([7, 8], dtype=np.uint64)).tolist() == [-1, -1]
    assert table.used == 5000 and table.capacity * table.MAX_LOAD >= 5000


def test_index_round_trip(tmp_path):
    path = tmp_path / "ix.npz"
    stage = Dedup(index=str(path))
    first = Document("a", text=ARTICLE)
    stage.apply(first)
    stage.close()
    again = Dedup(index=str(path))
    assert len(again.index) == 1
    doc = Document("b", text=ARTICLE.replace("稳中求进", "稳中有进"))
    again.apply(doc)
    assert doc.dropped == "duplicate" and info(doc)["duplicate_of"] == "a"


def test_damaged_index_is_a_clear_error(tmp_path):
    bad = tmp_path / "ix.npz"
    bad.write_bytes(b"not an index")
    with pytest.raises(OptionError, match="dedup index .*ix.npz"):
        create_stage("dedup", {"index": str(bad)})


# -- the command line --------------------------------------------------------------------------

def test_cli_index_dedups_a_later_batch(cli, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(ARTICLE, encoding="utf-8")
    b.write_text(ARTICLE.replace("，", ","), encoding="utf-8")
    index = tmp_path / "state" / "dedup.npz"
    first = cli("--dedup-index", str(index), "-o", str(tmp_path / "out1"), str(a))
    assert first.returncode == 0, first.stderr
    assert index.exists()
    report = tmp_path / "r.jsonl"
    second = cli("--dedup-index", str(index), "-o", str(tmp_path / "out2"), "--report", str(report), str(b))
    assert second.returncode == 0, second.stderr
    rec = json.loads(report.read_text(encoding="utf-8"))
    assert rec["drop_reason"] == "duplicate"
    assert rec["stages"]["dedup"]["duplicate_of"].endswith("a.txt")
    assert not (tmp_path / "out2" / "b.txt").exists()


def test_cli_bad_index_is_one_line(cli, tmp_path):
    bad = tmp_path / "ix.npz"
    bad.write_text("garbage", encoding="utf-8")
    proc = cli("--dedup-index", str(bad), stdin=ARTICLE.encode())
    assert proc.returncode == 2
    err = proc.stderr.decode()
    assert err.count("\n") == 1 and "dedup index" in err and "Traceback" not in err


def test_cli_same_order_same_result(cli, tmp_path):
    src = tmp_path / "in.jsonl"
    rows = [ARTICLE, OTHER, ARTICLE.replace("稳中求进", "稳中有进"), OTHER[:150], ARTICLE[::-1]]
    src.write_text("".join(json.dumps({"id": f"r{i}", "text": t}, ensure_ascii=False) + "\n" for i, t in enumerate(rows)), encoding="utf-8")
    reports = []
    for seed in ("0", "123"):
        rep = tmp_path / f"rep{seed}.jsonl"
        env = dict(os.environ, PYTHONHASHSEED=seed)
        proc = subprocess.run([sys.executable, "-m", "cleancorp", "--format", "jsonl", "--report", str(rep), str(src)],
                              capture_output=True, env=env, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        reports.append(rep.read_text(encoding="utf-8"))
    assert reports[0] == reports[1]
    drops = [json.loads(line).get("drop_reason") for line in reports[0].splitlines()]
    assert drops == [None, None, "duplicate", "duplicate", None]


def test_repeat_check_past_a_million_characters():
    # Over 2**20 characters a line's key length no longer fits the packed per-line sum: it is
    # counted apart, and the check still finds (or rules out) a repeated paragraph.
    para = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"
    other = "全会认为全区上下认真学习领会重要讲话精神并取得成效。"
    filler = "字" * ((1 << 20) + 5)  # 5 in the low 20 bits: short, were it not counted apart
    stage = Dedup()
    cases = ((para, para.replace("。", "!"), True), (para, other, False), (filler, other, True))
    for first, last, expected in cases:
        text = f"{first}\n{filler}\n{last}\n"
        codes = minhash.code_points(text)
        mapped = minhash.mapped_codes(text, codes)
        assert stage._might_repeat(codes, mapped, mapped != 0) is expected


def test_paragraph_keys_match_the_key_of_each_line():
    text = "全會強調,\n\n  ＡＢＣ。\n😀表情\n\n结尾\n"
    keys = paragraph_keys(text)
    assert keys == [minhash.comparison_key(line).tobytes() for line in text.split("\n")]
    assert [len(k) // 4 for k in keys] == [4, 0, 3, 3, 0, 2, 0]


# -- the split the corpus command uses: per-document half, then the ordered half ---------------

def _near_copy_soup(seed: int, count: int) -> list[np.ndarray]:
    """Comparison keys of ``count`` documents drawn from a few hundred short bases, most of them
    edited or truncated copies: many share keys with earlier ones, in and across batches."""
    rng = np.random.default_rng(seed)
    bases = [rng.integers(0x4E00, 0x4E40, size=int(rng.integers(3, 90)), dtype=np.uint32) for _ in range(200)]
    keys = []
    for _ in range(count):
        key = bases[int(rng.integers(len(bases)))].copy()
        for _ in range(int(rng.integers(0, 4))):
            key[int(rng.integers(len(key)))] = rng.integers(0x4E00, 0x4E40)
        if rng.random() < 0.2:
            key = key[: max(1, len(key) - int(rng.integers(0, 12)))]
        keys.append(key)
    return keys


def test_batched_sketches_and_fingerprints_equal_one_at_a_time():
    keys = _near_copy_soup(1, 400) + [np.zeros(0, dtype=np.uint32), minhash.comparison_key(ARTICLE * 40)]
    index = minhash.Index()
    for fp, key in zip(index.fingerprints([k for k in keys if len(k)]), [k for k in keys if len(k)]):
        one = index.fingerprint(key)
        assert fp.keys.tolist() == one.keys.tolist() and fp.sketch.shingles == one.sketch.shingles
        assert fp.sketch.signature.tobytes() == one.sketch.signature.tobytes()
    for many, one in zip(minhash.sketch_many(keys), map(minhash.sketch, keys)):
        assert many.shingles == one.shingles and many.signature.tobytes() == one.signature.tobytes()


def test_offer_many_gives_the_matches_of_offering_one_at_a_time():
    keys = _near_copy_soup(2, 3000)
    items = [(f"d{n}", fp) for n, fp in enumerate(minhash.Index().fingerprints(keys))]
    one_by_one = minhash.Index()
    expected = [one_by_one.offer_fingerprint(doc_id, fp) for doc_id, fp in items]
    batched = minhash.Index()
    got, start, rng = [], 0, random.Random(2)
    while start < len(items):
        step = rng.choice([1, 2, 7, 50, 400])
        got += batched.offer_many(items[start : start + step])
        start += step
    assert got == expected
    assert sum(m is not None for m in got) > 1000 and {m.measure for m in got if m} == {"exact", "jaccard", "containment"}
    assert batched.ids == one_by_one.ids
    probe = np.concatenate([fp.keys for _, fp in items[:300]])
    assert batched.table.lookup(probe).tolist() == one_by_one.table.lookup(probe).tolist()


def test_fingerprint_crosses_processes_as_bytes():
    import pickle

    fp = minhash.Index().fingerprint(minhash.comparison_key(ARTICLE))
    data = pickle.dumps(fp, protocol=pickle.HIGHEST_PROTOCOL)
    back = pickle.loads(data)
    assert len(data) < 700 and back.keys.tolist() == fp.keys.tolist()
    assert back.sketch.shingles == fp.sketch.shingles and back.sketch.signature.tobytes() == fp.sketch.signature.tobytes()


def test_prepare_then_match_equals_apply():
    from cleancorp.evaluation.dedup_set import cross_corpus

    docs = cross_corpus(seed=4, originals=20)
    texts = [Pipeline(skip=["dedup"]).process(d.text).text for d in docs]
    texts += [texts[3] + "\n" + texts[3]]  # a page holding its article twice
    whole, split = Dedup(min_chars=20), Dedup(min_chars=20)
    prepared = []
    for n, text in enumerate(texts):
        doc = Document(f"d{n}", text=text)
        prepared.append(doc)
    fps = split.prepare_many(prepared)
    matches = split.match_many([(doc.id, fp) for doc, fp in zip(prepared, fps) if fp is not None])
    by_id = dict(zip([doc.id for doc, fp in zip(prepared, fps) if fp is not None], matches))
    for n, doc in enumerate(prepared):
        ref = Document(f"d{n}", text=texts[n])
        whole.apply(ref)
        match = by_id.get(doc.id)
        if match is not None:
            doc.drop("duplicate", "dedup", duplicate_of=match.id, similarity=match.similarity, measure=match.measure)
        assert (doc.text, doc.report()) == (ref.text, ref.report()), n
    assert sum(d.dropped is not None for d in prepared) >= 10
    assert "repeats_dropped" in prepared[-1].log["dedup"].info


def test_apply_batch_equals_apply_in_order():
    from cleancorp.evaluation.dedup_set import cross_corpus, page_corpus

    prepare = Pipeline(skip=["dedup"])
    texts = [prepare.process(d.text).text for d in cross_corpus(seed=6, originals=25)]
    texts += [d.text for d in page_corpus(seed=6, pages=10)]  # articles held twice in the page
    texts[7:7] = [texts[5], "", "。，\n", texts[5].replace("。", "!")]  # copies inside one batch, nothing to compare
    one, many = Dedup(), Dedup()
    expected = [Document(f"d{n}", text=t) for n, t in enumerate(texts)]
    for doc in expected:
        one.apply(doc)
    got = [Document(f"d{n}", text=t) for n, t in enumerate(texts)]
    for start in range(0, len(got), 16):
        many.apply_batch(got[start : start + 16])
    assert [(d.text, d.dropped, d.report()) for d in got] == [(d.text, d.dropped, d.report()) for d in expected]
    # copies whose original came earlier in the same batch
    assert [got[n].dropped for n in (7, 10)] == ["duplicate", "duplicate"]
    assert int(got[7].log["dedup"].info["duplicate_of"][1:]) < 7
    assert sum(d.dropped == "duplicate" for d in got) >= 10
    assert sum("repeats_dropped" in d.log["dedup"].info for d in got if "dedup" in d.log) >= 5
    # the index left for later documents is the same
    assert len(one.index) == len(many.index)
    late = [Document("late", text=texts[0]), Document("new", text=texts[1][::-1])]
    late_one = [Document(d.id, text=d.text) for d in late]
    many.apply_batch(late)
    for doc in late_one:
        one.apply(doc)
    assert [d.report() for d in late] == [d.report() for d in late_one]


def test_page_repeating_its_short_opening_keeps_one_copy():
    # Title and a lead of short paragraphs (none of 20 key characters) pasted again below.
    opening = ["中原第八届文化旅游发展大会圆满落幕", "眉间尺不觉伤心起来。",
               "“唉唉，母亲的叹息是无怪的。”他低声说。", "“但她只知道一半。她不知道我要给你报仇。”"]
    doc = Document("p", text="\n".join(opening + opening))
    Dedup().apply(doc)
    assert doc.text == "\n".join(opening)
    assert [r.rule for r in doc.log["dedup"].removed] == [f"repeat-of-line-{n}" for n in range(1, 5)]


def test_lines_that_all_end_alike_cost_linear_work():
    # 40,000 distinct paragraphs sharing their last 8 characters: each is looked up against
    # at most PREFIX_MAX suffixes, not against every earlier paragraph (that took minutes).
    lines = [f"第{n}号通知的全文内容如下所述并请各单位遵照执行为盼" for n in range(40000)]
    doc = Document("same-endings", text="\n".join(lines))
    Dedup().apply(doc)
    assert doc.text == "\n".join(lines)


def test_paragraph_repeated_after_a_dateline_prefix_is_a_repeat():
    # The second copy of the article opens with a dateline glued to its first paragraph.
    para = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作，认为各项事业取得了新的进展和成效。"
    other = "全会认为全区上下认真学习领会重要讲话精神，推动各项工作取得新成效，人民群众获得感增强。"
    text = "\n".join([para, other, "菜单", "本报讯(记者 某某)" + para, other])
    doc = Document("prefix", text=text)
    Dedup(min_chars=20).apply(doc)
    assert doc.text == "\n".join([para, other, "菜单"])


# -- the batched per-document half: lines of all pages at once, a cheap test before the exact one --

def _page_soup(seed: int, count: int) -> list[str]:
    """Pages of every shape the in-page comparison meets: clean ones, their title coming back,
    a second copy in other punctuation, width, white space or script, prefixed copies, lines
    with the same characters in another order (the same per-line sum), short repeated lines."""
    rng = random.Random(seed)
    paras = BODY + [ARTICLE[i : i + rng.randint(25, 90)] for i in range(0, len(ARTICLE) - 30, 37)] + [OTHER]
    full_width = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789abcdefghijklmnopqrstuvwxyz"})

    def variant(p: str) -> str:
        return rng.choice([
            lambda: p.replace("，", ",").replace("。", "."),
            lambda: p.translate(full_width),
            lambda: "　" + p.replace("，", "， "),
            lambda: to_traditional(p),
            lambda: p + "!!",
            lambda: rng.choice(["本报讯(记者 某某)", "新华社北京电 ", "据报道，"]) + p,
            lambda: p,
        ])()

    pages = []
    for n in range(count):
        body = rng.sample(paras, rng.randint(1, 6))
        title = rng.choice(paras)[: rng.randint(4, 18)].rstrip("。，")
        kind = n % 8
        if kind == 0:
            lines = [title, *body]
        elif kind == 1:  # the title again at the foot: the cheap test says "maybe"
            lines = [title, *body, "分享到", title]
        elif kind == 2:
            lines = [title, *body, "相关新闻", "", variant(title), *map(variant, body)]
        elif kind == 3:  # the same characters in another order: same length and sum
            p = body[0]
            lines = [title, p, *body[1:], "".join(rng.sample(p, len(p)))]
        elif kind == 4:
            lines = [x for p in body for x in (rng.choice(["全会强调，", "他说：", "一是"]), p)]
        elif kind == 5:  # title and lead again, then the body
            lines = [title, body[0], "首页 | 新闻", variant(title), variant(body[0]), *body[1:]]
        elif kind == 6:
            lines = [title, *body, "菜单", *[rng.choice(["本报讯(记者 某某)", "据报道，"]) + p for p in body]]
        else:  # a repeat one character off: no exact or prefixed repeat
            lines = [title, *body, *[p[:-2] + "是" + p[-1:] for p in body]]
        text = "\n".join(lines) + ("\n" if rng.random() < 0.5 else "")
        pages.append(text)
    return pages


def to_traditional(text: str) -> str:
    from cleancorp.evaluation.families import to_traditional as convert

    return convert(text)


def test_pages_the_cheap_test_lets_through_have_nothing_the_exact_one_would_drop():
    # Every page the per-line sums flag but the run bound skips: the line-by-line comparison,
    # run on it anyway, drops nothing. (And the bound does skip many flagged pages.)
    stage = Dedup()
    pages = _page_soup(3, 400)
    joined = "".join(pages)
    codes = minhash.code_points(joined)
    mapped = minhash.mapped_codes(joined, codes)
    where = np.flatnonzero(mapped)
    bounds = np.cumsum([0] + [len(p) for p in pages])
    lines = dedup_module._Lines(codes, where, mapped[where], bounds)
    flagged = np.flatnonzero(stage._might_repeat_many(lines)).tolist()
    checked = stage._pages_to_check(lines, mapped[where])
    skipped = sorted(set(flagged) - set(checked))
    assert set(checked) <= set(flagged) and len(skipped) >= 50 and len(checked) >= 50
    for j in skipped:
        doc = Document(f"p{j}", text=pages[j])
        assert not stage._drop_repeats(doc, pages[j], mapped[bounds[j] : bounds[j + 1]]), j
        assert doc.text == pages[j] and "dedup" not in doc.log
    # the per-page test agrees with the batched one
    for j, page in enumerate(pages[:80]):
        c = minhash.code_points(page)
        m = minhash.mapped_codes(page, c)
        assert stage._might_repeat(c, m, m != 0) is (j in flagged), j


def _in_batches(stage: Dedup, pages: list[str]) -> list[Document]:
    """``pages`` as documents through ``stage`` in batches of 64, as Pipeline.run gives them."""
    docs = [Document(f"d{n}", text=t) for n, t in enumerate(pages)]
    for start in range(0, len(docs), 64):
        stage.apply_batch(docs[start : start + 64])
    return docs


def _outcome(docs: list[Document]) -> list[tuple]:
    return [(d.text, d.dropped, d.report()) for d in docs]


def test_batched_pages_give_the_results_of_one_page_at_a_time():
    pages = _page_soup(4, 240)
    for opts in ({}, {"min_chars": 20}, {"min_chars": 1}, {"across": False}):
        one, many = Dedup(**opts), Dedup(**opts)
        expected = [Document(f"d{n}", text=t) for n, t in enumerate(pages)]
        for doc in expected:  # one at a time, the exact comparison wherever the sums allow a repeat
            codes = minhash.code_points(doc.text)
            mapped = minhash.mapped_codes(doc.text, codes)
            if one.within and one._might_repeat(codes, mapped, mapped != 0):
                one._drop_repeats(doc, doc.text, mapped)
            key = minhash.comparison_key(doc.text)
            one.decide(doc, one.index.fingerprint(key) if one.across and len(key) else None)
        got = _in_batches(many, pages)
        assert _outcome(got) == _outcome(expected), opts
        assert sum("repeats_dropped" in d.log["dedup"].info for d in got if "dedup" in d.log) >= 40


def test_repeats_in_other_punctuation_width_and_script_are_found_in_a_batch():
    lead = "2023年全区GDP增长6.5%，全会充分肯定一年来全区贯彻落实市委全会部署取得的成绩，经济社会发展呈现稳中有进的良好态势。"
    full_width = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.%"})
    body = [lead, BODY[0], BODY[2], BODY[4]]  # 200 key characters and more
    copies = {
        "punctuation": [p.replace("，", ",").replace("。", ".").replace("、", ",") for p in body],
        "full-width": [p.translate(full_width).replace("，", "，　") for p in body],
        "traditional": [to_traditional(p) for p in body],
        "white space": [" ".join(p[i : i + 7] for i in range(0, len(p), 7)) for p in body],
    }
    pages = {name: "\n".join([TITLE, *body, "相关新闻", *copy]) for name, copy in copies.items()}
    docs = [Document(name, text=text) for name, text in pages.items()]
    docs.append(Document("clean", text="\n".join([TITLE, *body])))
    Dedup().apply_batch(docs)
    for doc in docs[:-1]:
        assert doc.text == "\n".join([TITLE, *body, "相关新闻"]), doc.id
        assert doc.log["dedup"].info["repeats_dropped"] == 4
    assert docs[-1].text == "\n".join([TITLE, *body]) and docs[-1].dropped == "duplicate"


def test_rolling_hash_equals_the_character_by_character_one():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 0x10FFFF, 40).astype(np.uint32)
    prime, seed = int(minhash._PRIME), minhash.SEED & 0xFFFF_FFFF
    for n in range(1, 9):
        slow = []
        for i in range(len(codes) - n + 1):
            h = int(codes[i]) + seed
            for c in codes[i + 1 : i + n]:
                h = (h * prime + int(c)) % 2**64
            slow.append(h)
        assert minhash._rolling_hashes(codes, n).tolist() == slow, n


def test_joined_sketches_and_digests_equal_one_key_at_a_time():
    keys = _near_copy_soup(5, 300) + [minhash.comparison_key("𠀀𠀁甲乙丙丁戊己"), minhash.comparison_key(ARTICLE)]
    keys = [k for k in keys if len(k)]
    joined, sizes = np.concatenate(keys), [len(k) for k in keys]
    index = minhash.Index()
    assert minhash.exact_keys(joined, sizes) == [minhash.exact_key(k) for k in keys]
    for fp, key in zip(index.fingerprints_joined(joined, sizes), keys):
        one = index.fingerprint(key)
        assert fp.keys.tolist() == one.keys.tolist() and fp.sketch.shingles == one.sketch.shingles
        assert fp.sketch.signature.tobytes() == one.sketch.signature.tobytes()


def test_key_table_walks_over_many_full_buckets():
    # 300 keys of one bucket fill it and the 37 buckets after it; a lookup walks over the full
    # ones several buckets at a time, and a key of a later bucket lands after them.
    table = minhash.KeyTable(4096)
    keys = np.arange(1, 301, dtype=np.uint64)
    table.add_new(keys, np.arange(300, dtype=np.int32))
    later = np.array([5 << 40, 41 << 40], dtype=np.uint64)
    table.add_new(later, np.array([500, 501], dtype=np.int32))
    assert table.lookup(np.concatenate([keys, later, [7 << 40]]).astype(np.uint64)).tolist() == [*range(300), 500, 501, -1]
    assert table.used == 302 and int((table.keys != 0).sum()) == 302


def test_offered_batches_store_each_key_once():
    keys = _near_copy_soup(6, 2000)
    index = minhash.Index()
    fps = index.fingerprints(keys)
    for start in range(0, len(fps), 64):
        index.offer_many([(f"d{n}", fp) for n, fp in enumerate(fps[start : start + 64], start)])
    stored = index.table.keys[index.table.keys != 0]
    assert len(np.unique(stored)) == len(stored) == index.table.used


def test_index_of_an_earlier_format_is_a_clear_error(tmp_path):
    import pickle

    path = tmp_path / "ix.npz"
    stage = Dedup(index=str(path))
    stage.apply(Document("a", text=ARTICLE))
    stage.close()
    with np.load(path) as data:
        arrays = dict(data)
    arrays["params"] = arrays["params"].copy()
    arrays["params"][0] = 1  # the BLAKE2b digests of format 1
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    with pytest.raises(OptionError, match="format 1 was written by an earlier cleancorp"):
        create_stage("dedup", {"index": str(old)})
    # an index pickled in a checkpoint by an earlier version
    state = dict(stage.index.__dict__)
    blob = pickle.dumps(stage.index)
    assert len(pickle.loads(blob)) == 1
    stale = minhash.Index.__new__(minhash.Index)
    with pytest.raises(pickle.UnpicklingError, match="earlier cleancorp"):
        stale.__setstate__(state)


def _reference_sketch(key: np.ndarray) -> list[int]:
    """The sketch as the module docstring defines it, bin by bin from the full 64-bit hashes."""
    hashes = [int(h) for h in minhash.shingle_hashes(key)]
    least: dict[int, int] = {}
    for h in hashes:
        slot, value = h >> 57, (h >> 41) & 0xFFFF
        least[slot] = min(value, least.get(slot, value))
    out = []
    for slot in range(minhash.BINS):
        source = next(s for s in range(slot, slot + minhash.BINS) if s % minhash.BINS in least)
        out.append((least[source % minhash.BINS] + (source - slot) * 0x9E37) & 0xFFFF)
    return out


def test_sketches_read_the_bins_of_the_full_hash():
    # The sketch paths skip the last mixing step and fold bin and value into one word: the bins
    # and values must still be those of the full hashes.
    keys = _near_copy_soup(7, 60) + [minhash.comparison_key(ARTICLE), minhash.comparison_key("𠀀𠀁甲乙丙丁戊己" * 3)]
    expected = [_reference_sketch(k) for k in keys]
    assert [minhash.sketch(k).signature.tolist() for k in keys] == expected
    assert [s.signature.tolist() for s in minhash.sketch_many(keys)] == expected


def test_stored_keys_take_the_slots_of_a_fill_without_the_lookup_hint(monkeypatch):
    keys = _near_copy_soup(8, 2500)
    items = [(f"d{n}", fp) for n, fp in enumerate(minhash.Index().fingerprints(keys))]
    hinted = minhash.Index()
    for start in range(0, len(items), 64):
        hinted.offer_many(items[start : start + 64])
    plain_add = minhash.KeyTable.add_new
    monkeypatch.setattr(minhash.KeyTable, "add_new", lambda self, k, v, where=None: plain_add(self, k, v))
    plain = minhash.Index()
    for start in range(0, len(items), 64):
        plain.offer_many(items[start : start + 64])
    assert hinted.table.capacity > 1024  # it grew on the way
    assert hinted.table.keys.tobytes() == plain.table.keys.tobytes()
    assert hinted.table.values.tobytes() == plain.table.values.tobytes()


def test_one_page_at_a_time_equals_the_batch_for_short_and_long_pages():
    pages = _page_soup(9, 120)
    pages += ["\n".join([TITLE, *BODY] * 30), "\n".join(BODY * 40 + [TITLE])]  # past DIRECT_LINES
    assert max(p.count("\n") for p in pages) > Dedup.DIRECT_LINES
    for opts in ({}, {"min_chars": 20}, {"across": False}):
        one, many = Dedup(**opts), Dedup(**opts)
        expected = [Document(f"d{n}", text=t) for n, t in enumerate(pages)]
        for doc in expected:
            one.apply(doc)
        got = _in_batches(many, pages)
        assert _outcome(got) == _outcome(expected), opts
        assert sum("repeats_dropped" in d.log["dedup"].info for d in got if "dedup" in d.log) >= 20


def test_has_earlier_is_exact_even_when_two_items_share_a_mix():
    group = np.array([0, 0, 1, 1, 1, 2])
    value = np.array([5, 5, 7, 9, 7, 5], dtype=np.uint64)
    assert dedup_module._has_earlier(group, value).tolist() == [False, True, False, False, True, False]
    # (0, x) and (1, y) with x ^ y = the mix of group 1: one mix for two different items
    spread = int(dedup_module._GROUP_SPREAD)
    group = np.array([1, 0, 1])
    value = np.array([3, 3 ^ spread, 3], dtype=np.uint64)
    assert dedup_module._has_earlier(group, value).tolist() == [False, False, True]
