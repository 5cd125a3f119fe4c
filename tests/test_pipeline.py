"""The pipeline core: documents, registry, chains from defaults/config/flags, streaming, stats."""
from __future__ import annotations

import pytest

import cleancorp
from cleancorp import Document, OptionError, Pipeline, Stage, register
from cleancorp.pipeline import BATCH_BYTES, BATCH_DOCS, DEFAULT_CHAIN


def test_default_chain_order():
    assert DEFAULT_CHAIN == ("decode", "repair", "convert", "normalize", "boilerplate", "dedup")
    assert Pipeline().stage_names == list(DEFAULT_CHAIN)
    # Repair must run before conversion.
    assert DEFAULT_CHAIN.index("repair") < DEFAULT_CHAIN.index("convert")


def test_every_stage_registered_with_docstring_example():
    for name in cleancorp.stage_names():
        cls = cleancorp.registry.get_stage_class(name)
        assert cls.summary, name
        module_doc = __import__(cls.__module__, fromlist=["_"]).__doc__
        assert ">>>" in module_doc, f"{name} module docstring shows no example"


def test_unknown_stage_and_option_are_errors():
    with pytest.raises(OptionError, match="unknown stage 'nope'"):
        Pipeline(["decode", "nope"])
    with pytest.raises(OptionError, match="has no option colour"):
        Pipeline(["convert"], {"convert": {"colour": "red"}})
    with pytest.raises(OptionError, match="profile must be one of"):
        Pipeline(["convert"], {"convert": {"profile": "x2y"}})


def test_skip_and_options():
    p = Pipeline(skip=["convert", "dedup"])
    assert p.stage_names == ["decode", "repair", "normalize", "boilerplate"]
    p = Pipeline(["convert"], {"convert": {"profile": "none"}})
    assert next(p.run(["中國"])).text == "中國"


def test_config_file(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('stages = ["convert", "normalize"]\nskip = ["normalize"]\n[convert]\nprofile = "none"\n', encoding="utf-8")
    p = Pipeline.from_config(cfg)
    assert p.stage_names == ["convert"]
    assert p.stage("convert").profile == "none"
    # explicit options override the file
    p = Pipeline.from_config(cfg, options={"convert": {"profile": "t2s"}})
    assert p.stage("convert").profile == "t2s"
    bad = tmp_path / "bad.toml"
    bad.write_text("stages = [", encoding="utf-8")
    with pytest.raises(OptionError, match="not valid TOML"):
        Pipeline.from_config(bad)


def test_run_streams_lazily():
    seen = []

    def source():
        for i in range(1000):
            seen.append(i)
            yield f"第{i}段文字。"

    p = Pipeline(["normalize"])
    it = p.run(source())
    first = next(it)
    assert first.text == "第0段文字。"
    # read ahead by one batch at most: memory does not grow with the input
    assert len(seen) == BATCH_DOCS
    seen.clear()
    it = Pipeline(["normalize"]).run(source(), batch=1)
    assert next(it).text == "第0段文字。" and len(seen) == 1


def test_inputs_of_every_kind():
    p = Pipeline(["decode", "normalize"])
    docs = list(p.run(["文字", "文字".encode("gbk"), {"id": "x", "text": "文字", "url": "u"}, Document("d", text="文字")]))
    assert [d.text for d in docs] == ["文字"] * 4
    assert docs[2].id == "x" and docs[2].metadata["url"] == "u"
    with pytest.raises(TypeError):
        p.process(42)


def test_drops_are_counted_and_reported():
    p = Pipeline(["dedup"])
    text = "一段足够长的正文内容，用来检查整篇文档的重复。"
    docs = list(p.run([text, text, "   "], keep_dropped=True))
    assert [d.dropped for d in docs] == [None, "duplicate", "empty"]
    assert docs[1].report()["stages"]["dedup"]["duplicate_of"] == docs[0].id
    summary = p.summary()
    assert summary["docs_in"] == 3 and summary["docs_out"] == 1
    assert summary["dropped"] == {"duplicate": 1, "empty": 1}
    st = summary["stages"][0]
    assert st["docs_in"] == 3 and st["docs_out"] == 2 and st["docs_dropped"] == 1
    assert "dedup" in p.format_summary()


def test_stage_counters():
    p = Pipeline(["boilerplate"])
    list(p.run(["首页 | 新闻 | 视听 | 评论 | 专题\n正文内容在这里。"]))
    (stats,) = p.stats
    assert stats.lines_removed == 1 and stats.docs_changed == 1 and stats.seconds > 0


def test_custom_stage_plugs_in():
    @register
    class Shout(Stage):
        name = "test-shout"
        summary = "upper-case Latin letters"

        def __init__(self, suffix: str = "") -> None:
            self.suffix = suffix

        def apply(self, doc):
            doc.text = doc.text.upper() + self.suffix

    p = Pipeline(["normalize", "test-shout"], {"test-shout": {"suffix": "!"}})
    assert next(p.run(["abc"])).text == "ABC!"


def test_clean_api():
    assert cleancorp.clean("中國".encode("big5")) == "中国"
    assert cleancorp.clean("中國", convert="none") == "中國"
    assert cleancorp.clean("  ") == ""
    assert cleancorp.clean("甲\n\n乙", normalize={"blank_lines": "keep"}) == "甲\n\n乙"
    with pytest.raises(cleancorp.RejectedInput, match="binary"):
        cleancorp.clean(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(TypeError):
        cleancorp.clean("x", colour="red")


# -- documents between processes, blank results ------------------------------------------


def test_documents_and_records_survive_pickling():
    # Worker processes send documents back and forth.
    import pickle

    doc = Document("p", text="甲", metadata={"source": "x"})
    doc.record("boilerplate").remove("首页 | 新闻", "menu", 1)
    doc.record("repair").change("ftfy", "a", "b")
    back = pickle.loads(pickle.dumps(doc))
    assert back == doc and back.report() == doc.report()


def test_blank_text_is_dropped_as_empty():
    p = Pipeline(["convert"])
    docs = [p.process(t) for t in (" \u3000\n\t", "", "甲")]
    assert [d.dropped for d in docs] == ["empty", "empty", None]


# -- batches ------------------------------------------------------------------------------------


def _mixed_items(seed: int = 11) -> list[Document]:
    """Fresh documents of every kind the chain treats apart: exact and near copies, pages holding
    their article twice, site chrome only the line statistics know, empties, a chrome-only page,
    GBK bytes (one a copy of an earlier text) and a binary input."""
    import random

    from cleancorp.evaluation.dedup_set import cross_corpus, page_corpus

    rng = random.Random(seed)
    texts: list[str | bytes] = [d.text for d in cross_corpus(seed=seed, originals=30)]
    texts += [d.text for d in page_corpus(seed=seed, pages=15)]
    for n in range(12):  # a masthead and a footer line no rule names, on twelve pages
        texts.insert(rng.randrange(len(texts)), f"江南晚报数字版\n第{n}版消息，全区经济社会发展呈现稳中有进的良好态势，各项工作扎实推进。\n江南晚报社主办")
    extras: list[str | bytes] = ["", "   \n\u3000", "首页 | 新闻 | 视听 | 评论 | 专题", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x00IHDR"]
    extras += [str(texts[3]).encode("gbk", "replace"), str(texts[40]).encode("gbk", "replace")]
    for item in extras:
        texts.insert(rng.randrange(5, len(texts)), item)
    docs = []
    for n, item in enumerate(texts):
        if isinstance(item, bytes):
            docs.append(Document(f"m{n}", raw=item, metadata={"source": f"s{n}"}))
        else:
            docs.append(Document(f"m{n}", text=item, metadata={"source": f"s{n}"}))
    return docs


def _outcome(docs):
    return [(d.id, d.text, d.dropped, d.dropped_by, d.rejected, d.metadata, d.report()) for d in docs]


def _counters(p: Pipeline):
    summary = p.summary()
    for stage in summary["stages"]:
        stage.pop("seconds")
    return summary


@pytest.mark.parametrize("batch", [64, 7])
def test_batches_give_what_one_at_a_time_gives(batch, monkeypatch):
    one = Pipeline()
    expected = [one.process(d) for d in _mixed_items()]
    calls = []
    dedup_cls = type(one.stage("dedup"))
    real = dedup_cls.apply_batch
    monkeypatch.setattr(dedup_cls, "apply_batch", lambda self, docs: (calls.append(len(docs)), real(self, docs))[1])
    many = Pipeline()
    got = list(many.run(_mixed_items(), keep_dropped=True, batch=batch))
    assert _outcome(got) == _outcome(expected)
    assert _counters(many) == _counters(one)
    # the batches did reach the stage, and the corpus holds what it is meant to test
    assert calls and max(calls) == batch and sum(calls) >= len(got) - 10
    reasons = [d.dropped for d in got]
    assert reasons.count("duplicate") >= 10 and reasons.count("empty") >= 3 and any(d.rejected for d in got)
    assert any("repeats_dropped" in d.log.get("dedup", {}).info for d in got if "dedup" in d.log)
    assert sum("line_stats_documents" in d.log["boilerplate"].info for d in got if "boilerplate" in d.log) >= 3
    assert all(st["docs_in"] > 0 for st in _counters(many)["stages"])


def test_huge_document_is_a_batch_of_its_own():
    small = [f"第{i}篇：全区经济社会发展呈现稳中有进的良好态势，各项工作扎实推进。" for i in range(10)]
    huge = "\n".join(f"全会充分肯定一年来全区贯彻落实重要讲话精神的工作，部署明年任务，见第{i}号文件。" for i in range(30_000))
    assert len(huge) > BATCH_BYTES
    items = small[:5] + [huge] + small[5:] + [huge]
    p = Pipeline(["normalize", "boilerplate", "dedup"])
    assert [len(b) for b in p.batches(items)] == [5, 1, 5, 1]
    assert [len(b) for b in p.batches(items, size=3)] == [3, 2, 1, 3, 2, 1]
    one = Pipeline(["normalize", "boilerplate", "dedup"])
    expected = [one.process(x) for x in items]
    got = list(Pipeline(["normalize", "boilerplate", "dedup"]).run(items, keep_dropped=True))
    assert [(d.text, d.dropped) for d in got] == [(d.text, d.dropped) for d in expected]
    assert got[-1].dropped == "duplicate" and got[5].text == huge


def test_documents_before_a_bad_item_still_come_out():
    out = []
    with pytest.raises(TypeError, match="cannot clean a int"):
        for doc in Pipeline(["normalize"]).run(["甲", "乙", 42, "丙"]):
            out.append(doc.text)
    assert out == ["甲", "乙"]


def test_cli_jsonl_in_batches_matches_one_at_a_time(tmp_path):
    import json

    from conftest import run_cli

    docs = _mixed_items(seed=12)
    lines, records = [], []
    for n, d in enumerate(docs):
        if d.raw is not None:
            continue  # JSONL carries text
        rec = {"id": d.id, "text": d.text, "n": n}
        records.append(rec)
        lines.append(json.dumps(rec, ensure_ascii=False))
        if n % 37 == 5:
            lines.append("{broken")  # reported in its place, between the documents
    data = ("\n".join(lines) + "\n").encode("utf-8")
    report = tmp_path / "r.jsonl"
    r = run_cli("--format", "jsonl", "--report", str(report), stdin=data)
    assert r.returncode == 1 and b"Traceback" not in r.stderr
    one = Pipeline()
    expected_out, expected_ids = [], []
    line_no = 0
    for line in lines:
        line_no += 1
        if line == "{broken":
            expected_ids.append((f"<stdin>:{line_no}", False))
            continue
        rec = json.loads(line)
        doc = one.process(Document(rec["id"], text=rec["text"], metadata={"source": f"<stdin>:{line_no}"}))
        expected_ids.append((doc.id, doc.kept))
        if doc.kept:
            expected_out.append(dict(rec, text=doc.text))
    assert [json.loads(x) for x in r.stdout.decode().splitlines()] == expected_out
    rep = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
    assert [(x["id"], x["kept"]) for x in rep] == expected_ids
    assert len(r.stderr.decode().splitlines()) == lines.count("{broken") >= 3
    assert sum(not k for _, k in expected_ids) >= 10


def test_warm_up_loads_what_the_first_dirty_pages_would():
    """Building a chain loads no model (a one-page run on clean text never needs one); after
    ``Pipeline.warm_up`` (called before forking workers), pages that need the models and
    dictionaries load nothing more: the tables were built once, to be shared."""
    import subprocess
    import sys

    script = r'''
import cleancorp.stages.convert as convert
import cleancorp.stages.decode as decode
from cleancorp import charmodel
from cleancorp.pipeline import Pipeline

from cleancorp import minhash
from cleancorp.fixes import artefacts, cjk_mojibake, phase_shift, pinyin

loaders = [charmodel.load, decode.char_model, convert._screen, convert._class_table, cjk_mojibake._screen,
           pinyin.readings, artefacts.question_words, minhash.key_table]
p = Pipeline()
assert charmodel.load.cache_info().misses == 0  # building the chain loads no model
p.warm_up()
before = [f.cache_info().misses for f in loaders]
assert all(before), before
ceilings = dict(phase_shift._pair_ceilings)
assert ceilings
pages = [
    "重庆日报讯 全会审议通过了决议。".encode("gbk") * 40,
    "中國共產黨大渡口區委員會召開全會，會議審議通過了決議。".encode("big5") * 20,
    "閲嶅簡鏃ユ姤璁拌€呬粖澶╀粠甯傛斂搴滆幏鎮夛紝".encode("utf-8"),
    "區(qū)委全會強調，要堅(jiān)持穩中求進工作總基調。".encode("utf-8"),
    "????全会由区委常委会主持，区委书记讲话。\n?指出新时代的要求。".encode("utf-8"),
]
for doc in p.run(pages):
    pass
after = [f.cache_info().misses for f in loaders]
assert after == before, (before, after)
assert phase_shift._pair_ceilings == ceilings
print("ok")
'''
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
