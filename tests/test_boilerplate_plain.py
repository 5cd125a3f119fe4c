"""The per-page shortcuts of the boilerplate stage give what the plain reading gives.

The stage tests sentence punctuation with string searches, looks for the sentence keywords
in a page's sentences joined into one string, and remembers, per distinct short line, its
verdict, its "related articles" marker and its statistics key. The plain reading below scans
each line with the punctuation regex and the keyword regex and remembers nothing; both must
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


def _pages() -> list[str]:
    pages = _variants(_fixture_pages())
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
