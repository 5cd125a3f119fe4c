"""repair: undo mojibake and artefacts without touching clean text.

A cheap whole-document check (one compiled regex for anything any fix could act on) lets clean
documents through untouched; in the others, only the lines that hit it go through the fixes, in
this order (each is a function in ``cleancorp/fixes/`` and a stage option of the same name):

1. ``ftfy`` — Western mojibake, HTML escapes, control and zero-width characters;
2. ``cjk_mojibake`` — UTF-8 read as GBK/Big5, and GBK/Big5 read as Latin-1/cp1252;
3. ``phase_shift`` — GBK/Big5 text decoded one byte out of step after a lost lead byte;
4. ``glued_pinyin`` — bracketed readings a converter glued after characters (``區(qū)``);
5. ``artefacts`` — ``????`` indents, ``?``/U+FFFD for lost characters, private-use characters.

The places the check finds also say which fixes' parts begin there, so a hit line goes only to
the fixes that may act on it: a traditional line whose only hits are family-2 start characters
reaches ``cjk_mojibake`` alone, without the other fixes' prechecks scanning it first. A fix may
also test the whole page once: ``phase_shift`` is left out of every line of a page with ``????``
indents but no U+FFFD and no `?` before a run a trail byte could end.

A hit line is repaired once: what the fixes made of it, and the changes they recorded, are
remembered (``REMEMBER_LINES`` lines) and replayed when the line comes again, on this page or a
later one (site chrome, quoted sentences, the same traditional line the screens must decode).

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
from collections import OrderedDict
from typing import Callable, NamedTuple

from .. import charmodel
from ..document import Document, StageRecord
from ..fixes import PrecheckParts, part_finder, pinyin, western
# Imported under other names: the stage's options are called like these modules.
from ..fixes import artefacts as artefacts_fix, cjk_mojibake as cjk_mojibake_fix, phase_shift as phase_shift_fix
from ..registry import Stage, register


class Fix(NamedTuple):
    """One repair in the chain: its option name, the function, and what a line must contain
    for the function to have anything to do (as a regex, and as the parts it is made of);
    optionally, a test of a whole page that is False only when the function leaves every
    line of it unchanged."""

    name: str
    apply: Callable[[str, StageRecord | None], str]
    precheck: re.Pattern[str]
    precheck_parts: PrecheckParts
    may_act_on: Callable[[str], bool] | None = None


#: The fixes in the order they run. Order matters: Western mojibake first (it may reveal CJK
#: mojibake), then CJK mojibake (it needs the U+FFFD and `?` that stand for lost bytes), then
#: the artefacts that are left once everything recoverable has been recovered.
FIXES: tuple[Fix, ...] = (
    Fix("ftfy", western.fix_western, western.PRECHECK, western.PRECHECK_PARTS),
    Fix("cjk_mojibake", cjk_mojibake_fix.fix_cjk_mojibake, cjk_mojibake_fix.PRECHECK, cjk_mojibake_fix.PRECHECK_PARTS),
    Fix("phase_shift", phase_shift_fix.fix_phase_shift, phase_shift_fix.PRECHECK, phase_shift_fix.PRECHECK_PARTS,
        phase_shift_fix.may_act_on),
    Fix("glued_pinyin", pinyin.fix_glued_pinyin, pinyin.PRECHECK, pinyin.PRECHECK_PARTS),
    Fix("artefacts", artefacts_fix.fix_artefacts, artefacts_fix.PRECHECK, artefacts_fix.PRECHECK_PARTS),
)


#: Hit lines remembered with what the fixes made of them: the same line (a site's chrome, a
#: sentence quoted on many pages, a traditional line the family-2 screen has to decode before
#: it can let it pass) is repaired once and its result replayed, record and all. The oldest
#: is forgotten first; lines longer than REMEMBER_LINE_CHARS are not kept (some 16 MB at most,
#: a few in practice: the lines that repeat, chrome and quoted sentences, are short).
REMEMBER_LINES = 4096
REMEMBER_LINE_CHARS = 1000


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
        self._finders: dict[int, tuple[re.Pattern[str], dict[str, int]]] = {}
        # What the fixes made of the hit lines seen last, and the changes they recorded.
        # (An OrderedDict: dropping the oldest of a plain dict again and again makes finding the
        # next oldest walk over the holes left before it.)
        self._repaired: OrderedDict[str, tuple[str, tuple[tuple[str, str, str, str], ...]]] = OrderedDict()
        # One regex for "could any enabled fix act on this?". It scans the document once: no
        # match in a line means no fix has anything to do there. (No part matches across a
        # line break, so a match found in the whole text is a match of its line.)
        self.precheck = self._finder(0)[0]

    def warm_up(self) -> None:
        # The tables of the enabled fixes, which otherwise load on the first line that needs
        # them (a clean page needs none: the precheck finds nothing in it).
        names = {fix.name for fix in self.fixes}
        if names & {"cjk_mojibake", "phase_shift"}:
            charmodel.load()
        if "phase_shift" in names:
            phase_shift_fix.warm_up()
        if "cjk_mojibake" in names:
            cjk_mojibake_fix.screen_tables()
        if "glued_pinyin" in names:
            pinyin.readings()
        if "artefacts" in names:
            artefacts_fix.question_words()

    def _finder(self, without: int) -> tuple[re.Pattern[str], dict[str, int]]:
        """The ``part_finder`` of the fixes not in ``without`` (a bit per fix, in the order of
        ``self.fixes``), with each of its groups mapped to the fixes (bits) it names."""
        found = self._finders.get(without)
        if found is None:
            owners = [k for k, fix in enumerate(self.fixes) if not without >> k & 1 for _ in fix.precheck_parts]
            parts = tuple(part for k, fix in enumerate(self.fixes) if not without >> k & 1 for part in fix.precheck_parts)
            finder, group_parts = part_finder(parts)
            found = finder, {name: sum({1 << owners[i] for i in indices}) for name, indices in group_parts.items()}
            self._finders[without] = found
        return found

    def _fixes_in_line(self, line: str, first: re.Match[str], offset: int) -> int:
        """The fixes (a bit each) a part of which begins somewhere in ``line``; ``first`` is the
        first place any does (found at ``offset`` in the document). Each search looks only for
        the parts of fixes not yet known, so a line is scanned about twice however many places
        it has: once to its first hit, once for what else the rest holds.

        The fixes named include every fix whose precheck matches the line (and may name one
        whose part begins there but whose rest does not follow).
        """
        finders = self._finders
        which = finders[0][1][first.lastgroup]
        everything = (1 << len(self.fixes)) - 1
        pos = first.start() - offset
        while which != everything:
            finder, group_fixes = finders.get(which) or self._finder(which)
            hit = finder.search(line, pos + 1)
            if hit is None:
                break
            which |= group_fixes[hit.lastgroup]
            pos = hit.start()
        return which

    def _idle_on(self, text: str) -> int:
        """The fixes (a bit each) whose page test proves they leave every line of ``text`` as
        it is (``????`` indents, say, that no phase-shifted run follows)."""
        return sum(1 << k for k, fix in enumerate(self.fixes) if fix.may_act_on is not None and not fix.may_act_on(text))

    def _repair_line(self, line: str, first: re.Match[str], offset: int, idle: int = 0) -> tuple[str, tuple[tuple[str, str, str, str], ...]]:
        """``line`` through the fixes, and the changes they made (``StageRecord.change``'s
        arguments, in order); ``first`` is the first place the precheck found in it (at
        ``offset`` in the document); ``idle``: fixes known to leave the line unchanged."""
        changes = _Changes()
        which = self._fixes_in_line(line, first, offset) & ~idle
        new = line
        for k, fix in enumerate(self.fixes):
            if new is line:
                # Unchanged so far: a fix none of whose parts begins in the line has nothing
                # to do there (one named may still find nothing: each fix checks its own
                # precheck first).
                if which >> k & 1:
                    new = fix.apply(new, changes)
            elif fix.precheck.search(new):
                # An earlier fix changed the line: what the next can act on is checked anew.
                new = fix.apply(new, changes)
        return new, tuple(changes)

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        precheck = self.precheck
        hit = precheck.search(text) if self.fixes else None
        if hit is None:
            return
        rec = doc.record(self.name)
        repaired = self._repaired
        pieces: list[str] = []  # the text up to ``done``, repaired lines in place
        done = 0
        changed = 0
        idle = None  # worked out for the page when a line is first repaired
        # Walk from hit to hit, skipping to the next line after each: lines without a hit are
        # never looked at in Python (nor cut out of the text).
        while hit is not None:
            start = text.rfind("\n", 0, hit.start()) + 1
            end = text.find("\n", hit.start())
            if end < 0:
                end = len(text)
            line = text[start:end]
            known = repaired.get(line)
            if known is None:
                if idle is None:
                    idle = self._idle_on(text)
                known = self._repair_line(line, hit, start, idle)
                if len(line) <= REMEMBER_LINE_CHARS:
                    if len(repaired) >= REMEMBER_LINES:
                        repaired.popitem(last=False)  # the oldest
                    repaired[line] = known
            new, changes = known
            for change in changes:
                rec.change(*change)
            if new != line:
                changed += chars_changed(line, new)
                pieces.append(text[done:start])
                pieces.append(new)
                done = end
            hit = precheck.search(text, end + 1) if end < len(text) else None
        if changed:
            rec.chars_changed += changed
            pieces.append(text[done:])
            doc.text = "".join(pieces)


class _Changes(list):
    """Where the fixes record the changes they make to one line (as ``StageRecord.change`` is
    called), to be replayed into the document's record each time the line is met."""

    def change(self, fix: str, before: str, after: str, detail: str = "") -> None:
        self.append((fix, before, after, detail))
