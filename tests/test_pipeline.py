"""The pipeline core: documents, registry, chains from defaults/config/flags, streaming, stats."""
from __future__ import annotations

import pytest

import cleancorp
from cleancorp import Document, OptionError, Pipeline, Stage, register
from cleancorp.pipeline import DEFAULT_CHAIN


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
    assert len(seen) == 1  # nothing read ahead: memory does not grow with the input


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
