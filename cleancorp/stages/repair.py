"""repair: undo mojibake and scraping artefacts without touching clean text.

>>> from cleancorp.document import Document
>>> doc = Document("a", text="????全会由区委常委会主持。\\ufffd")
>>> Repair().apply(doc); doc.text
'全会由区委常委会主持。'
"""
from __future__ import annotations

import re

import ftfy

from ..document import Document
from ..registry import Stage, register

# ftfy as Chinese text needs it: keep curly quotes and full-width punctuation, keep NFC only.
FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization="NFC",
    explain=False,
)

# Characters that can only come from Western mojibake, HTML escapes, or invisible junk.
# Clean Chinese text rarely holds any of them, so most lines never reach ftfy.
_FTFY_TRIGGER = re.compile(
    "[\u0080-\u00ff\u0100-\u024f\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
    "\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2028\u2029\u2060\ufeff]|&(?:#|[a-zA-Z]{2,8};)"
)
# Curly quotes and the like are common in clean Chinese text: only hand a line to ftfy when
# it also has a character from the Latin-1/cp1252 mojibake alphabet or an escape.
_MOJIBAKE_HINT = re.compile("[\u0080-\u00ff\u0100-\u024f]|&(?:#|[a-zA-Z]{2,8};)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2060\ufeff]")

# `????` at the start of a paragraph: full-width indent spaces lost to a lossy encoder.
_QMARK_INDENT = re.compile(r"(?m)^[ \t\u3000]*[?？]{2,}[ \t\u3000]*(?=\S)")
_STRAY_REPLACEMENT = re.compile("\ufffd+")
_NEEDS_REPAIR = re.compile("[\ufffd?？]|[\u0080-\u024f]|&(?:#|[a-zA-Z]{2,8};)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200f\u2060\ufeff]")


def fix_western_mojibake(line: str) -> str:
    """ftfy configured for Chinese.

    >>> fix_western_mojibake("â€œä¸­æ–‡â€\\x9d")
    '“中文”'
    """
    return ftfy.fix_text(line, FTFY_CONFIG)


def remove_question_indent(text: str) -> str:
    """Drop `????` paragraph indents (lost full-width spaces).

    >>> remove_question_indent("????全会由区委常委会主持。")
    '全会由区委常委会主持。'
    """
    return _QMARK_INDENT.sub("", text)


def remove_stray_replacement(text: str) -> str:
    """Drop U+FFFD where a character was lost.

    >>> remove_stray_replacement("重庆\\ufffd日报")
    '重庆日报'
    """
    return _STRAY_REPLACEMENT.sub("", text)


@register
class Repair(Stage):
    """Undo mojibake and artefacts: ftfy for Western mojibake, `????` indents, stray U+FFFD."""

    name = "repair"
    summary = "undo mojibake and artefacts (ftfy for Chinese, ???? indents, stray U+FFFD)"

    def __init__(self, ftfy: bool = True, question_indent: bool = True, replacement_char: bool = True) -> None:
        self.use_ftfy = ftfy
        self.question_indent = question_indent
        self.replacement_char = replacement_char

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        if not _NEEDS_REPAIR.search(text):
            return
        rec = doc.record(self.name)
        lines = text.split("\n")
        changed = 0
        for i, line in enumerate(lines):
            if not _NEEDS_REPAIR.search(line):
                continue
            new = line
            if self.use_ftfy and _MOJIBAKE_HINT.search(new):
                fixed = fix_western_mojibake(new)
                if fixed != new:
                    rec.change("ftfy", new, fixed)
                    new = fixed
            if self.question_indent and ("?" in new or "？" in new):
                fixed = remove_question_indent(new)
                if fixed != new:
                    rec.change("question_indent", new[: len(new) - len(fixed) + 1], fixed[:1])
                    new = fixed
            if self.replacement_char and "\ufffd" in new:
                fixed = remove_stray_replacement(new)
                if fixed != new:
                    rec.change("replacement_char", "\ufffd" * (len(new) - len(fixed)), "")
                    new = fixed
            if new != line:
                changed += abs(len(line) - len(new)) or sum(a != b for a, b in zip(line, new))
                lines[i] = new
        if changed:
            rec.chars_changed += changed
            doc.text = "\n".join(lines)
