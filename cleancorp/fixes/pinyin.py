"""Family 5, glued pinyin: a reading that a converter left in brackets after a character.

Some script converters annotate every character they could not map one-to-one with its reading,
and scrapers keep the annotation: ``區(qū)堅持`` for ``區堅持``. A bracketed syllable is removed
only when it directly follows a Han character and is one of that character's readings, written
with a tone (tone mark or tone number; a bare syllable only where the reading itself is
toneless, like ``了(le)``). Everything else in brackets — ``(记者 罗超)``, ``(成都)``, ``(2023)``,
``(GDP)``, ``(a)``, a syllable that is not the character's reading — stays.

The readings come from ``cleancorp/data/pinyin_readings.tsv`` (one Han character per line, its
readings as tone-number syllables), built by ``scripts/build_pinyin_readings.py``.

>>> fix_glued_pinyin("中共大渡口區(qū)委堅持經(jīng)濟發(fā)展")
'中共大渡口區委堅持經濟發展'
>>> fix_glued_pinyin("(记者 罗超) 在成都(成都)召开, 共 3 项(a)")
'(记者 罗超) 在成都(成都)召开, 共 3 项(a)'
"""
from __future__ import annotations

from ..chars import HAN

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from ..document import StageRecord
from . import PrecheckParts, fast_precheck

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "pinyin_readings.tsv"

FIX_NAME = "glued_pinyin"

# Letters a pinyin syllable can be written with: ASCII, the accented Latin letters of tone marks
# (precomposed, or followed by combining marks), ü as `v` or `u:`, and the IPA ɑ/ɡ some fonts use.
_SYLLABLE_CHARS = "A-Za-z\u00c0-\u024f\u0251\u0261\u1e00-\u1eff\u0300-\u036f:"
# A Han character, then a bracketed syllable (ASCII or full-width brackets), optional tone digit.
#: Anything this fix could act on: a bracket and a letter (brackets are rare, so this is fast).
PRECHECK_PARTS: PrecheckParts = (("[(（]", f"[{_SYLLABLE_CHARS}]"),)
PRECHECK = fast_precheck(PRECHECK_PARTS)
_GLUED = re.compile(f"([{HAN}])([(（])([{_SYLLABLE_CHARS}]{{1,8}}[0-5]?)([)）])")

# Combining marks after NFD → the tone number they stand for.
_TONE_MARKS = {"\u0304": "1", "\u0301": "2", "\u030c": "3", "\u0300": "4"}
_SYLLABLE_SHAPE = re.compile(r"[a-z]{1,6}")


def syllable_key(written: str) -> str | None:
    """Normalise a written syllable to lowercase letters plus a tone digit ('' when toneless).

    Tone marks and tone numbers give the same key; ü, `v` and `u:` are all `v`; tone 0 and 5
    (neutral) are `5`. Returns None when the text cannot be a pinyin syllable.

    >>> [syllable_key(s) for s in ("qū", "QU1", "lǜ", "lu:4", "lv4", "le", "le0", "GDP2", "2023")]
    ['qu1', 'qu1', 'lv4', 'lv4', 'lv4', 'le', 'le5', None, None]
    """
    tone = ""
    if written and written[-1] in "012345":
        tone = "5" if written[-1] in "05" else written[-1]
        written = written[:-1]
    letters: list[str] = []
    for ch in unicodedata.normalize("NFD", written.lower()):
        if ch in _TONE_MARKS:
            if tone:
                return None  # two tones on one syllable
            tone = _TONE_MARKS[ch]
        elif ch == "\u0308" or ch == ":":
            if not letters or letters[-1] != "u":
                return None
            letters[-1] = "v"
        elif ch == "\u0302":
            continue  # ê (as in ê̄), written as plain e in the table
        elif ch == "\u0251":
            letters.append("a")
        elif ch == "\u0261":
            letters.append("g")
        elif "a" <= ch <= "z":
            letters.append(ch)
        else:
            return None
    base = "".join(letters)
    if not _SYLLABLE_SHAPE.fullmatch(base) or not re.search("[aeiouvmn]", base):
        return None
    return base + tone


@lru_cache(maxsize=1)
def readings() -> dict[str, frozenset[str]]:
    """Han character → its readings as syllable keys (loaded once, on first use).

    >>> sorted(readings()["區"])[:2]
    ['gou1', 'kou4']
    """
    table: dict[str, frozenset[str]] = {}
    with open(DATA_FILE, encoding="utf-8") as fh:
        for line in fh:
            char, _, syllables = line.rstrip("\n").partition("\t")
            if char and syllables:
                table[char] = frozenset(syllables.split(" "))
    return table


def is_reading_of(char: str, written: str) -> bool:
    """Whether `written` (as it appeared in brackets) is a reading of `char`.

    A syllable without a tone counts only when that reading of the character is itself toneless.

    >>> is_reading_of("區", "qū"), is_reading_of("區", "qu1"), is_reading_of("區", "qu")
    (True, True, False)
    >>> is_reading_of("了", "le"), is_reading_of("点", "dian3"), is_reading_of("点", "Dian3")
    (True, True, True)
    >>> is_reading_of("了", "LE")
    False
    """
    key = syllable_key(written)
    if key is None:
        return False
    known = readings().get(char)
    if not known:
        return False
    if key[-1].isdigit():
        return key in known
    # Toneless: only a lowercase bare syllable, and only where the reading is neutral-tone.
    return written.islower() and key + "5" in known


def fix_glued_pinyin(line: str, record: StageRecord | None = None) -> str:
    """Remove bracketed readings glued after the character they read.

    >>> fix_glued_pinyin("在中央財經(jīng)委員會第六次會議上")
    '在中央財經委員會第六次會議上'
    >>> fix_glued_pinyin("統（tong3）籌 點(dian3) 了(le) 马(mǎ)")
    '統籌 點 了 马'
    >>> fix_glued_pinyin("點(diǎn)很重要, 点(ma)不对, 统计(GDP)与(2023)")
    '點很重要, 点(ma)不对, 统计(GDP)与(2023)'
    """
    if not PRECHECK.search(line):
        return line
    changes: list[tuple[str, str, str]] = []

    def replace(m: re.Match[str]) -> str:
        char, written = m.group(1), m.group(3)
        if not is_reading_of(char, written):
            return m.group(0)
        changes.append((m.group(0), char, written))
        return char

    fixed = _GLUED.sub(replace, line)
    if record is not None:
        for before, after, written in changes:
            record.change(FIX_NAME, before, after, detail=f"{written} is a reading of {after}")
    return fixed
