"""The boilerplate stage: named rules, position, blocks, corpus line statistics, metadata."""
from __future__ import annotations

import doctest
import json

import pytest

from cleancorp import linestats
from cleancorp.document import Document
from cleancorp.evaluation import boilerplate_set
from cleancorp.linestats import LineStats, line_key
from cleancorp.stages import boilerplate
from cleancorp.stages.boilerplate import Boilerplate

from conftest import FIXTURES, run_cli

BODY = [
    "今年以来，全区坚持稳中求进工作总基调，经济运行总体平稳、稳中有进。",
    "全年地区生产总值增长百分之六点五，一般公共预算收入增长百分之八。",
    "城乡居民收入稳步增加，就业形势总体稳定，社会事业全面进步。",
    "我们深刻认识到，发展不平衡不充分的问题仍然突出，必须下大力气加以解决。",
    "新的一年，我们将继续深化改革、扩大开放，推动经济社会高质量发展。",
]


def clean(text: str, **options) -> tuple[str, list[tuple[str, str]], Document]:
    doc = Document("t", text=text)
    Boilerplate(**options).apply(doc)
    rec = doc.log.get("boilerplate")
    removed = [(r.rule, r.text) for r in rec.removed] if rec else []
    return doc.text, removed, doc


def test_doctests_run():
    for module in (boilerplate, linestats, boilerplate_set):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


@pytest.mark.parametrize(
    "head, rule",
    [
        ("首页 | 新闻 原创 视听 | 问政 评论", "nav-menu"),
        ("网站首页 政务公开 政务服务 政民互动 走进九龙坡", "nav-menu"),
        ("首页·要闻·时政·经济·社会·文化·评论", "nav-menu"),
        ("当前位置:首页 > 要闻", "breadcrumb"),
        ("您的位置：首页 >> 工作动态 >> 区县动态", "breadcrumb"),
        ("分享到: 微信 微博", "share"),
        ("发布时间:2023/01/29 点击量:", "source-time"),
        ("2023-12-25 06:13:40 来源:", "source-time"),
        ("来源:华龙网-重庆日报2023-12-25", "source-time"),
        ("来源：新华社", "source-time-edge"),
        ("【字号：大 中 小】【打印本页】【关闭窗口】", "nav-menu"),
        ("【打印】【关闭】", "page-widget"),
        ("无障碍", "chrome-words"),
        ("登录 | 注册", "chrome-words"),
        ("[责任编辑: 李辉]", "editor"),
        ("编辑：陈晨  审核：刘强", "editor"),
        ("记者 高晓燕", "byline"),
        ("发文字号：主席令第八十四号", "document-meta"),
    ],
)
def test_head_chrome_by_rule(head, rule):
    text, removed, _ = clean("\n".join([head, *BODY]))
    assert removed == [(rule, head)]
    assert text == "\n".join(BODY)


@pytest.mark.parametrize(
    "tail, rule",
    [
        ("版权所有 某某日报社 未经授权不得转载", "copyright"),
        ("渝ICP备05003125号", "copyright"),
        ("ICP备案号：鄂ICP备59203983号-2", "copyright"),
        ("渝公网安备 50010702500123号", "copyright"),
        ("Copyright © 1996-2024 SINA Corporation, All Rights Reserved", "copyright"),
        ("未经本网授权,不得转载、摘编或利用其它方式使用。", "copyright-notice"),
        ("免责声明：本文内容由企业提供，不代表本站观点。", "copyright-notice"),
        ("联系方式:重庆华龙网集团股份有限公司 咨询电话:60367951", "contact"),
        ("主办：九龙坡区人民政府办公室  承办：九龙坡区大数据应用发展管理局", "contact"),
        ("发言请遵守新闻跟帖服务协议", "comment-prompt"),
        ("关闭", "chrome-words"),
        ("上一篇：全区召开优化营商环境工作推进会", "page-widget"),
    ],
)
def test_tail_chrome_by_rule(tail, rule):
    text, removed, _ = clean("\n".join([*BODY, tail]))
    assert removed == [(rule, tail)]
    assert text == "\n".join(BODY)


HARD_NEGATIVES = [
    "要加强知识产权保护,严厉打击侵犯版权等违法行为。",
    "ICP备案制度实施以来，对规范互联网信息服务发挥了重要作用。",
    "这本书的版权所有人已经授权出版社再版。",
    "记者在首页看到，新上线的便民服务专区已经收到上千条留言。",
    "分享会上,几位青年代表讲述了扎根基层的故事。",
    "一、坚持党的领导",
    "（二）完善基层治理体系",
    "编辑部的同志们连夜赶稿，确保报纸按时付印。",
    "来源于群众的智慧，最终还要回到群众中去。",
    "会议结束后，他关闭了电脑。",
    "2023年1月29日，全市第一场招聘会在会展中心举行。",
    "市民可拨打12345热线反映问题，电话会在24小时内得到回复。",
    "难道我们能满足于已有的成绩吗？",
    "“发展是第一要务。”他说。",
    "粮食、蔬菜、水果、肉类等主要农产品供应充足。",
    "这部作品的版权归作者本人所有，出版社只获得了五年的专有出版权。",
    "资金来源：一是财政拨款，二是社会捐助。",
    "结语",
    "2023年1月29日",
    "来源：",
    "奋进新征程 建功新时代 谱写新篇章 展现新作为",
]


@pytest.mark.parametrize("line", HARD_NEGATIVES)
def test_content_mentioning_chrome_words_stays_mid_body(line):
    page = [*BODY, line, *BODY]
    text, removed, _ = clean("\n".join(page))
    assert removed == [] and text == "\n".join(page)


@pytest.mark.parametrize("line", HARD_NEGATIVES[:17] + HARD_NEGATIVES[-1:])
def test_sentences_mentioning_chrome_words_stay_at_the_edges(line):
    page = [line, *BODY, line]
    text, removed, _ = clean("\n".join(page))
    assert removed == [] and text == "\n".join(page)


def test_chrome_block_inside_the_page_goes_as_a_block():
    # A second copy of the page header between two copies of the article (as scrapers save it).
    chrome = ["无障碍", "• 站内", "站内", "分享", "新浪微博", "2023-12-25 06:13:40 来源:"]
    page = BODY + chrome + BODY
    text, removed, _ = clean("\n".join(page))
    assert [t for _, t in removed] == [c.strip() for c in chrome]
    assert text == "\n".join(BODY + BODY)


def test_related_block_in_the_tail_goes_with_its_marker():
    tail = ["新闻回顾", "全市重点项目建设提速 2023-12-20", "一季度经济运行开局良好", "关闭"]
    text, removed, _ = clean("\n".join(BODY + tail))
    assert removed[0] == ("related-list", "新闻回顾") and [t for _, t in removed] == tail
    assert text == "\n".join(BODY)


def test_related_block_after_a_short_body():
    # The marker sits before the middle of the page but after the last body paragraph.
    page = ["首页  新闻  社会  体育", BODY[0], BODY[1], "热点推荐", "南湖城市更新工作座谈会圆满落幕",
            "东海招商引资签约仪式圆满落幕", "网友评论", "返回顶部", "版权声明：", "渝ICP备39265312号-1",
            "互联网新闻信息服务许可证：29851344319"]
    text, removed, _ = clean("\n".join(page))
    assert text == "\n".join(BODY[:2])
    assert [r for r, _ in removed][1:4] == ["related-list"] * 3


def test_related_marker_at_the_head_takes_nothing_along():
    page = ["新闻回顾", "一场主题为“玉兔闹春迎新岁”的活动在社区举行", *BODY]
    text, _, _ = clean("\n".join(page))
    assert text.split("\n")[-len(BODY) - 1:] == page[1:]


@pytest.mark.parametrize(
    "line, fields",
    [
        ("记者 高晓燕", {"author": "高晓燕"}),
        ("本报记者 张丽 王洋", {"author": "张丽 王洋"}),
        ("发布时间：2023/01/29 点击量：", {"published": "2023/01/29"}),
        ("稿件来源：四川日报  发布日期：2021-06-10", {"source": "四川日报", "published": "2021-06-10"}),
        ("编辑：陈晨  审核：刘强", {"editor": "陈晨"}),
    ],
)
def test_metadata_values_of_one_line(line, fields):
    _, removed, doc = clean("\n".join([*BODY, line]))
    assert [t for _, t in removed] == [line]
    assert doc.metadata["boilerplate_meta"] == fields


def test_metadata_lines_become_fields():
    page = ["来源:新华社 2024-03-05 10:21", "作者：张三", *BODY, "[责任编辑: 李辉]"]
    text, _, doc = clean("\n".join(page))
    assert text == "\n".join(BODY)
    assert doc.metadata["boilerplate_meta"] == {
        "source": "新华社",
        "published": "2024-03-05 10:21",
        "author": "张三",
        "editor": "李辉",
    }


# -- safety on clean text ---------------------------------------------------------------------


def _clean_files(shared_dir=None):
    paths = sorted((FIXTURES / "clean").glob("*.txt"))
    if shared_dir is not None:
        paths += sorted((shared_dir / "corpora" / "zh-clean").glob("*.txt"))
    return paths


def _removed_from(paths, chunk: int) -> list[str]:
    stage = Boilerplate()
    out = []
    for path in paths:
        lines = path.read_text(encoding="utf-8").split("\n")
        docs = [lines] if not chunk else [lines[i:i + chunk] for i in range(0, len(lines), chunk)]
        for part in docs:
            doc = Document(path.name, text="\n".join(part))
            stage.apply(doc)
            if "boilerplate" in doc.log:
                out += [f"{path.name}: {r.rule}: {r.text}" for r in doc.log["boilerplate"].removed]
    return out


@pytest.mark.parametrize("chunk", [0, 30, 10])
def test_clean_sample_loses_no_line(chunk):
    assert _removed_from(_clean_files(), chunk) == []


@pytest.mark.parametrize("chunk", [0, 30])
def test_clean_corpora_lose_no_line(shared, chunk):
    assert _removed_from(_clean_files(shared), chunk) == []


def test_body_lines_cost_no_rule_matching(monkeypatch):
    # Work bound, not wall time: a clean sentence meets no rule, only one keyword scan.
    calls = []
    original = boilerplate.first_rule

    def counting(rules, line, in_edge, heading, vocab):
        calls.append(line)
        return original(rules, line, in_edge, heading, vocab)

    monkeypatch.setattr(boilerplate, "first_rule", counting)
    text = (FIXTURES / "clean" / "gov-work-reports.txt").read_text(encoding="utf-8")
    lines = [ln for ln in text.split("\n") if ln]
    stage = Boilerplate()
    stage.apply(Document("g", text=text))
    sentences = [ln for ln in lines if boilerplate._SENTENCE_PUNCT.search(ln)]
    assert len(sentences) > 200
    tried = [ln for ln in calls if boilerplate._SENTENCE_PUNCT.search(ln)]
    assert all(stage.keywords.search(ln) for ln in tried)
    with_keyword = [ln for ln in sentences if stage.keywords.search(ln)]
    assert 0 < len(with_keyword) < 0.2 * len(sentences)
    assert len(tried) <= len(with_keyword)
    assert len(calls) <= 2 * (len(lines) - len(sentences)) + 2 * len(tried)


def test_sample_page_a_body_unchanged(shared):
    text = (shared / "samples" / "page-a.txt").read_text(encoding="utf-8")
    out, removed, _ = clean(text)
    assert [t for _, t in removed] in ([], ["记者 高晓燕"])  # only the byline is open to judgement
    kept = [ln for ln in text.split("\n") if ln.strip() != "记者 高晓燕"]
    assert out.split("\n") == kept


def test_sample_page_b_chrome_removed(shared):
    text = (shared / "samples" / "page-b.txt").read_text(encoding="utf-8")
    out, removed, _ = clean(text)
    gone = {t for _, t in removed}
    for chrome in ["来源:华龙网-重庆日报2023-12-25", "无障碍", "站内", "分享", "新浪微博", "2023-12-25 06:13:40 来源:", "[责任编辑: 李辉]",
                   "发言请遵守新闻跟帖服务协议", "精彩视频", "版权声明:", "关闭"]:
        assert chrome in gone, chrome
    assert any(t.startswith("首页 | 新闻 原创 视听") for t in gone)
    assert sum(t[:1] in "①②③" for t in gone) == 3
    assert any(t.startswith("附:重庆日报报业集团14报1刊") for t in gone)
    # every removed line is short chrome or footer text; the article's paragraphs all stay
    assert len(removed) <= 20
    assert "凡是过往,皆为序章。让我们驰而不息、分秒必争,继续一起干、一起闯!" in out


# -- the labelled set -------------------------------------------------------------------------


def test_labelled_set_scores():
    pages = boilerplate_set.load_pages(FIXTURES / "boilerplate")
    assert len(pages) >= 40 and len({p.template for p in pages}) >= 10
    score = boilerplate_set.score_pages(pages)
    total = score.all_counts
    assert total.content_kept_share >= 0.99, boilerplate_set.format_score(score)
    assert total.chrome_removed_share >= 0.95, boilerplate_set.format_score(score)
    assert total.removal_precision >= 0.99
    report = boilerplate_set.format_score(score).splitlines()
    assert sum(line.split()[0] in {p.template for p in pages} for line in report[2:]) == len(score.per_template)
    assert any(line.startswith("ALL ") for line in report)


def test_scorer_lists_the_misses():
    pages = [boilerplate_set.LabelledPage("t-1", "t", [("B", "某某网站"), ("C", BODY[0]), ("C", "关闭"), ("C", BODY[1])])]
    score = boilerplate_set.score_pages(pages, Boilerplate(line_stats_min_docs=0))
    c = score.all_counts
    assert (c.content, c.content_kept, c.chrome, c.chrome_removed) == (3, 2, 1, 0)
    assert c.removal_precision == 0.0
    report = boilerplate_set.format_score(score)
    assert "content removed (1):\n  t-1:3 [chrome-words] 关闭" in report
    assert report.endswith("chrome kept (1):\n  t-1:1 某某网站")


def test_labelled_set_format_errors_are_one_line(tmp_path):
    (tmp_path / "bad-1.tsv").write_text("X\t首页\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad-1.tsv:1: want C<TAB>text"):
        boilerplate_set.load_pages(tmp_path)


# -- corpus line statistics -------------------------------------------------------------------

SITE_HEAD = ["九龙坡发布", "山水之城 美丽之地"]  # a site's own header: no rule names it


def _site_page(n: int) -> str:
    body = [f"第{n}篇报道：{BODY[n % len(BODY)]}", *BODY[:2]]
    return "\n".join([*SITE_HEAD, *body])


def test_no_rule_names_the_site_header():
    _, removed, _ = clean(_site_page(0), line_stats_min_docs=0)
    assert removed == []


def test_line_stats_remove_a_site_menu_no_rule_names():
    stage = Boilerplate(line_stats_min_docs=5)
    results = []
    for n in range(8):
        doc = Document(f"p{n}", text=_site_page(n))
        stage.apply(doc)
        rec = doc.log.get("boilerplate")
        results.append(sorted(r.text for r in rec.removed) if rec else [])
        if rec:
            assert {r.rule for r in rec.removed} == {"line-stats"}
            assert rec.info["line_stats_documents"] == {line: n + 1 for line in SITE_HEAD}
    # the run streams: the first four pages keep the header, from the fifth on it is chrome
    assert results == [[]] * 4 + [sorted(SITE_HEAD)] * 4


def test_line_stats_leave_repeated_body_paragraphs_to_dedup():
    stage = Boilerplate(line_stats_min_docs=3)
    for n in range(6):
        doc = Document(f"p{n}", text="\n".join(BODY))
        stage.apply(doc)
        assert doc.text == "\n".join(BODY)


def test_line_stats_saved_then_applied_to_every_document(tmp_path):
    path = str(tmp_path / "stats.bin")
    first = Boilerplate(line_stats=path, line_stats_min_docs=5)
    for n in range(6):
        first.apply(Document(f"p{n}", text=_site_page(n)))
    first.close()
    second = Boilerplate(line_stats=path, line_stats_min_docs=5)
    doc = Document("p0", text=_site_page(0))
    second.apply(doc)
    assert [r.rule for r in doc.log["boilerplate"].removed] == ["line-stats", "line-stats"]
    # a loaded sketch is read, not counted into: one more pass changes nothing on disk
    before = open(path, "rb").read()
    second.close()
    assert open(path, "rb").read() == before


def test_line_stats_file_errors(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"not a sketch")
    with pytest.raises(ValueError, match="not a cleancorp line-stats file"):
        Boilerplate(line_stats=str(bad))


def test_sketch_is_bounded_and_never_undercounts():
    stats = LineStats(width=1 << 10, depth=4)
    assert stats.nbytes == 8 * 1024
    for n in range(300):
        stats.add_document([line_key(f"行{n}"), line_key("网站地图"), line_key(f"行{n}")])
    assert stats.count(line_key("网站地图")) == 300
    assert all(stats.count(line_key(f"行{n}")) >= 1 for n in range(300))
    assert stats.documents == 300


# -- CLI: --keep-meta, --rules, --report, --explain ---------------------------------------------


def test_cli_keep_meta_adds_fields_without_overwriting(tmp_path):
    page = "\n".join(["来源:新华社 2024-03-05 10:21", *BODY, "[责任编辑: 李辉]"])
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": page, "source": "crawl-7"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = run_cli("--format", "jsonl", "--keep-meta", "--stages", "boilerplate", str(src))
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["text"] == "\n".join(BODY)
    assert obj["source"] == "crawl-7"  # an existing field is never overwritten
    assert obj["published"] == "2024-03-05 10:21" and obj["editor"] == "李辉"
    r = run_cli("--format", "jsonl", "--stages", "boilerplate", str(src))
    assert "editor" not in json.loads(r.stdout)


def test_cli_rules_file_replaces_builtin_rules(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nname = "site-slogan"\npatterns = ["^山水之城"]\nmax_len = 20\n', encoding="utf-8")
    page = "\n".join(["首页 | 新闻 | 视听 | 评论 | 专题", "山水之城 美丽之地", *BODY])
    r = run_cli("--stages", "boilerplate", "--rules", str(rules), "--explain", stdin=page.encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "\n".join(["首页 | 新闻 | 视听 | 评论 | 专题", *BODY]) + "\n"
    assert "boilerplate/site-slogan line 2: removed '山水之城 美丽之地'" in r.stderr.decode()


@pytest.mark.parametrize(
    "content, message",
    [
        ("[[rule]\n", "not valid TOML"),
        ('[[rule]]\nname = "x"\npatterns = ["("]\n', "bad pattern"),
        ('[[rule]]\npatterns = ["a"]\n', "has no 'name'"),
    ],
)
def test_cli_bad_rules_file_is_a_one_line_error(tmp_path, content, message):
    rules = tmp_path / "rules.toml"
    rules.write_text(content, encoding="utf-8")
    r = run_cli("--stages", "boilerplate", "--rules", str(rules), stdin="正文。".encode())
    err = r.stderr.decode()
    assert r.returncode == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_missing_rules_file(tmp_path):
    r = run_cli("--rules", str(tmp_path / "none.toml"), stdin="正文。".encode())
    assert r.returncode == 2 and b"No such file" in r.stderr and b"Traceback" not in r.stderr


def test_cli_report_lists_every_removed_line_with_its_rule(tmp_path):
    page = "\n".join(["当前位置:首页 > 要闻", *BODY, "渝ICP备05003125号"])
    report = tmp_path / "r.jsonl"
    r = run_cli("--stages", "boilerplate", "--report", str(report), stdin=page.encode())
    assert r.returncode == 0, r.stderr
    line = json.loads(report.read_text(encoding="utf-8"))
    assert line["stages"]["boilerplate"]["removed"] == [
        {"text": "当前位置:首页 > 要闻", "rule": "breadcrumb", "line": 1},
        {"text": "渝ICP备05003125号", "rule": "copyright", "line": 7},
    ]



def test_remembered_verdicts_match_a_fresh_look(monkeypatch):
    # A site's chrome lines recur on every page: each distinct line is judged once, and the
    # remembered verdict is the one a stage that remembers nothing gives.
    page = (FIXTURES / "boilerplate" / "commercial-portal-1.tsv").read_text(encoding="utf-8")
    text = "\n".join(ln.split("\t", 1)[-1] for ln in page.split("\n"))
    calls = []
    original = boilerplate.first_rule

    def counting(rules, line, in_edge, heading, vocab):
        calls.append((line, in_edge))
        return original(rules, line, in_edge, heading, vocab)

    monkeypatch.setattr(boilerplate, "first_rule", counting)
    stage = Boilerplate(line_stats_min_docs=0)
    outs = []
    for n in range(3):
        doc = Document(str(n), text=text)
        stage.apply(doc)
        outs.append((doc.text, [(r.rule, r.text) for r in doc.log["boilerplate"].removed]))
    assert len(calls) == len(set(calls)) > 10  # the second and third page asked nothing anew
    fresh = Document("f", text=text)
    Boilerplate(line_stats_min_docs=0).apply(fresh)
    assert outs[0] == outs[1] == outs[2] == (fresh.text, [(r.rule, r.text) for r in fresh.log["boilerplate"].removed])


def test_remembered_verdicts_are_bounded(monkeypatch):
    monkeypatch.setattr(boilerplate, "_MEMO_LINES", 4)
    stage = Boilerplate(line_stats_min_docs=0)
    for n in range(10):
        stage.classify([f"栏目{n} | 首页 | 新闻 | 视频", "关闭"])
        assert len(stage._memo_plain) <= 4 and len(stage._memo_any) <= 4
    assert stage.classify(["当前位置：首页 > 要闻"])[0][0] == "breadcrumb"
    long_menu = " | ".join(["首页", "新闻"] * 30)  # 297 characters
    assert stage.classify([long_menu])[0][0] == "nav-menu" and long_menu not in stage._memo_plain
    for n in range(10):  # sentences that hold a keyword are remembered in their own table
        stage.classify([f"本文来源：第{n}版，转载请注明。"])
        assert len(stage._memo_any) <= 4
    assert stage._memo_any


def test_prepare_then_decide_equals_apply():
    """The split the corpus command and the dask engine use: ``prepare`` on each page wherever
    it runs, ``decide`` in input order, gives the text, report and metadata of ``apply``, also
    when the statistics remove a line the rules kept (the page is put back together), on a page
    that also lost source and editor lines to the rules."""
    pages = []
    for n in range(14):
        lines = [*SITE_HEAD, f"第{n}篇报道：{BODY[n % len(BODY)]}", *BODY[:2], "来源：人民网  2016-07-07 10:06", "[责任编辑: 李辉]"]
        if n % 3 == 0:
            lines.insert(1, "   ")  # blank lines keep their place
        pages.append("\n".join(lines))
    pages.append("\n".join(SITE_HEAD))  # nothing but the site's header: empty once it goes
    pages.append("")
    whole, split = Boilerplate(line_stats_min_docs=5), Boilerplate(line_stats_min_docs=5)
    prepared = []
    for n, text in enumerate(pages):
        doc = Document(f"p{n}", text=text)
        prepared.append((doc, split.prepare(doc)))
    changed = 0
    for n, (doc, found) in enumerate(prepared):
        ref = Document(f"p{n}", text=pages[n])
        whole.apply(ref)
        changed += split.decide(doc, found)
        assert (doc.text, doc.report(), doc.metadata) == (ref.text, ref.report(), ref.metadata), n
    assert changed == len(pages) - 4 - 1  # from the fifth page on; the empty page is not counted
    assert split._stats.documents == whole._stats.documents == len(pages) - 1
