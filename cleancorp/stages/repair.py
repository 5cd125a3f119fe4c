"""repair: undo mojibake and artefacts without touching clean text.

A cheap whole-document check (one compiled regex for anything any fix could act on) lets clean
documents through untouched; in the others, only the lines that hit it go through the fixes, in
this order (each is a function in ``cleancorp/fixes/`` and a stage option of the same name):

1. ``ftfy`` — Western mojibake, HTML escapes, control and zero-width characters;
2. ``cjk_mojibake`` — UTF-8 read as GBK/Big5, and GBK/Big5 read as Latin-1/cp1252;
3. ``phase_shift`` — GBK/Big5 text decoded one byte out of step after a lost lead byte;
4. ``glued_pinyin`` — bracketed readings a converter glued after characters (``區(qū)``);
5. ``artefacts`` — ``????`` indents, ``?``/U+FFFD for lost characters, private-use characters.

>>> from cleancorp.document import Document
>>> doc = Document("a", text="????全会由区委常委会主持。\\ufffd\\n閲嶅簡鏃ユ姤")
>>> Repair().apply(doc); doc.text
'全会由区委常委会主持。\\n重庆日报'
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple

from ..document import Document, StageRecord
from ..fixes.artefacts import PRECHECK as ARTEFACTS_PRECHECK, fix_artefacts
from ..fixes.cjk_mojibake import PRECHECK as CJK_MOJIBAKE_PRECHECK, fix_cjk_mojibake
from ..fixes.phase_shift import PRECHECK as PHASE_SHIFT_PRECHECK, fix_phase_shift
from ..fixes.pinyin import PRECHECK as GLUED_PINYIN_PRECHECK, fix_glued_pinyin
from ..fixes.western import PRECHECK as WESTERN_PRECHECK, fix_western
from ..registry import Stage, register


class Fix(NamedTuple):
    """One repair in the chain: its option name, the function, and what a line must contain
    for the function to have anything to do."""

    name: str
    apply: Callable[[str, StageRecord | None], str]
    precheck: re.Pattern[str]


#: The fixes in the order they run. Order matters: Western mojibake first (it may reveal CJK
#: mojibake), then CJK mojibake (it needs the U+FFFD and `?` that stand for lost bytes), then
#: the artefacts that are left once everything recoverable has been recovered.
FIXES: tuple[Fix, ...] = (
    Fix("ftfy", fix_western, WESTERN_PRECHECK),
    Fix("cjk_mojibake", fix_cjk_mojibake, CJK_MOJIBAKE_PRECHECK),
    Fix("phase_shift", fix_phase_shift, PHASE_SHIFT_PRECHECK),
    Fix("glued_pinyin", fix_glued_pinyin, GLUED_PINYIN_PRECHECK),
    Fix("artefacts", fix_artefacts, ARTEFACTS_PRECHECK),
)


def chars_changed(before: str, after: str) -> int:
    """How many characters an edit touched: the longer side of what differs between the
    common prefix and the common suffix.

    >>> chars_changed("重庆閲嶅簡日报", "重庆重庆日报")
    3
    """
    n = min(len(before), len(after))
    start = 0
    while start < n and before[start] == after[start]:
        start += 1
    end = 0
    while end < n - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return max(len(before), len(after)) - start - end


@register
class Repair(Stage):
    """Undo mojibake and artefacts; every fix can be switched off by its option."""

    name = "repair"
    summary = "undo mojibake and artefacts (ftfy for Chinese, CJK mojibake, phase shift, glued pinyin, ????/U+FFFD)"

    def __init__(
        self,
        ftfy: bool = True,
        cjk_mojibake: bool = True,
        phase_shift: bool = True,
        glued_pinyin: bool = True,
        artefacts: bool = True,
    ) -> None:
        switches = {
            "ftfy": ftfy,
            "cjk_mojibake": cjk_mojibake,
            "phase_shift": phase_shift,
            "glued_pinyin": glued_pinyin,
            "artefacts": artefacts,
        }
        self.fixes = [fix for fix in FIXES if switches.get(fix.name, True)]
        # One regex for "could any enabled fix act on this?", run once per document and then
        # once per line of the documents that hit it.
        self.precheck = re.compile("|".join(f"(?:{fix.precheck.pattern})" for fix in self.fixes) or "(?!)")

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        if not self.fixes or not self.precheck.search(text):
            return
        rec = doc.record(self.name)
        lines = text.split("\n")
        changed = 0
        for i, line in enumerate(lines):
            if not self.precheck.search(line):
                continue
            new = line
            for fix in self.fixes:
                if fix.precheck.search(new):
                    new = fix.apply(new, rec)
            if new != line:
                changed += chars_changed(line, new)
                lines[i] = new
        if changed:
            rec.chars_changed += changed
            doc.text = "\n".join(lines)
