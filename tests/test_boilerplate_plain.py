"""The per-page shortcuts of the boilerplate stage give what the plain reading gives.

The stage tests sentence punctuation with string searches (and not at all in a plain line it
remembers), looks for the sentence keywords in a page's sentences joined into one string,
leaves the sentences too long for a rule safe anywhere to the places the layout asks about
them, and remembers, per distinct short line, its verdict, its "related articles" marker and
its statistics key. The plain reading below scans each line with the punctuation regex and
the keyword regex and remembers nothing; both must
leave the same text, report and metadata, through ``apply`` and through ``prepare`` then
``decide``, with the line statistics off and on.
"""
from __future__ import annotations

import pytest

from cleancorp.document import Document
from cleancorp.stages.boilerplate import _SENTENCE_PUNCT, SENTENCE_MARKS, Boilerplate

from conftest import SHARED
from test_boilerplate_split import _fixture_pages, _outcome, _shared_pages, _variants


class _Forgetful(dict):
    """A table that keeps nothing: every line is judged afresh."""

    def __setitem__(self, key, value) -> None:
        pass


class PlainBoilerplate(Boilerplate):
    """Step 1 line by line with the regexes, and no remembered line."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._memo_any, self._memo_edge = _Forgetful(), _Forgetful()
        self._memo_related, self._memo_key, self._memo_meta = _Forgetful(), _Forgetful(), _Forgetful()
        self._memo_plain = _Forgetful()

    def _rule_verdict(self, lines):
        stripped = [line.strip() for line in lines]
        verdict = [None] * len(lines)
        nonblank = [i for i, s in enumerate(stripped) if s]
        if not nonblank:
            return verdict, stripped, None
        pending, later, special = {}, [], []
        head_body = tail_body = None
        body_min_len = self.ruleset.body_min_len
        for i in nonblank:
            s = stripped[i]
            sentence = _SENTENCE_PUNCT.search(s) is not None
            if sentence and (len(s) > self.sentence_max or self.keywords is None or self.keywords.search(s) is None):
                if len(s) >= body_min_len:
                    head_body = i if head_body is None else head_body
                    tail_body = i
                continue
            special.append(i)
            rule = self._first(s, False)
            if rule is not None:
                verdict[i] = (rule.name, {})
            elif sentence and len(s) >= body_min_len:
                pending[i] = rule = self._first(s, True)
                if rule is None:
                    head_body = i if head_body is None else head_body
                    tail_body = i
            else:
                later.append(i)
        return self._layout(stripped, nonblank, verdict, special, pending, later, head_body, tail_body)


def _through_prepare(stage: Boilerplate, pages: list[str]) -> list:
    out = []
    for n, text in enumerate(pages):
        doc = Document(str(n), text=text)
        stage.decide(doc, stage.prepare(doc))
        out.append((doc.text, doc.report(), doc.metadata))
    return out


# A footer's licence paragraph longer than any rule safe anywhere looks at (the stage defers
# such sentences and searches them only where the layout needs them), a long body sentence
# that holds a keyword but meets no rule, and lines that go with their neighbours.
LICENCE = (
    "凡本网注明“来源：某某报”的作品，均转载自其它媒体，本网转载目的在于传递更多信息，并不代表本网赞同其观点和对其真实性负责；"
    "如因作品内容、版权和其它问题需要同本网联系的，请在作品发表之日起三十日内进行，逾期本网将不再受理，敬请各位作者和读者理解与支持。"
    "本网所载文字、图片和音视频资料，除注明转载的以外，其余均为本网原创或经授权使用，任何单位和个人使用时请与本网联系并注明出处。"
)
LONG_BODY = (
    "记者在采访中了解到，这部作品的作者多年来一直扎根基层，走遍了全县所有的乡镇和村庄，收集整理了大量第一手资料，"
    "书中记录的许多故事都来自普通群众的亲身经历，读来真实感人，出版以来受到了广大读者的欢迎和好评，多次重印仍供不应求。"
    "谈到今后的打算，他说还要继续深入田间地头，把更多平凡人的不平凡故事写下来，让更多的人了解家乡这些年的发展变化。"
)
BODY = "全会由区委常委会主持，区委书记讲话。全会审议通过了决议，部署了下一阶段的重点工作任务。"
DEFERRED_PAGES = [
    [LICENCE, BODY, BODY, BODY, BODY, LICENCE],
    [BODY, BODY, "版权所有 人民网", LICENCE, "2024-03-05", BODY, BODY, BODY],
    [BODY, BODY, "2024-03-05", LICENCE, "版权所有 人民网", BODY, BODY],
    [LONG_BODY, BODY, LICENCE, BODY, LONG_BODY],
    [LICENCE, LONG_BODY, BODY, LICENCE, LONG_BODY, LICENCE],
    [LICENCE, LICENCE, "2024-03-05"],
    ["首页 | 新闻 | 视听 | 评论 | 专题", LICENCE, BODY, BODY, LICENCE, "[责任编辑: 李辉]"],
]


def _pages() -> list[str]:
    pages = _variants(_fixture_pages())
    for lines in DEFERRED_PAGES:
        pages.append("\n".join(lines))
        pages.append("\n\n".join(lines))  # blank lines between: neighbours are the nonblank ones
    # Sentences that hold a keyword (or two) in the middle, at either end, and next to other
    # sentences with and without one: the joined search must give each its own line.
    pages.append("\n".join([
        "来源：本网综合。",
        "记者从市文明办获悉，全市将开展文明上网宣传活动，倡导网民理性发言。",
        "活动由市委宣传部主办，为期一个月，覆盖全市各个社区和学校。",
        "本文不代表本站观点。",
        "联系电话：12345，地址：新区大道1号；邮编：100000。",
        "版权所有，未经授权不得转载。",
    ]))
    return pages


@pytest.mark.parametrize("stats", [0, 2])
def test_the_stage_judges_fixture_pages_as_the_plain_reading(stats):
    pages = _pages()
    plain = _outcome(PlainBoilerplate(line_stats_min_docs=stats), pages)
    assert _outcome(Boilerplate(line_stats_min_docs=stats), pages) == plain
    assert _through_prepare(Boilerplate(line_stats_min_docs=stats), pages) == plain
    removed = [r for _, report, _ in plain for r in report["stages"].get("boilerplate", {}).get("removed", [])]
    assert len(removed) > 500
    assert stats == 0 or any(r["rule"] == "line-stats" for r in removed)


def test_the_stage_judges_shared_pages_as_the_plain_reading(shared):
    pages = _variants(_shared_pages(shared))
    plain = _outcome(PlainBoilerplate(line_stats_min_docs=2), pages)
    assert _outcome(Boilerplate(line_stats_min_docs=2), pages) == plain
    assert _through_prepare(Boilerplate(line_stats_min_docs=2), pages) == plain


@pytest.mark.parametrize("mark", list(SENTENCE_MARKS))
def test_each_sentence_mark_makes_a_sentence(mark):
    # The marks are tested one by one in the page loop: each must keep a long line in the
    # body, where a line without any is chrome of the head.
    stage = Boilerplate(line_stats_min_docs=0)
    line = "首页 新闻 视听 评论 专题 图片 视频 国际 国内 社会 财经 体育" + mark
    body = "全会由区委常委会主持，区委书记讲话。全会审议通过了决议。"
    assert _SENTENCE_PUNCT.search(line)
    assert stage.classify([body, line, body]) == PlainBoilerplate(line_stats_min_docs=0).classify([body, line, body])
    assert stage.classify([body, line[:-1], body])[1] is not None


def test_joined_keyword_search_finds_the_lines_each_search_finds():
    stage = Boilerplate(line_stats_min_docs=0)
    assert stage.keywords_joinable
    for page in _pages():
        stripped = [line.strip() for line in page.split("\n")]
        checked = [i for i, s in enumerate(stripped) if s]
        expected = [i for i in checked if stage.keywords.search(stripped[i])]
        assert stage._keyword_lines(stripped, checked) == expected


def test_keywords_with_a_newline_are_searched_line_by_line(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('sentence_keywords = ["来\\n源", "转载"]\n', encoding="utf-8")
    stage = Boilerplate(rules=str(rules), line_stats_min_docs=0)
    assert not stage.keywords_joinable
    # Joined, the first two lines would hold the first word across their newline.
    stripped = ["全文，来", "源自本报记者的采访。", "欢迎转载。"]
    assert stage._keyword_lines(stripped, [0, 1, 2]) == [2]


def test_a_long_sentence_is_searched_only_where_the_layout_asks():
    # Work bound: a sentence too long for every rule safe anywhere stays out of the keyword
    # search in the middle of the body, and is searched at the page's edge.
    stage = Boilerplate(line_stats_min_docs=0)
    searched = []

    class Counting:
        def __init__(self, rx):
            self.rx = rx

        def search(self, text, *where):
            searched.append(text)
            return self.rx.search(text, *where)

    stage.keywords = Counting(stage.keywords)
    assert len(LONG_BODY) > stage.eager_max and len(LICENCE) > stage.eager_max
    middle = [BODY] * 4 + [LONG_BODY, LICENCE] + [BODY] * 4
    assert stage.classify(middle) == PlainBoilerplate(line_stats_min_docs=0).classify(middle)
    assert searched and not any(LONG_BODY in text or LICENCE in text for text in searched)
    searched.clear()
    edge = [LICENCE, *middle, LONG_BODY]
    verdict = stage.classify(edge)
    assert verdict == PlainBoilerplate(line_stats_min_docs=0).classify(edge)
    assert verdict[0][0] == "copyright-notice" and verdict[-1] is None
    assert LICENCE in searched and LONG_BODY in searched
