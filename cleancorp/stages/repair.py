"""repair: undo mojibake and artefacts without touching clean text.

A cheap whole-document check (one compiled regex for anything any fix could act on) lets clean
documents through untouched; in the others, only the lines that hit it go through the fixes, in
this order (each is a function in ``cleancorp/fixes/`` and a stage option of the same name):

1. ``ftfy`` — Western mojibake, HTML escapes, control and zero-width characters;
2. ``cjk_mojibake`` — UTF-8 read as GBK/Big5, and GBK/Big5 read as Latin-1/cp1252;
3. ``phase_shift`` — GBK/Big5 text decoded one byte out of step after a lost lead byte;
4. ``glued_pinyin`` — bracketed readings a converter glued after characters (``區(qū)``);
5. ``artefacts`` — ``????`` indents, ``?``/U+FFFD for lost characters, private-use characters.

Inside a fix, a second, tighter screen keeps its costly search off lines that only look like
damage to the precheck: clean traditional text and rare characters (``瑕疵``) whose bytes stop
decoding as UTF-8 at once (family 2), and a ``?`` before clean text, which no choice of the lost
byte could turn into a better reading (family 4). A screen skips only what the search would
leave unchanged (``tests/test_repair_speed.py`` compares the stage with and without them).

>>> from cleancorp.document import Document
>>> doc = Document("a", text="????全会由区委常委会主持。\\ufffd\\n閲嶅簡鏃ユ姤")
>>> Repair().apply(doc); doc.text
'全会由区委常委会主持。\\n重庆日报'
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple

from .. import charmodel
from ..document import Document, StageRecord
from ..fixes import PrecheckParts, fast_precheck, pinyin, western
# Imported under other names: the stage's options are called like these modules.
from ..fixes import artefacts as artefacts_fix, cjk_mojibake as cjk_mojibake_fix, phase_shift as phase_shift_fix
from ..registry import Stage, register


class Fix(NamedTuple):
    """One repair in the chain: its option name, the function, and what a line must contain
    for the function to have anything to do (as a regex, and as the parts it is made of)."""

    name: str
    apply: Callable[[str, StageRecord | None], str]
    precheck: re.Pattern[str]
    precheck_parts: PrecheckParts


#: The fixes in the order they run. Order matters: Western mojibake first (it may reveal CJK
#: mojibake), then CJK mojibake (it needs the U+FFFD and `?` that stand for lost bytes), then
#: the artefacts that are left once everything recoverable has been recovered.
FIXES: tuple[Fix, ...] = (
    Fix("ftfy", western.fix_western, western.PRECHECK, western.PRECHECK_PARTS),
    Fix("cjk_mojibake", cjk_mojibake_fix.fix_cjk_mojibake, cjk_mojibake_fix.PRECHECK, cjk_mojibake_fix.PRECHECK_PARTS),
    Fix("phase_shift", phase_shift_fix.fix_phase_shift, phase_shift_fix.PRECHECK, phase_shift_fix.PRECHECK_PARTS),
    Fix("glued_pinyin", pinyin.fix_glued_pinyin, pinyin.PRECHECK, pinyin.PRECHECK_PARTS),
    Fix("artefacts", artefacts_fix.fix_artefacts, artefacts_fix.PRECHECK, artefacts_fix.PRECHECK_PARTS),
)


def chars_changed(before: str, after: str) -> int:
    """How many characters an edit touched: the longer side of what differs between the
    common prefix and the common suffix.

    >>> chars_changed("重庆閲嶅簡日报", "重庆重庆日报")
    3
    """
    n = min(len(before), len(after))
    if len(before) != len(after):
        # The common edit, text cut from one end (an indent, a stray mark at the end): the
        # shorter side is all prefix and suffix.
        longer, shorter = (before, after) if len(before) > len(after) else (after, before)
        if longer.startswith(shorter) or longer.endswith(shorter):
            return len(longer) - n
    # Binary searches on slice comparisons: a few string compares in C instead of a Python
    # step per character of a long line.
    lo, hi = 0, n  # longest common prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if before[:mid] == after[:mid]:
            lo = mid
        else:
            hi = mid - 1
    start = lo
    lo, hi = 0, n - start  # longest common suffix not overlapping the prefix
    len_before, len_after = len(before), len(after)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if before[len_before - mid :] == after[len_after - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return max(len_before, len_after) - start - lo


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
        # The tables the fixes need are read now, once per process, rather than by whichever
        # document first needs them (it would take some 0.2 s longer than any other).
        if cjk_mojibake or phase_shift:
            charmodel.load()
        if cjk_mojibake:
            cjk_mojibake_fix.screen_tables()
        if phase_shift:
            phase_shift_fix.score_tables()
        if glued_pinyin:
            pinyin.readings()
        if artefacts:
            artefacts_fix.question_words()
        # One regex for "could any enabled fix act on this?". It scans the document once: no
        # match in a line means no fix has anything to do there. (No part matches across a
        # line break, so a match found in the whole text is a match of its line.)
        self.precheck = fast_precheck(tuple(part for fix in self.fixes for part in fix.precheck_parts))

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        hit = self.precheck.search(text) if self.fixes else None
        if hit is None:
            return
        rec = doc.record(self.name)
        lines = text.split("\n")
        changed = 0
        # Walk from hit to hit, skipping to the next line after each: lines without a hit are
        # never looked at in Python.
        line_starts: list[int] = []
        while hit is not None:
            start = text.rfind("\n", 0, hit.start()) + 1
            end = text.find("\n", hit.end())
            line_starts.append(start)
            hit = self.precheck.search(text, end + 1) if end >= 0 else None
        i = 0
        pos = 0
        for start in line_starts:
            # index of the line that begins at ``start``
            i += text.count("\n", pos, start)
            pos = start
            line = lines[i]
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
