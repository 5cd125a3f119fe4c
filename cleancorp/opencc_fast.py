"""A fast engine that gives exactly the output of opencc-python-reimplemented.

The declared library (module ``opencc``) converts text like this: the text is cut at separator
characters (white space and most punctuation); each piece then goes through the dictionary
*groups* of the profile's config in order, each group reading the previous group's output.
Inside a group the dictionaries are tried in order: the first dictionary replaces, again and
again, the longest key found anywhere in a piece (the leftmost one among equally long keys)
and splits the piece around it; what no key of the first dictionary touched is handed to the
second dictionary, and so on. A replaced span is never looked at again inside that group.

That "longest key anywhere first" rule is not the usual left-to-right longest match: with the
keys ``AB`` and ``BCD`` the text ``ABCD`` gets ``BCD`` replaced, not ``AB``. It is the same as
taking every occurrence of every key, sorting them longest first and then left to right, and
accepting each one that does not overlap an occurrence already accepted; that is what this
engine does, with C-speed help:

* an Aho-Corasick automaton (the compiled ``ahocorasick_rs`` package) reports every occurrence
  of every phrase key in one pass, overlapping ones included; Python only sorts and accepts
  those few;
* a dictionary of single characters (the big one of every group) becomes one ``str.translate``
  with a table indexed by code point, or, on text where only a handful of characters change,
  a splice at those characters found by one regular-expression scan.

Keys that contain a separator character can never match in the library (pieces never contain
one), so they are left out; then no key can match across a separator either, and the whole
document can be converted in one go instead of piece by piece.

>>> conv = converter("t2s")
>>> conv.convert("中國共產黨大渡口區委員會。Hello, 世界！")
'中国共产党大渡口区委员会。Hello, 世界！'
>>> converter("s2t").convert("头发和发展")
'頭髮和發展'
"""
from __future__ import annotations

import itertools
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

#: Profiles of the declared library this engine is checked against.
PROFILES = ("t2s", "tw2s", "hk2s", "tw2sp", "s2t")


class ConfigError(ValueError):
    """The library's config or dictionaries have a shape this engine does not reproduce."""


def _library_dir() -> str:
    import opencc

    return os.path.dirname(opencc.__file__)


@lru_cache(maxsize=None)
def separator_pattern() -> re.Pattern[str]:
    """The library's own separator expression (cut points that no dictionary key crosses)."""
    from opencc import OpenCC

    return OpenCC().split_chars_re


def read_dictionary(path: str) -> dict[str, str]:
    """Read one dictionary file as the library does: ``key<TAB>values`` per line, the first of
    space-separated values wins, a later line replaces an earlier one for the same key.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder, "demo.txt")
    ...     _ = path.write_text("髮\\t发\\n乾\\t干 乾\\n", encoding="utf-8")
    ...     read_dictionary(str(path))
    {'髮': '发', '乾': '干'}
    """
    table: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            parts = line.strip().split("\t")
            if len(parts) != 2:
                raise ConfigError(f"{path}:{line_no}: not KEY<TAB>VALUE")
            key, value = parts
            first = value.split(" ")[0]
            if not first:
                # The library treats an empty replacement as "no match for the whole piece";
                # no shipped dictionary has one, and reproducing that is not worth the cost.
                raise ConfigError(f"{path}:{line_no}: empty replacement for {key!r}")
            table[key] = first
    return table


def config_groups(profile: str) -> list[list[str]]:
    """The dictionary file names of a profile, one list per group, in the library's order.

    >>> config_groups("t2s")
    [['TSPhrases.txt', 'TSCharacters.txt']]
    """
    path = os.path.join(_library_dir(), "config", f"{profile}.json")
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except OSError:
        raise ConfigError(f"no OpenCC config {profile!r}") from None
    groups: list[list[str]] = []
    for link in config.get("conversion_chain", []):
        node = link.get("dict", {})
        if node.get("type") == "group":
            files = []
            for sub in node.get("dicts", []):
                if sub.get("type") != "txt":
                    raise ConfigError(f"{profile}: unsupported dictionary {sub!r} in a group")
                files.append(sub["file"])
            groups.append(files)
        elif node.get("type") == "txt":
            groups.append([node["file"]])
        # The library skips any other entry type; so do we.
    return groups


class CharClass:
    """A fast "is any of these characters here" test.

    Python's regex engine tests a class of characters from the Basic Multilingual Plane with a
    bitmap, but falls back to a linear list as soon as one character lies beyond U+FFFF (a
    hundred times slower on Chinese text). So the class is kept in two parts, and the slow one
    is used only on text that has characters beyond U+FFFF at all.

    >>> cls = CharClass("國𠀾")
    >>> [m.group() for m in cls.finditer("中國人𠀾")]
    ['國', '𠀾']
    >>> cls.search("中国人") is None
    True
    """

    _BEYOND_BMP = re.compile("[^\x00-\uffff]")

    def __init__(self, chars) -> None:
        chars = sorted(set(chars))
        self.chars: tuple[str, ...] = tuple(chars)
        bmp = "".join(re.escape(c) for c in chars if c <= "\uffff")
        self.bmp = re.compile(f"[{bmp}]") if bmp else None
        self.full = re.compile(f"[{''.join(re.escape(c) for c in chars)}]") if chars else None
        self.has_astral = any(c > "\uffff" for c in chars)

    def pattern_for(self, text: str) -> re.Pattern[str] | None:
        """The quickest compiled class that is exact on ``text``."""
        if self.has_astral and _beyond_bmp(text):
            return self.full
        return self.bmp

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        pattern = self.pattern_for(text)
        return pattern.search(text, pos) if pattern is not None else None

    def finditer(self, text: str):
        pattern = self.pattern_for(text)
        return pattern.finditer(text) if pattern is not None else iter(())


#: The text last looked at by ``_beyond_bmp`` and the answer (one tuple: replaced at once).
_last_beyond: tuple[str | None, bool] = (None, False)

#: ``sys.getsizeof`` of a string that stores 4 bytes per character, less those 4 bytes per
#: character. CPython stores a string in the narrowest width its widest character needs, so a
#: string smaller than this plus 4 bytes per character has no character beyond U+FFFF: an O(1)
#: answer for most Chinese text, which is stored 2 bytes per character. (A cached UTF-8 copy
#: can make a narrow string look wide; that only costs the exact scan, never a wrong answer.)
_WIDE_BASE = sys.getsizeof("\U00020000" * 2) - 8


def _beyond_bmp(text: str) -> bool:
    """Whether ``text`` has a character beyond U+FFFF. A document meets several classes in a
    row (script marks, trigger characters, a dictionary's changing characters), each of which
    would scan it again for this.

    >>> _beyond_bmp("中文"), _beyond_bmp("𠀾"), _beyond_bmp(""), _beyond_bmp("a𠀾" * 3)
    (False, True, False, True)
    """
    global _last_beyond
    if sys.getsizeof(text) - 4 * len(text) < _WIDE_BASE:
        return False
    last = _last_beyond
    if last[0] is text:
        return last[1]
    found = CharClass._BEYOND_BMP.search(text) is not None
    _last_beyond = (text, found)
    return found


#: Dictionaries with fewer keys get a DFA: twice as fast to scan, quick to build while small.
_DFA_MAX_KEYS = 5000
#: The sparse path of ``Dictionary.translate``: splice at hits when at most 1 char in this many
#: changes, else translate everything.
_SPARSE_RATIO = 32
#: ... or, for a table whose replacements are single characters, at this many changes.
_DENSE_FROM = 4


@dataclass
class Dictionary:
    """One dictionary file, ready to match.

    A dictionary with keys longer than one character gets an Aho-Corasick automaton. A table of
    single characters gets a ``str.translate`` table: a list indexed by code point over the
    Basic Multilingual Plane (a list lookup is twice as fast as a dict lookup there), and a
    dict for the rare text with characters beyond it.

    >>> d = Dictionary.build("demo", {"髮": "发", "乾": "干"})
    >>> d.translate("頭髮乾了")
    '頭发干了'
    """

    name: str
    table: dict[str, str]
    single_chars: bool = False
    automaton: object = None
    values: list[str] = field(default_factory=list)
    #: single-character tables: the characters whose replacement differs from themselves
    changing: CharClass | None = None
    translation: dict[int, str] = field(default_factory=dict)
    bmp_translation: list = field(default_factory=list)
    #: every replacement of a single-character table is itself one character
    keeps_length: bool = True
    _codes: object = None

    @classmethod
    def build(cls, name: str, table: dict[str, str]) -> "Dictionary":
        single = all(len(k) == 1 for k in table)
        d = cls(name, table, single_chars=single)
        if single:
            changes = {k: v for k, v in table.items() if k != v}
            d.changing = CharClass(changes)
            d.translation = {ord(k): v for k, v in changes.items()}
            bmp: list = list(range(0x10000))
            for k, v in changes.items():
                if k <= "\uffff":
                    bmp[ord(k)] = v
            d.bmp_translation = bmp
            d.keeps_length = all(len(v) == 1 for v in changes.values())
        elif table:
            import ahocorasick_rs

            keys = list(table)
            d.values = [table[k] for k in keys]
            impl = ahocorasick_rs.Implementation.DFA if len(keys) <= _DFA_MAX_KEYS else None
            d.automaton = ahocorasick_rs.AhoCorasick(
                keys, matchkind=ahocorasick_rs.MatchKind.Standard, implementation=impl
            )
        return d

    def occurrences(self, text: str) -> list[tuple[int, int, str]]:
        """Every occurrence of every key in ``text`` as ``(-length, start, value)``, overlapping
        ones included; sorted, that is the order in which the library would replace them.

        >>> d = Dictionary.build("demo", {"AB": "ab", "BCD": "bcd"})
        >>> sorted(d.occurrences("ABCD"))
        [(-3, 1, 'bcd'), (-2, 0, 'ab')]
        """
        if self.single_chars:
            # A table of single characters before another table of its group: every key counts,
            # even one that maps to itself, because it shields its character from the next.
            table = self.table
            return [(-1, i, table[ch]) for i, ch in enumerate(text) if ch in table]
        if self.automaton is None:
            return []
        values = self.values
        return [
            (start - end, start, values[index])
            for index, start, end in self.automaton.find_matches_as_indexes(text, overlapping=True)
        ]

    def translate(self, text: str) -> str:
        """Replace every character of ``text`` that this single-character table changes.

        Few changes (simplified text with a stray traditional character): rebuild the text
        around them; many (traditional text): one ``str.translate`` over all of it.
        """
        changing = self.changing
        if changing is None:
            return text
        pattern = changing.pattern_for(text)
        if pattern is None:
            return text
        if self.keeps_length and pattern is not changing.full:
            # Past a few changes a table lookup per code point in NumPy is the cheaper way.
            limit = min(_DENSE_FROM, len(text) // _SPARSE_RATIO + 1)
        else:
            limit = len(text) // _SPARSE_RATIO + 1
        hits = list(itertools.islice(pattern.finditer(text), limit))
        if not hits:
            return text
        if len(hits) == limit:
            if pattern is changing.full:
                return text.translate(self.translation)
            if self.keeps_length:
                # One table lookup per code point in NumPy: several times faster than
                # str.translate, which looks every character up in a Python list.
                return _translate_codes(text, self._code_table())
            # A list raises IndexError beyond U+FFFF, which translate reads as "keep".
            return text.translate(self.bmp_translation)
        out, pos, table = [], 0, self.table
        for m in hits:
            start = m.start()
            out.append(text[pos:start])
            out.append(table[m.group()])
            pos = start + 1
        out.append(text[pos:])
        return "".join(out)


    def _code_table(self):
        """This table over the Basic Multilingual Plane as code points, for ``_translate_codes``
        (built on first use: 256 KB)."""
        table = self._codes
        if table is None:
            import numpy as np

            table = np.arange(0x10000, dtype=np.uint32)
            for code, value in self.translation.items():
                if code < 0x10000:
                    table[code] = ord(value)
            self._codes = table
        return table


def _translate_codes(text: str, table) -> str:
    """``text`` (no character beyond U+FFFF) with each code point replaced through ``table``.

    >>> import numpy as np
    >>> table = np.arange(0x10000, dtype=np.uint32); table[ord("髮")] = ord("发")
    >>> _translate_codes("頭髮", table)
    '頭发'
    """
    import numpy as np

    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return table[codes].tobytes().decode("utf-32-le", "surrogatepass")


class Converter:
    """A profile of the library compiled for speed; ``convert`` equals the library's ``convert``.

    >>> Converter("tw2sp").convert("滑鼠和軟體")
    '鼠标和软件'
    """

    def __init__(self, profile: str) -> None:
        self.profile = profile
        base = os.path.join(_library_dir(), "dictionary")
        separators = separator_pattern()
        self.groups: list[list[Dictionary]] = []
        for number, files in enumerate(config_groups(profile)):
            group = []
            for name in files:
                table = read_dictionary(os.path.join(base, name))
                crossing = [k for k in table if separators.search(k)]
                if crossing and number > 0:
                    # A later group reads the earlier groups' output, where a replacement may
                    # have put a separator character inside a piece: such keys could match there.
                    raise ConfigError(f"{profile}: {name} has keys with separators in a later group")
                for key in crossing:
                    del table[key]
                group.append(Dictionary.build(name, table))
            self.groups.append(group)
        chars, phrase_keys = self._trigger_chars()
        self.trigger = CharClass(chars)
        # A trigger character that changes nothing on its own (覆 of 反覆 → 反复, common in
        # simplified text as 覆盖) triggers only where one of its keys is around it: one small
        # pattern of those keys, tried on a window of the longest key's length either side.
        self._phrase_only = {ch: re.compile("|".join(map(re.escape, sorted(keys, key=len, reverse=True))))
                             for ch, keys in phrase_keys.items()}
        self._reach = max((len(k) for keys in phrase_keys.values() for k in keys), default=1)

    def _trigger_chars(self) -> tuple[set[str], dict[str, set[str]]]:
        """Characters at least one of which every text that converts to something else has.

        Per group: the characters the final single-character table changes, and one character
        of each other key that changes something and holds none of those. A text without any
        of them has no changing character, so every key found in it is made of unchanging
        characters only; if none of those keys occurs either, the group gives the text back
        as it was, and so does the next group. Any character of a key will do, so each key
        gives the one most of these keys share (瞭 of 明瞭, 不瞭解, 一目瞭然): a rare character,
        not the common 一 or 不 they start with. Also returned: for each chosen character that
        no table changes alone, the keys it stands for.
        """
        chars: set[str] = set()
        changes_alone: set[str] = set()
        phrase_keys: dict[str, set[str]] = {}
        for group in self.groups:
            last = group[-1]
            changing = {k for k, v in last.table.items() if k != v} if last.single_chars else set()
            chars |= changing
            changes_alone |= changing
            keys = [
                key
                for d in (group[:-1] if last.single_chars else group)
                for key, value in d.table.items()
                if key != value and changing.isdisjoint(key)
            ]
            shared = Counter(ch for key in keys for ch in set(key))
            for key in keys:
                chosen = max(key, key=shared.__getitem__)
                chars.add(chosen)
                phrase_keys.setdefault(chosen, set()).add(key)
        return chars, {ch: keys for ch, keys in phrase_keys.items() if ch not in changes_alone}

    def convert(self, text: str) -> str:
        """Convert ``text``; characters no key covers come back untouched."""
        if not self.triggered_by(text):
            return text
        return self.convert_triggered(text)

    def triggered_by(self, text: str) -> bool:
        """Whether ``text`` holds a character that may make ``convert`` change it, or a key of
        a character that changes only within its keys (when it does not, ``convert`` gives it
        back as it is).

        >>> t2s = Converter("t2s")
        >>> t2s.triggered_by("覆盖全省"), t2s.triggered_by("反覆思量"), t2s.triggered_by("國")
        (False, True, True)
        """
        pattern = self.trigger.pattern_for(text)
        if pattern is None:
            return False
        reach = self._reach
        for m in pattern.finditer(text):
            keys = self._phrase_only.get(m.group())
            if keys is None:
                return True
            at = m.start()
            if keys.search(text, max(0, at - reach + 1), at + reach) is not None:
                return True
        return False

    def convert_triggered(self, text: str) -> str:
        """``convert`` for a text already known to be ``triggered_by``: the same output, without
        looking for the trigger characters again."""
        for group in self.groups:
            text = _convert_group(text, group)
        return text


def _convert_group(text: str, group: list[Dictionary]) -> str:
    """One dictionary group over ``text``: accept occurrences longest first, then left to right,
    dictionary after dictionary, skipping any that overlap an accepted one; a final table of
    single characters translates what is left between accepted phrases.

    >>> group = [Dictionary.build("p", {"AB": "ab", "BCD": "bcd"}), Dictionary.build("c", {"A": "a", "E": "e"})]
    >>> _convert_group("ABCDE", group)
    'abcde'
    """
    last = group[-1]
    phrase_dicts = group[:-1] if last.single_chars else group
    accepted: list[tuple[int, int, str]] = []
    taken: bytearray | None = None
    for d in phrase_dicts:
        found = d.occurrences(text)
        if not found:
            continue
        if taken is None:
            taken = bytearray(len(text))
        found.sort()
        for neg_len, start, value in found:
            end = start - neg_len
            if taken.find(1, start, end) == -1:
                taken[start:end] = b"\x01" * (end - start)
                accepted.append((start, end, value))
    final = last.translate if last.single_chars else _unchanged
    if not accepted:
        return final(text)
    accepted.sort()
    if last.keeps_length:
        # Translating everything keeps every position, so the phrases are spliced into the
        # translated text: one translate call instead of one per stretch between phrases.
        source, final = final(text), _unchanged
    else:
        source = text
    out: list[str] = []
    pos = 0
    for start, end, value in accepted:
        if pos < start:
            out.append(final(source[pos:start]))
        out.append(value)
        pos = end
    if pos < len(source):
        out.append(final(source[pos:]))
    return "".join(out)


def _unchanged(text: str) -> str:
    return text


_CONVERTERS: dict[str, Converter] = {}


def converter(profile: str) -> Converter:
    """The converter of ``profile``, built on first use and kept for the life of the process
    (worker processes forked afterwards share it)."""
    conv = _CONVERTERS.get(profile)
    if conv is None:
        conv = _CONVERTERS[profile] = Converter(profile)
    return conv
