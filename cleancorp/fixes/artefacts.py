"""Family 6, stray artefacts: `?` and U+FFFD left where characters were lost, private-use junk.

A lossy encoder writes `?` for every character its target encoding lacks, and a lossy decoder
writes U+FFFD for every byte sequence it cannot read. Neither can be turned back into the lost
character (the bytes are gone), so the closest text to the original is the text without them.
What this fix removes, in order:

1. private-use characters (U+E000–U+F8FF and planes 15–16): glyphs of a site's own font or a
   decoder's placeholder, never text;
2. every U+FFFD (families 2 and 4 have already used the ones that sit in recoverable bytes);
3. paragraph indents: a run of `?`/`？` (spaces between allowed) at the start of a line, or of
   two or more `?` after a full stop — lost full-width indent spaces (`????全会` → `全会`);
4. name padding: `?` with spaces around it between two Han characters (`艾? ? 杰` → `艾杰`),
   where the page padded a two-character name to the width of three;
5. a lost character: one to three ASCII `?` between two Han characters (`朱?基` → `朱基`), in a
   line that shows full-width punctuation (a writer who types `，` types `？` too, and folding
   to ASCII would have folded the `，` as well).

Real questions stay: a `?` whose sentence holds a question word (吗 呢 什么 何以 是否 …, see
``cleancorp/data/question_words.txt``) or an A-not-A form (去不去), a `?` followed by anything
but a Han character (`办好?”`, `吗?`, sentence end), a full-width `？` inside a line, and any
`?` between Han characters in a line with no full-width punctuation (it may have been folded to
ASCII by NFKC), where a real question mark and a lost character cannot be told apart: keeping
a marker costs one character, deleting a question mark would harm clean text.

>>> fix_artefacts("????全会由区\\ufffd委常委会主持。记者 艾? ? 杰")
'全会由区委常委会主持。记者 艾杰'
>>> fix_artefacts("何以如此神速高效?这得益于“十户联防”。")
'何以如此神速高效?这得益于“十户联防”。'
"""
from __future__ import annotations

from ..chars import HAN

import re
from functools import lru_cache
from pathlib import Path

from ..document import StageRecord
from . import PrecheckParts, _lead_class, fast_precheck

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "question_words.txt"

FIX_NAME = "artefacts"

_PRIVATE_USE = "\ue000-\uf8ff\U000f0000-\U0010ffff"
_SPACE = " \t\u3000\u00a0"

#: Anything this fix could act on; lines without it are returned at once. A full-width `？`
#: counts only where this fix may remove it: at the start of a line or after white space, or
#: next to white space or another question mark (`你好？我是` is a typed question mark).
PRECHECK_PARTS: PrecheckParts = (
    (f"[?\ufffd{_PRIVATE_USE}]", ""),
    ("？", f"(?:(?=[{_SPACE}?？])|(?<![^\\s]？))"),
)
PRECHECK = fast_precheck(PRECHECK_PARTS)
# A `?` right before U+FFFD is the other half of the same lost character: both bytes of a
# double-byte character were lost, one shown as `?` and one as U+FFFD.
_JUNK = re.compile(f"(?:\\?(?=\ufffd))?[\ufffd{_PRIVATE_USE}]+")
# Where _JUNK matches, found faster (a pattern led by an optional group is tried at every
# position; a single character class is skipped to in C, written as the complement of what it
# skips so that a character of the text needs one table lookup, not a test per range).
_JUNK_CHAR = re.compile(_lead_class([(0xE000, 0xF8FF), (0xFFFD, 0xFFFD), (0xF0000, 0x10FFFF)]))
# A run of question marks (spaces between allowed) at the start of a line, before its text.
_LINE_INDENT = re.compile(f"^[{_SPACE}]*[?？](?:[{_SPACE}]*[?？])*[{_SPACE}]*(?=[^\\s?？A-Za-z])")
# Two or more `?` after a full stop or closing quote, before a Han character or opening quote:
# the indent of a paragraph that was joined to the one before it.
_MID_INDENT = re.compile(f"(?<=[。！”」』])\\?{{2,}}(?=[{HAN}“「『])")
# Question marks (spaces around and between allowed) from one Han character to the next.
_BETWEEN_HAN = re.compile(f"(?<=[{HAN}])([{_SPACE}]*)([?？](?:[{_SPACE}]*[?？])*)([{_SPACE}]*)(?=[{HAN}])")
# Punctuation that NFKC folds to ASCII: its full-width form in a line shows the line was not
# folded.
_FULLWIDTH_PUNCT = re.compile("[，！：；（）？]")
# Where a sentence starts, looking back from a question mark.
_SENTENCE_END = frozenset("。！？；!;?\n“「『")
_A_NOT_A = re.compile(f"([{HAN}])[不没沒]\\1")
_LOOKBACK = 80


@lru_cache(maxsize=1)
def question_words() -> re.Pattern[str]:
    """One regex for every question word of the data file (loaded once).

    >>> bool(question_words().search("何以如此神速高效")), bool(question_words().search("朱"))
    (True, False)
    """
    words = []
    with open(DATA_FILE, encoding="utf-8") as fh:
        for line in fh:
            word = line.strip()
            if word and not word.startswith("#"):
                words.append(word)
    words.sort(key=len, reverse=True)
    return re.compile("|".join(map(re.escape, words)))


def sentence_before(line: str, end: int) -> str:
    """The sentence that a question mark at ``line[end]`` would close (bounded lookback).

    >>> sentence_before("你好。他为什么来,我不知道?", 13)
    '他为什么来,我不知道'
    """
    start = end
    floor = max(0, end - _LOOKBACK)
    while start > floor and line[start - 1] not in _SENTENCE_END:
        start -= 1
    return line[start:end]


def is_question(line: str, pos: int) -> bool:
    """Whether the `?` at ``line[pos]`` ends a question: its sentence has a question word or an
    A-not-A form.

    >>> is_question("警方处置突发治安事件,何以如此神速高效?这得益于", 19)
    True
    >>> is_question("你去不去?我去", 4), is_question("国务院总理朱?基说", 6)
    (True, False)
    """
    sentence = sentence_before(line, pos)
    return bool(question_words().search(sentence) or _A_NOT_A.search(sentence))


def writes_fullwidth(line: str) -> bool:
    """Whether the line shows it was written with full-width punctuation and not folded to
    ASCII (NFKC): it holds one of `，！：；（）？`, which folding would have turned into ASCII.
    Only then is an ASCII `?` between Han characters evidence of a lost character.

    >>> writes_fullwidth("总理朱?基说，会议"), writes_fullwidth("事件,何以如此神速高效?这得益于")
    (True, False)
    >>> writes_fullwidth("翁——乞丐?不见得罢。")
    False
    """
    return bool(_FULLWIDTH_PUNCT.search(line))


def fix_artefacts(line: str, record: StageRecord | None = None) -> str:
    """Remove stray `?`, U+FFFD and private-use characters that stand for nothing recoverable.

    >>> fix_artefacts("？？ 第一条\\ue000 总理朱?基说，要办好?”")
    '第一条 总理朱基说，要办好?”'
    >>> fix_artefacts("你好吗?我很好。事件,朱?基")
    '你好吗?我很好。事件,朱?基'
    >>> fix_artefacts("真的？是的。总理朱?基说")
    '真的？是的。总理朱基说'
    """
    if not PRECHECK.search(line):
        return line
    changes: list[tuple[str, str, str]] = []

    def drop(before: str, after: str, why: str) -> None:
        changes.append((before, after, why))

    if _JUNK_CHAR.search(line):
        for m in _JUNK.finditer(line):
            why = "private-use character" if m.group()[-1] != "\ufffd" else "lost character (U+FFFD)"
            drop(m.group(), "", why)
        line = _JUNK.sub("", line)

    m = _LINE_INDENT.match(line)
    if m and (m.group().count("?") + m.group().count("？") >= 2 or "?" in m.group()):
        drop(m.group(), "", "paragraph indent")
        line = line[m.end() :]

    if "??" in line and _MID_INDENT.search(line):
        for m in _MID_INDENT.finditer(line):
            drop(m.group(), "", "paragraph indent")
        line = _MID_INDENT.sub("", line)

    if "?" in line or "？" in line:
        fullwidth = None

        def between(m: re.Match[str]) -> str:
            nonlocal fullwidth
            marks = m.group(2)
            count = marks.count("?") + marks.count("？")
            spaced = bool(m.group(1) or m.group(3)) or count != len(marks)
            if not spaced and "?" not in marks:
                return m.group()  # a typed full-width question mark
            if spaced and (count >= 2 or m.group(1)):
                why = "name padding"
            elif spaced or count > 3 or "？" in marks:
                return m.group()
            else:
                if fullwidth is None:
                    fullwidth = writes_fullwidth(line)
                if not fullwidth:
                    return m.group()
                why = "lost character"
            if is_question(line, m.start(2)):
                return m.group()
            context = line[max(0, m.start() - 1) : m.end() + 1]
            drop(context, context[0] + context[-1], why)
            return ""

        line = _BETWEEN_HAN.sub(between, line)

    if record is not None:
        for before, after, why in changes:
            record.change(FIX_NAME, before, after, detail=why)
    return line
