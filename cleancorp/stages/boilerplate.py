"""boilerplate: strip page chrome (menus, breadcrumbs, share bars, bylines, footers) line by line.

>>> from cleancorp.document import Document
>>> page = "首页 | 新闻 | 视听 | 评论 | 专题\\n全会由区委常委会主持，区委书记讲话。全会审议通过了决议。\\n[责任编辑: 李辉]"
>>> doc = Document("a", text=page)
>>> Boilerplate().apply(doc); doc.text
'全会由区委常委会主持，区委书记讲话。全会审议通过了决议。'
>>> [(r.rule, r.text) for r in doc.log["boilerplate"].removed]
[('nav-menu', '首页 | 新闻 | 视听 | 评论 | 专题'), ('editor', '[责任编辑: 李辉]')]
>>> doc.metadata["boilerplate_meta"]
{'editor': '李辉'}

How a line is judged, in the order a reader would:

1. Rules that are safe anywhere (a menu of chrome words, ``版权所有``, an ICP number, a bracketed
   editor line) run on every line; a line with sentence punctuation skips every rule unless it
   holds one of the data file's ``sentence_keywords`` (one precompiled regex, which looks
   for each word from its rarest character, run once over the page's sentences joined), so
   body text costs a string search or two per line and a share of one regex scan per page.
   A sentence longer than every rule safe anywhere allows is left out of that scan: only an
   edge rule could take it, and it is searched only where the page's layout asks (when it
   could be the first or last body paragraph, at the edge, next to removed chrome).
   A rule's patterns anchored at the line start (``^…``) are tried there only. The
   verdict on a line that meets the rules depends on the line alone and is remembered for the
   run (bounded tables): a site's menu, byline and footer lines recur on every page and are
   judged once; a line without punctuation found in the table of such lines is not even
   searched for punctuation.
2. The page's *body* runs from the first to the last body paragraph (long, with sentence
   punctuation, not removed in step 1). Lines before it (the head) and after it (the tail), and
   the first and last ``edge_lines`` lines, meet the risky rules as well: a bare date, a short
   ``来源:`` line, a contact line, the licence paragraphs of a footer. So does a line next to
   removed chrome, so that a header block inside the page goes as a block.
3. A "related articles" marker (``相关阅读``, ``新闻回顾``) in the second half or the tail of the
   page takes the list of short headlines after it along.
4. Corpus statistics: a short line without sentence punctuation in the head or tail that the run
   has already seen in ``line_stats_min_docs`` distinct documents (default: ``min_docs`` of the
   data file; 0 turns it off) is chrome (``line-stats``). The run is a
   stream, so the documents before a line reaches the threshold keep it; to apply full-corpus
   counts, run twice with ``line_stats=FILE``: the first run counts and saves the sketch, a run
   that finds the file loads it and only reads it. Memory is the sketch's fixed size (8 MiB by
   default, see ``cleancorp.linestats``). Long paragraphs repeated across documents are left to
   dedup: only lines of at most ``line_stats.max_len`` characters are counted.

Removed source, time, author and editor lines keep their values in
``doc.metadata["boilerplate_meta"]`` (JSONL fields with ``--keep-meta``).
"""
from __future__ import annotations

import bisect
import os
from itertools import accumulate, compress
import re
import tomllib
try:  # the regex parser of the standard library (3.11+); without it no pattern is split
    from re import _constants as re_constants, _parser as re_parser
except ImportError:  # pragma: no cover - a Python whose re module is laid out otherwise
    re_constants = re_parser = None
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from ..document import Document, RemovedLine
from ..linestats import LineStats, line_key
from ..registry import Stage, register

# Separators of menu items: bars, middle dots, slashes, arrows, colons after a label, spaces.
_ITEM_SPLIT = re.compile(r"\s*[|｜│¦·•/>›»＞→【】\[\]]+\s*|\s+[-–—]+\s+|\s*[:：]\s*|\s+")
_HAS_SEPARATOR = re.compile(r"[|｜│¦·•/>›»＞→]|\S\s+\S")
_HARD_SEPARATOR = re.compile(r"[|｜│¦·•/>›»＞→]|\s[-–—]+\s|[:：]\S*\s")
# The sentence punctuation marks. The per-line loop of ``Boilerplate._rule_verdict`` tests a
# line for the first two with ``in`` (a fast string search, where the class scan of the regex
# costs several times more per character), and only a line without either with the regex.
SENTENCE_MARKS = "，。！？；,!?;"
_SENTENCE_PUNCT = re.compile(f"[{SENTENCE_MARKS}]")
_BRACKETS = "[]【】()（）<>《》\"'“”"
# Distinct lines whose verdict a stage remembers, and the longest line remembered: chrome
# lines are short, and the table stays within a few MB.
_MEMO_LINES = 1 << 14
_MEMO_MAX_LEN = 200
_UNSEEN = object()
_FULL_STOP = re.compile("[。！？]")
_HEADLINE_END = re.compile(r"(\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\d{1,2}[-/]\d{1,2}|\.\.\.|…+|\[详细\]|详情>>?)$")


@dataclass
class Rule:
    """One named rule of the data file (see the comments in ``boilerplate.toml``)."""

    name: str
    kind: str = "regex"
    pattern: re.Pattern[str] | None = None
    max_len: int = 200
    zone: str = "any"
    meta: bool = False
    min_items: int = 4
    max_item_len: int = 8
    min_vocab: int = 2
    # ``pattern`` in two parts that find the same lines: the patterns that can only match at
    # the start of a line, tried there alone (``match``), and the others (``search``).
    at_start: re.Pattern[str] | None = None
    anywhere: re.Pattern[str] | None = None
    # The verdict on a line the rule removes (:meth:`Boilerplate.classify`): one tuple per
    # rule, shared by all the lines it removes, whose extra report fields (none) are read only.
    verdict: tuple[str, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.at_start is None and self.anywhere is None:
            self.anywhere = self.pattern
        self.verdict = (self.name, {})


@dataclass
class RuleSet:
    """Everything the data file holds, compiled once."""

    rules: list[Rule]
    vocab: frozenset[str]
    headings: re.Pattern[str] | None
    meta_fields: dict[str, re.Pattern[str]]
    edge_lines: int = 3
    body_min_len: int = 30
    sentence_keywords: tuple[str, ...] = ()
    stats: dict[str, int] = field(default_factory=dict)
    # ``headings`` in two parts, as ``Rule.at_start`` and ``Rule.anywhere``.
    heading_at_start: re.Pattern[str] | None = None
    heading_anywhere: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        if self.heading_at_start is None and self.heading_anywhere is None:
            self.heading_anywhere = self.headings

    def is_heading(self, line: str) -> bool:
        """The stripped ``line`` is a structural heading (``headings`` finds it)."""
        return (self.heading_at_start is not None and self.heading_at_start.match(line) is not None) or (
            self.heading_anywhere is not None and self.heading_anywhere.search(line) is not None
        )


class RulesError(ValueError):
    """A rules file that cannot be used; the message is one line."""


def _compile(patterns: list[str], where: str) -> re.Pattern[str] | None:
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as exc:
        raise RulesError(f"{where}: bad pattern: {exc}") from None


# A group reference numbers groups across the joined patterns: such patterns stay joined.
_GROUP_REFERENCE = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _at_line_start(pattern: str) -> bool:
    """True when ``pattern`` can only match at the start of the text (it begins with ``^``
    or ``\\A`` outside any group and alternation), so that ``match`` finds what ``search``
    finds.

    >>> [_at_line_start(p) for p in ["^(首页|主页)>", "^a|b", "(^a)", "版权所有"]]
    [True, False, False, False]
    """
    if re_parser is None:
        return False  # unsplit patterns find the same lines, only slower
    try:
        parsed = list(re_parser.parse(pattern))
    except (re.error, RecursionError):
        return False
    return bool(parsed) and parsed[0][0] is re_constants.AT and parsed[0][1] in (
        re_constants.AT_BEGINNING,
        re_constants.AT_BEGINNING_STRING,
    )


def split_patterns(patterns: list[str], joined: re.Pattern[str] | None) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """``joined`` (the alternation of ``patterns``) as two regexes that find the same lines:
    the patterns anchored at the line start, to ``match`` (one attempt, where a search
    tries every position of the line), and the rest, to ``search``.

    >>> start, anywhere = split_patterns(["^来源[:：]", "^编辑[:：]", "版权所有"], None)
    >>> bool(start.match("来源：新华社")), start.match("转自来源：新华社"), anywhere.pattern
    (True, None, '(?:版权所有)')
    """
    if any(_GROUP_REFERENCE.search(p) for p in patterns):
        return None, joined
    first = [p for p in patterns if _at_line_start(p)]
    rest = [p for p in patterns if not _at_line_start(p)]
    try:
        return (
            re.compile("|".join(f"(?:{p})" for p in first)) if first else None,
            re.compile("|".join(f"(?:{p})" for p in rest)) if rest else None,
        )
    except re.error:
        return None, joined


def load_rules(path: str | None = None) -> RuleSet:
    """Compile the rules of the package data file, or of ``path`` (which replaces it).

    >>> rs = load_rules()
    >>> [r.name for r in rs.rules][:3], "首页" in rs.vocab
    (['breadcrumb', 'breadcrumb-path', 'share'], True)
    """
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise RulesError(f"rules {path}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"rules {path}: not valid TOML: {exc}") from None
    else:
        data = _packaged_rules()
    where = f"rules {path}" if path else "built-in rules"
    rules = []
    try:
        for entry in data.get("rule", []):
            if not isinstance(entry.get("patterns", []), list):
                raise RulesError(f"{where}: rule {entry.get('name')!r}: patterns must be a list of strings")
            kind = entry.get("kind", "regex")
            if kind not in ("regex", "menu", "vocab", "related"):
                raise RulesError(f"{where}: rule {entry.get('name')!r} has unknown kind {kind!r}")
            zone = entry.get("zone", "any")
            if zone not in ("any", "edge"):
                raise RulesError(f"{where}: rule {entry.get('name')!r} has unknown zone {zone!r}")
            patterns = [str(p) for p in entry.get("patterns", [])]
            joined = _compile(patterns, f"{where}, rule {entry['name']}")
            at_start, anywhere = split_patterns(patterns, joined) if joined is not None else (None, None)
            rules.append(
                Rule(
                    name=str(entry["name"]),
                    kind=kind,
                    pattern=joined,
                    at_start=at_start,
                    anywhere=anywhere,
                    max_len=int(entry.get("max_len", 200)),
                    zone=zone,
                    meta=bool(entry.get("meta", False)),
                    min_items=int(entry.get("min_items", 4)),
                    max_item_len=int(entry.get("max_item_len", 8)),
                    min_vocab=int(entry.get("min_vocab", 2)),
                )
            )
        meta = {k: _compile([v], f"{where}, meta {k}") for k, v in data.get("meta", {}).items()}
        stats = {k: int(v) for k, v in data.get("line_stats", {}).items()}
        heading_patterns = [str(p) for p in data.get("headings", {}).get("patterns", [])]
        headings = _compile(heading_patterns, f"{where}, headings")
        heading_at_start, heading_anywhere = split_patterns(heading_patterns, headings) if headings else (None, None)
        return RuleSet(
            rules=rules,
            vocab=frozenset(data.get("vocab", {}).get("chrome", [])),
            headings=headings,
            heading_at_start=heading_at_start,
            heading_anywhere=heading_anywhere,
            meta_fields={k: v for k, v in meta.items() if v is not None},
            edge_lines=int(data.get("edge_lines", 3)),
            body_min_len=int(data.get("body_min_len", 30)),
            sentence_keywords=tuple(str(w) for w in data.get("sentence_keywords", [])),
            stats=stats,
        )
    except KeyError as exc:
        raise RulesError(f"{where}: a rule has no {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        if isinstance(exc, RulesError):
            raise
        raise RulesError(f"{where}: {exc}") from None


@lru_cache(maxsize=1)
def _packaged_rules() -> dict[str, Any]:
    with resources.files("cleancorp.data").joinpath("boilerplate.toml").open("rb") as fh:
        return tomllib.load(fh)


def menu_items(line: str) -> list[str]:
    """The items of a line split at menu separators.

    >>> menu_items("首页 | 新闻 原创 视听 | 问政 评论")
    ['首页', '新闻', '原创', '视听', '问政', '评论']
    """
    return [x.strip(_BRACKETS) for x in _ITEM_SPLIT.split(line) if x.strip(_BRACKETS)]


def is_menu(line: str, rule: Rule, vocab: frozenset[str], in_edge: bool) -> bool:
    """Many short items between separators and no sentence punctuation: a navigation bar.

    Mid-body the line must also hold ``rule.min_vocab`` known chrome words, so that a list of
    names or a line of verse stays; at the edge, items parted by spaces alone need one chrome
    word, so that a headline of parallel phrases stays.

    >>> rule, vocab = Rule("nav-menu", kind="menu"), frozenset({"首页", "新闻"})
    >>> is_menu("首页 | 新闻 原创 视听 | 问政 评论", rule, vocab, False)
    True
    >>> is_menu("张三 李四 王五 赵六", rule, vocab, False)
    False
    >>> is_menu("奋进新征程 建功新时代 谱写新篇章 展现新作为", rule, vocab, True)
    False
    """
    if _SENTENCE_PUNCT.search(line) or not _HAS_SEPARATOR.search(line):
        return False
    items = menu_items(line)
    if len(items) < rule.min_items:
        return False
    short = sum(1 for x in items if len(x) <= rule.max_item_len)
    if short < 0.8 * len(items):
        return False
    known = sum(1 for x in items if x in vocab)
    if not in_edge:
        return known >= rule.min_vocab
    return known >= 1 or _HARD_SEPARATOR.search(line) is not None


def is_chrome_words(line: str, vocab: frozenset[str], in_edge: bool) -> bool:
    """Every item of the line is a known chrome word; a single word only in the head or tail.

    >>> v = frozenset({"打印", "关闭", "分享"})
    >>> is_chrome_words("【打印】 【关闭】", v, False), is_chrome_words("分享", v, False)
    (True, False)
    """
    items = menu_items(line)
    if not items or any(x not in vocab for x in items):
        return False
    return in_edge or len(items) >= 2


def first_rule(rules: list[Rule], line: str, in_edge: bool, heading: bool, vocab: frozenset[str]) -> Rule | None:
    """The first of ``rules``, in order, that removes the stripped ``line``, or None.

    A structural ``heading`` is never taken for chrome by shape (menu, chrome words).

    >>> rules = load_rules().rules
    >>> first_rule(rules, "当前位置：首页 > 要闻", False, False, frozenset()).name
    'breadcrumb'
    >>> first_rule(rules, "2024-03-05", False, False, frozenset()), first_rule(rules, "2024-03-05", True, False, frozenset()).name
    (None, 'source-time-edge')
    """
    n = len(line)
    for rule in rules:
        if n > rule.max_len or (rule.zone == "edge" and not in_edge):
            continue
        if rule.kind == "regex":
            if (rule.at_start is not None and rule.at_start.match(line)) or (
                rule.anywhere is not None and rule.anywhere.search(line)
            ):
                return rule
        elif heading:
            continue
        elif rule.kind == "menu":
            if is_menu(line, rule, vocab, in_edge):
                return rule
        elif rule.kind == "vocab":
            if is_chrome_words(line, vocab, in_edge):
                return rule
    return None


@lru_cache(maxsize=1)
def _char_counts() -> dict[str, int]:
    """How often each character occurs in clean Chinese text (``data/hanzi_freq.tsv``)."""
    counts = {}
    text = resources.files("cleancorp.data").joinpath("hanzi_freq.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        char, _, count = line.partition("\t")
        if len(char) == 1 and count.isdigit():
            counts[char] = int(count)
    return counts


def keyword_regex(words: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    """A regex that finds a line holding any of ``words`` (None for no words): the lines
    ``"|".join(map(re.escape, words))`` finds, for less work.

    A search stops at every character that starts an alternative and tries the alternatives
    there; with keywords such as 不代表本 or 发布时间 that is at every 不 and 发 of a body
    sentence. So each word is looked for from its rarest character (by the frequency table):
    the characters before it are checked looking back, those after it read on. 不代表本 is
    found at 代, if 不 precedes it and 表本 follows; a word occurs in a line exactly when this
    matches there.

    >>> rx = keyword_regex(["不代表本", "来源", "©"])
    >>> [bool(rx.search(s)) for s in ["本文不代表本站观点。", "来源：新华社", "代表本人", "© 2024"]]
    [True, True, False, True]
    """
    words = sorted(set(words), key=len, reverse=True)
    if not words:
        return None
    if not all(words):  # an empty word is in every line: nothing to anchor it at
        return re.compile("|".join(map(re.escape, words)))
    counts = _char_counts()
    common = max(counts.values(), default=0) + 1

    def weight(ch: str) -> int:
        # Characters the table lacks are rare (letters, ©, ①), but not ASCII punctuation and
        # spaces, which clean text has plenty of.
        if ch in counts:
            return counts[ch]
        return common if (ch.isascii() and not ch.isalnum()) or ch.isspace() else 0

    by_char: dict[str, list[str]] = {}
    for word in words:
        at = min(range(len(word)), key=lambda i: (weight(word[i]), i))
        before = f"(?<={re.escape(word[:at + 1])})" if at else ""
        by_char.setdefault(word[at], []).append(before + re.escape(word[at + 1:]))
    alternatives = []
    for char, rests in by_char.items():
        # A word that is this character alone is found by the character alone.
        tail = "" if not all(rests) else f"(?:{'|'.join(rests)})"
        alternatives.append(re.escape(char) + tail)
    return re.compile("|".join(alternatives))


@register
class Boilerplate(Stage):
    """Remove page-chrome lines by named rules and corpus line statistics (see the module doc)."""

    name = "boilerplate"
    summary = "strip page chrome: menus, breadcrumbs, share bars, bylines, footers; corpus line statistics"
    corpus_level = True

    def __init__(self, rules: str = "", line_stats: str = "", line_stats_min_docs: int = -1) -> None:
        try:
            self.ruleset = load_rules(rules or None)
        except RulesError as exc:
            raise ValueError(str(exc)) from None
        rs = self.ruleset
        self.any_rules = [r for r in rs.rules if r.zone == "any" and r.kind != "related"]
        self.all_rules = [r for r in rs.rules if r.kind != "related"]
        self.related = [r for r in rs.rules if r.kind == "related" and r.pattern is not None]
        self.related_max_len = max((r.max_len for r in self.related), default=0)
        # A line meets the edge rules only after the rules safe anywhere found nothing in it, and
        # a regex that failed there fails again: the second look tries only what can change.
        self.edge_rules = [r for r in self.all_rules if not (r.kind == "regex" and r.zone == "any")]
        self.meta_rules = {r.name for r in rs.rules if r.meta}
        self._memo_any: dict[str, Rule | None] = {}
        self._memo_plain: dict[str, Rule | None] = {}
        self._memo_edge: dict[str, Rule | None] = {}
        self._memo_meta: dict[str, list[tuple[str, str]]] = {}
        self._memo_related: dict[str, Rule | None] = {}
        self._memo_key: dict[str, bytes | None] = {}
        # Lines with sentence punctuation meet the rules only when they hold one of these words.
        self.keywords = keyword_regex(rs.sentence_keywords)
        # Lines can be searched for these words joined by newlines (see _keyword_lines).
        self.keywords_joinable = all(w and "\n" not in w for w in rs.sentence_keywords)
        self.sentence_max = max((r.max_len for r in rs.rules if r.kind == "regex"), default=0)
        # The longest sentence a rule safe anywhere may take: a regex rule, or the chrome-words
        # rule when a chrome word holds sentence punctuation (a menu never does). Longer
        # sentences meet only the edge rules, and step 1 defers them.
        vocab_punct = any(_SENTENCE_PUNCT.search(w) for w in rs.vocab)
        self.eager_max = max(
            (r.max_len for r in self.any_rules if r.kind == "regex" or (r.kind == "vocab" and vocab_punct)),
            default=0,
        )
        self.eager_max = max(self.eager_max, rs.body_min_len - 1)
        self.stats_min_docs = rs.stats.get("min_docs", 0) if line_stats_min_docs < 0 else line_stats_min_docs
        self.stats_max_len = rs.stats.get("max_len", 40)
        # Counting lines across documents needs one stream in input order; without it the stage
        # looks at one document at a time and may run in parallel workers.
        self.corpus_level = self.stats_min_docs > 0
        self.stats_path = line_stats
        self.stats_frozen = False
        self._stats: LineStats | None = None
        if line_stats and os.path.exists(line_stats):
            self._stats = LineStats.load(line_stats)
            self.stats_frozen = True

    # -- classification ---------------------------------------------------------------------

    def _first(self, line: str, in_edge: bool) -> Rule | None:
        """The first rule that removes the stripped ``line``, or None: a rule safe anywhere, or
        with ``in_edge`` (asked only after that found nothing) an edge or shape rule.

        The answer depends on the line alone, and the short lines that get here (menus,
        footers, bylines) recur on every page of a site: each distinct line is judged once
        per run, in a bounded table.
        """
        memo = self._memo_edge if in_edge else self._memo_any
        known = memo.get(line, _UNSEEN)
        if known is _UNSEEN:
            rs = self.ruleset
            heading = rs.is_heading(line)
            known = first_rule(self.edge_rules if in_edge else self.any_rules, line, in_edge, heading, rs.vocab)
            if len(line) <= _MEMO_MAX_LEN:
                if len(memo) >= _MEMO_LINES:
                    memo.clear()  # a crawl of many sites: start over rather than grow without bound
                memo[line] = known
        return known

    def classify(self, lines: list[str]) -> list[tuple[str, dict[str, Any]] | None]:
        """Per line: None (kept) or (rule name, extra report fields) for a line to remove. The
        lines a rule removes share one verdict: read its fields, do not change them.

        >>> stage = Boilerplate(line_stats_min_docs=0)
        >>> body = "记者在首页看到，这次活动吸引了很多市民参加。分享会上，几位青年代表发了言。"
        >>> [r and r[0] for r in stage.classify(["当前位置:首页 > 要闻", body, "2024-03-05", "关闭"])]
        ['breadcrumb', None, 'source-time-edge', 'chrome-words']
        """
        verdict, stripped, edge_idx = self._rule_verdict(lines)
        if self.stats_min_docs > 0 and edge_idx is not None:
            self._count_and_judge(stripped, edge_idx, verdict)
        return verdict

    def _count_and_judge(self, stripped: list[str], edge_idx: list[int], verdict: list) -> None:
        """4. corpus statistics: count the page's candidate lines and give those the run has
        seen in ``line_stats_min_docs`` documents their verdict."""
        cands = self._candidates(stripped, edge_idx, verdict)
        for (i, _), seen in zip(cands, self.count_lines([k for _, k in cands])):
            if seen >= self.stats_min_docs:
                verdict[i] = ("line-stats", {"documents": seen})

    def _rule_verdict(self, lines: list[str]) -> tuple[list, list[str], list[int] | None]:
        """Steps 1 to 3 of :meth:`classify` (everything but the corpus statistics): the
        verdict per line, the stripped lines, and the head and tail lines the statistics look
        at (None for a page without a nonblank line, which the statistics do not count).

        Step 1 is one pass over the page's lines that does as little as it can per line: a
        body sentence costs one or two string searches, and a plain line a site repeats (its
        menu, footer and bylines) one lookup in a bounded table of the plain lines seen so far
        and their verdicts. The sentences short enough for a rule are searched for keywords
        joined, in one regex call; the body's ends are found from either end of the page.
        """
        stripped = list(map(str.strip, lines))
        verdict: list[tuple[str, Any] | None] = [None] * len(stripped)
        # 1. rules that are safe anywhere. A long sentence that would be chrome at the edge
        #    (a licence paragraph) is not taken as the start or end of the body.
        plain: list[int] = []  # lines without sentence punctuation
        later: list[int] = []  # short lines whose edge rules are tried only when needed
        sentences: list[int] = []  # lines with sentence punctuation
        checked: list[int] = []  # sentences short enough to be chrome: looked at for keywords
        parts: list[str] = []  # their text
        limit = self.sentence_max if self.keywords is not None else -1
        # Longer sentences, up to ``limit``, can only be taken by an edge rule: they are looked
        # at only where the page's layout asks (its ends, next to removed lines).
        deferred: list[int] = []
        eager_max = self.eager_max if self.eager_max < limit else limit
        known = self._memo_plain.get
        sentence_punct = _SENTENCE_PUNCT.search
        blank = False
        i = -1
        for s in stripped:
            i += 1
            # A body line mostly holds a comma or a full stop: it costs a string search or
            # two (where the class scan of the regex costs several times more per character).
            if "，" in s or "。" in s:
                sentence = True
            elif not s:
                blank = True
                continue
            else:
                rule = known(s, _UNSEEN)
                sentence = rule is _UNSEEN and sentence_punct(s) is not None
            if sentence:
                sentences.append(i)
                if len(s) <= eager_max:
                    checked.append(i)
                    parts.append(s)
                elif len(s) <= limit:
                    deferred.append(i)
                continue
            if rule is _UNSEEN:
                rule = self._first_plain(s)
            plain.append(i)
            if rule is not None:
                verdict[i] = rule.verdict
            else:
                later.append(i)
        if not sentences and not plain:
            return verdict, stripped, None
        nonblank = list(compress(range(len(stripped)), stripped)) if blank else range(len(stripped))
        hits = self._keyword_lines(stripped, checked, parts) if checked else ()
        pending: dict[int, Rule | None] = {}  # edge rule of a long hit, None if it has none
        kept_hits: list[int] = []  # long hits no rule matches: body lines
        body_min_len = self.ruleset.body_min_len
        first = self._first
        for i in hits:
            s = stripped[i]
            rule = first(s, False)
            if rule is not None:
                verdict[i] = rule.verdict
            elif len(s) >= body_min_len:
                pending[i] = rule = first(s, True)
                if rule is None:
                    kept_hits.append(i)
            else:
                later.append(i)
        # The body runs from the first to the last body line: a long sentence without a
        # keyword, or a long hit no rule matches. Each end is found from its end of the page.
        head_body = tail_body = None
        unsettled = set(deferred)
        if hits or deferred:
            hit_set = set(hits)
            for i in sentences:
                if len(stripped[i]) >= body_min_len and i not in hit_set and (
                    i not in unsettled or self._settle(stripped, i, pending, unsettled)
                ):
                    head_body = i
                    break
            for i in reversed(sentences):
                if len(stripped[i]) >= body_min_len and i not in hit_set and (
                    self._settle(stripped, i, pending, unsettled) if i in unsettled else pending.get(i) is None
                ):
                    tail_body = i
                    break
            if kept_hits:
                head_body = kept_hits[0] if head_body is None or kept_hits[0] < head_body else head_body
                tail_body = kept_hits[-1] if tail_body is None or kept_hits[-1] > tail_body else tail_body
        else:
            for i in sentences:
                if len(stripped[i]) >= body_min_len:
                    head_body = i
                    break
            for i in reversed(sentences):
                if len(stripped[i]) >= body_min_len:
                    tail_body = i
                    break
        # Every nonblank line but the sentences no rule can match, in page order.
        special = sorted([*plain, *hits]) if hits else plain
        return self._layout(stripped, nonblank, verdict, special, pending, later, head_body, tail_body, deferred, unsettled)

    def _settle(self, stripped: list[str], i: int, pending: dict[int, Rule | None], unsettled: set[int]) -> bool:
        """Look at the deferred long sentence ``i`` (taking it out of ``unsettled``): a hit goes
        to ``pending`` with its edge rule, as step 1 puts a long hit there. True when the line
        is body text (no keyword, or no edge rule takes it)."""
        unsettled.discard(i)
        s = stripped[i]
        if self.keywords.search(s) is None:
            return True
        # No rule safe anywhere takes a sentence this long (see eager_max): only an edge rule.
        pending[i] = rule = self._first(s, True)
        return rule is None

    def _first_plain(self, line: str) -> Rule | None:
        """The first rule safe anywhere that removes ``line``, a stripped line without sentence
        punctuation, or None; remembered for the run (a bounded table), as ``_first`` does:
        step 1 reads the table before it looks for punctuation in a line, and finds there
        the menus, footers and bylines a site repeats on every page."""
        rs = self.ruleset
        rule = first_rule(self.any_rules, line, False, rs.is_heading(line), rs.vocab)
        if len(line) <= _MEMO_MAX_LEN:
            memo = self._memo_plain
            if len(memo) >= _MEMO_LINES:
                memo.clear()
            memo[line] = rule
        return rule

    def _keyword_lines(self, stripped: list[str], checked: list[int], parts: list[str] | None = None) -> list[int]:
        """The lines among ``checked`` (numbers of ``stripped`` lines, in page order; their
        text ``parts``, None to look it up) that hold a ``sentence_keywords`` word, in page order.

        A regex call costs as much as a scan of a few hundred characters: the lines are
        searched joined, in one call when none holds a word. A match cannot reach across
        the joining newline, as no word holds one (else each line is searched alone).
        """
        search = self.keywords.search
        if not self.keywords_joinable:
            return [i for i in checked if search(stripped[i]) is not None]
        if parts is None:
            parts = [stripped[i] for i in checked]
        joined = "\n".join(parts)
        m = search(joined)
        if m is None:
            return []
        # The end of each line in ``joined`` plus one: line k ends before ends[k].
        ends = list(accumulate(len(part) + 1 for part in parts))
        hits = []
        while m is not None:
            k = bisect.bisect_right(ends, m.start())
            hits.append(checked[k])
            m = search(joined, ends[k])
        return hits

    def _layout(
        self,
        stripped: list[str],
        nonblank: list[int],
        verdict: list,
        special: list[int],
        pending: dict[int, Rule | None],
        later: list[int],
        head_body: int | None,
        tail_body: int | None,
        deferred: list[int] = (),
        unsettled: set[int] | None = None,
    ) -> tuple[list, list[str], list[int]]:
        """Steps 2 and 3, after step 1 judged the ``special`` lines (every nonblank line but
        the sentences no rule can match, in page order): ``pending`` holds the edge rule of
        the long sentences it kept (None: none), ``later`` the short lines it kept, and the
        body runs from line ``head_body`` to ``tail_body`` (None: no body). ``deferred`` are
        the long sentences step 1 did not search for keywords, ``unsettled`` those of them
        not looked at since (see :meth:`_settle`): they are, where the layout needs them."""
        # 2. the head and tail meet every rule
        rs = self.ruleset
        edge = rs.edge_lines
        head_end = head_body if head_body is not None else len(stripped)
        tail_start = tail_body if tail_body is not None else -1
        if edge > 0:
            # (conditional expressions: a call of min or max costs several times more)
            count = len(nonblank)
            after_edge = nonblank[(edge if edge < count else count) - 1] + 1
            before_edge = nonblank[count - edge if count > edge else 0] - 1
            head_end = after_edge if after_edge > head_end else head_end
            tail_start = before_edge if before_edge < tail_start else tail_start
        if head_end <= tail_start:  # the special lines before head_end and after tail_start
            special = special[:bisect.bisect_left(special, head_end)] + special[bisect.bisect_right(special, tail_start):]
        # (else every line is at the edge: before head_end or after tail_start)
        edge_idx = [i for i in special if verdict[i] is None]
        first = self._first
        known = self._memo_edge.get
        for i in edge_idx:
            if i in pending:
                rule = pending.pop(i)
            else:
                rule = known(stripped[i], _UNSEEN)
                if rule is _UNSEEN:
                    rule = first(stripped[i], True)
            if rule is not None:
                verdict[i] = rule.verdict
        if deferred:  # the deferred sentences at the edge, as the special lines there
            for i in deferred:
                if (i < head_end or i > tail_start) and (i not in unsettled or not self._settle(stripped, i, pending, unsettled)):
                    rule = pending.pop(i, None)
                    if rule is not None:
                        verdict[i] = rule.verdict
        # ... and so does a line next to removed chrome: a block of chrome inside the page
        # (a second copy of the header between two copies of the article) goes as a block.
        waiting = set(later)
        if edge_idx:
            waiting.difference_update(edge_idx)
        if pending:
            waiting.update(i for i, r in pending.items() if r is not None)
        last = len(nonblank) - 1
        dense = len(nonblank) == len(stripped)
        grown = bool(waiting) or bool(unsettled)
        while grown:
            # Positions of the waiting lines among the nonblank ones, in page order: the passes
            # below visit only these.
            waiting_pos = sorted(waiting) if dense else sorted(bisect.bisect_left(nonblank, i) for i in waiting)
            changed = bool(waiting_pos)
            while changed:
                changed = False
                for pos in waiting_pos:
                    i = nonblank[pos]
                    if i not in waiting:
                        continue
                    if (pos and verdict[nonblank[pos - 1]]) or (pos < last and verdict[nonblank[pos + 1]]):
                        waiting.discard(i)
                        rule = pending.get(i) or first(stripped[i], True)
                        if rule is not None:
                            verdict[i] = rule.verdict
                            changed = True
            # A deferred sentence next to removed lines waits as a long hit would, if it is
            # one; the lines still waiting are looked at again when it joins them.
            grown = False
            for i in sorted(unsettled) if unsettled else ():
                pos = i if dense else bisect.bisect_left(nonblank, i)
                if ((pos and verdict[nonblank[pos - 1]]) or (pos < last and verdict[nonblank[pos + 1]])) and not self._settle(
                    stripped, i, pending, unsettled
                ):
                    waiting.add(i)
                    grown = True
        # 3. "related articles" blocks in the second half of the page
        if self.related:
            self._related_blocks(stripped, nonblank, verdict, tail_start)
        return verdict, stripped, edge_idx

    def _related_blocks(self, stripped: list[str], nonblank: list[int], verdict: list, tail_start: int) -> None:
        """A marker in the second half of the page or in its tail, and the headlines after it."""
        # The lines looked at: from the middle on, or from the first line after the body's end.
        start = len(nonblank) // 2
        after_body = bisect.bisect_right(nonblank, tail_start)
        start = after_body if after_body < start else start
        # A marker is short: longer lines (most of a page) are passed over without a scan.
        # Those short lines recur (a site's own headings and link lists): each distinct one is
        # matched once per run, in a bounded table.
        longest = self.related_max_len
        memo = self._memo_related
        for i in [i for i in nonblank[start:] if len(stripped[i]) <= longest]:
            s = stripped[i]
            rule = memo.get(s, _UNSEEN)
            if rule is _UNSEEN:
                rule = None
                for r in self.related:
                    if len(s) <= r.max_len and (
                        (r.at_start is not None and r.at_start.match(s)) or (r.anywhere is not None and r.anywhere.search(s))
                    ):
                        rule = r
                        break
                if len(s) <= _MEMO_MAX_LEN:
                    if len(memo) >= _MEMO_LINES:
                        memo.clear()
                    memo[s] = rule
            if rule is None:
                continue
            verdict[i] = rule.verdict
            for j in nonblank[bisect.bisect_right(nonblank, i):]:
                t = stripped[j]
                if verdict[j] is not None:
                    continue
                headline = len(t) <= 40 and not _FULL_STOP.search(t[:-1])
                if not (headline or _HEADLINE_END.search(t)):
                    break
                verdict[j] = rule.verdict
            return

    def _candidates(self, stripped: list[str], edge_idx: list[int], verdict: list) -> list[tuple[int, bytes]]:
        """The lines the corpus statistics count and may remove, with their keys: short head
        and tail lines without sentence punctuation that no rule removed and that are no
        heading.

        Whether a short line is a candidate, and its key, depend on the line alone, and the
        candidates recur on every page of a site: each distinct line is looked at once per
        run, in a bounded table (None: no candidate).
        """
        rs = self.ruleset
        memo = self._memo_key
        longest = self.stats_max_len
        cands = []
        for i in edge_idx:
            s = stripped[i]
            if verdict[i] is not None or len(s) > longest:
                continue
            key = memo.get(s, _UNSEEN)
            if key is _UNSEEN:
                key = None if _SENTENCE_PUNCT.search(s) or rs.is_heading(s) else line_key(s)
                if len(s) <= _MEMO_MAX_LEN:
                    if len(memo) >= _MEMO_LINES:
                        memo.clear()
                    memo[s] = key
            if key is not None:
                cands.append((i, key))
        return cands

    def count_lines(self, keys: list[bytes]) -> list[int]:
        """Count one page's candidate line keys in the run's statistics (unless they are frozen,
        read from a file) and return, per key, in how many pages the run has seen it so far.
        This is the part of the stage that depends on the pages before: call it in input order.

        >>> stage = Boilerplate(line_stats_min_docs=2)
        >>> [stage.count_lines([line_key("江南晚报")]) for _ in range(3)]
        [[1], [2], [3]]
        """
        if self._stats is None:
            rs = self.ruleset
            self._stats = LineStats(rs.stats.get("width", 1 << 20), rs.stats.get("depth", 4))
        if self.stats_frozen:
            return [self._stats.count(k) for k in keys]
        return self._stats.add_and_count(keys)

    # -- the stage --------------------------------------------------------------------------

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        if not text:
            return
        lines = text.split("\n")
        verdict, stripped, edge_idx = self._rule_verdict(lines)
        if self.stats_min_docs > 0 and edge_idx is not None:
            self._count_and_judge(stripped, edge_idx, verdict)
        if any(verdict):
            self._remove(doc, text, lines, verdict, stripped)

    def _remove(self, doc: Document, text: str, lines: list[str], verdict: list, stripped: list[str] | None = None) -> None:
        """Take the lines with a verdict out of ``doc`` (``text`` split into ``lines``, and
        stripped: ``stripped``, None to strip them here), with their rules in the report and
        their metadata values kept."""
        rec = doc.record(self.name)
        gone = list(compress(range(len(verdict)), verdict))  # a verdict is a tuple, never empty
        keep: list[str] = []  # the lines between the removed ones, a slice at a time
        after = 0  # the line after the last removed one
        # What StageRecord.remove records, for all the page's lines at once: each removed
        # line (up to the record's bound) and their number.
        info = rec.info
        info["lines_removed"] = info.get("lines_removed", 0) + len(gone)
        removed = rec.removed
        room = rec.MAX_ITEMS - len(removed)
        meta_rules = self.meta_rules
        meta_lines = []
        for i in gone:
            if i > after:
                keep += lines[after:i]
            after = i + 1
            rule, extra = verdict[i]
            s = stripped[i] if stripped is not None else lines[i].strip()
            if room > 0:
                removed.append(RemovedLine(s, rule, i + 1))
                room -= 1
            if extra and "documents" in extra:
                # The report says how often the run had seen a line the statistic removed.
                info.setdefault("line_stats_documents", {})[s] = extra["documents"]
            if rule in meta_rules:
                meta_lines.append(s)
        keep += lines[after:]
        if meta_lines:
            self._keep_meta(doc, meta_lines)
        doc.text = "\n".join(keep)
        rec.chars_changed += len(text) - len(doc.text)

    # -- the two halves of the stage: per page, then the corpus statistics in input order --

    def prepare(self, doc: Document) -> "LineCandidates | None":
        """The per-page half: remove what the rules and the page's layout remove (everything
        but the corpus statistics) and return the page's statistics candidates, or None when
        the statistics do not count the page (they are off, or frozen and applied here, or
        the page has no text). Needs no state of the run, so it can run in any worker.

        ``decide`` (in input order) then counts the candidates and removes those the run has
        seen often enough: ``prepare`` then ``decide`` equals ``apply``.

        >>> stage = Boilerplate(line_stats_min_docs=2)
        >>> docs = [Document(str(n), text=f"江南晚报\\n第{n}版消息，全区经济社会发展呈现稳中有进的良好态势。") for n in (1, 2)]
        >>> found = [stage.prepare(doc) for doc in docs]
        >>> found[0].keys == [line_key("江南晚报")], docs[0].text.startswith("江南晚报")
        (True, True)
        >>> [stage.decide(doc, c) for doc, c in zip(docs, found)], docs[1].text[:4]
        ([False, True], '第2版消')
        """
        text = doc.text or ""
        if not text:
            return None
        lines = text.split("\n")
        verdict, stripped, edge_idx = self._rule_verdict(lines)
        found = None
        if self.stats_min_docs > 0 and edge_idx is not None:
            cands = self._candidates(stripped, edge_idx, verdict)
            if self.stats_frozen:  # read-only counts: decided right here
                for (i, _), seen in zip(cands, self.count_lines([k for _, k in cands])):
                    if seen >= self.stats_min_docs:
                        verdict[i] = ("line-stats", {"documents": seen})
            elif cands:
                removed = [(i, lines[i], v[0]) for i, v in enumerate(verdict) if v is not None]
                found = LineCandidates([k for _, k in cands], [i for i, _ in cands], removed, len(lines))
            else:
                found = NO_CANDIDATES
        if any(verdict):
            self._remove(doc, text, lines, verdict, stripped)
        return found

    def decide(self, doc: Document, found: "LineCandidates | None") -> bool:
        """The cross-document half: count the page's candidates (:meth:`count_lines`) and
        remove those seen in ``line_stats_min_docs`` pages (:meth:`remove_counted`). True when
        the text changed."""
        if found is None:
            return False
        return self.remove_counted(doc, found, self.count_lines(found.keys))

    def remove_counted(self, doc: Document, found: "LineCandidates", counts: list[int]) -> bool:
        """Remove the candidates whose count reached ``line_stats_min_docs`` from ``doc`` as
        :meth:`prepare` left it; True when there were any. The page is put back together from
        ``doc.text`` and the lines the rules removed, and its verdict is applied as
        :meth:`apply` would have applied it: same text, same report."""
        hits = [(i, seen) for i, seen in zip(found.lines, counts) if seen >= self.stats_min_docs]
        if not hits:
            return False
        lines: list[str | None] = [None] * found.size
        verdict: list[tuple[str, dict[str, Any]] | None] = [None] * found.size
        for i, line, rule in found.removed:
            lines[i] = line
            verdict[i] = (rule, {})
        rest = iter((doc.text or "").split("\n") if found.size > len(found.removed) else ())
        page = [line if line is not None else next(rest) for line in lines]
        for i, seen in hits:
            verdict[i] = ("line-stats", {"documents": seen})
        doc.log.pop(self.name, None)
        self._remove(doc, "\n".join(page), page, verdict)
        return True

    def _keep_meta(self, doc: Document, lines: list[str]) -> None:
        """Put the source, time, author and editor values of removed ``lines`` into metadata
        (a field keeps the first value found)."""
        found = doc.metadata.setdefault("boilerplate_meta", {})
        for line in lines:
            for field_name, value in self._meta_values(line):
                if field_name not in found:
                    found[field_name] = value
        if not found:
            del doc.metadata["boilerplate_meta"]

    def _meta_values(self, line: str) -> list[tuple[str, str]]:
        """The (field, value) pairs a metadata line holds, in the order of the data file.

        A site's byline and source lines recur: each distinct line is read once per run.

        >>> Boilerplate()._meta_values("来源：人民网  2016-07-07 10:06")
        [('source', '人民网'), ('published', '2016-07-07 10:06')]
        """
        values = self._memo_meta.get(line)
        if values is None:
            values = []
            for field_name, pattern in self.ruleset.meta_fields.items():
                m = pattern.search(line)
                if m:
                    value = next((g for g in m.groups() if g), m.group(0)).strip()
                    if value:
                        values.append((field_name, value))
            if len(line) <= _MEMO_MAX_LEN:
                if len(self._memo_meta) >= _MEMO_LINES:
                    self._memo_meta.clear()
                self._memo_meta[line] = values
        return values

    def close(self) -> None:
        if self.stats_path and not self.stats_frozen and self._stats is not None:
            self._stats.save(self.stats_path)


class LineCandidates:
    """What :meth:`Boilerplate.prepare` leaves for the corpus statistics of one page: the keys
    of its candidate lines (``keys``, :func:`cleancorp.linestats.line_key`) and their line
    numbers (``lines``, 0-based), and, to put the page back together should the statistics
    remove a candidate, the lines the rules removed (``removed``: number, line, rule) and the
    page's number of lines (``size``). Only ``keys`` is needed to count; the rest stays with
    the page."""

    __slots__ = ("keys", "lines", "removed", "size")

    def __init__(self, keys: list[bytes], lines: list[int], removed: list[tuple[int, str, str]], size: int) -> None:
        self.keys = keys
        self.lines = lines
        self.removed = removed
        self.size = size

    def __reduce__(self):
        return (LineCandidates, (self.keys, self.lines, self.removed, self.size))


#: A page the statistics count but that has no candidate line.
NO_CANDIDATES = LineCandidates([], [], [], 0)
