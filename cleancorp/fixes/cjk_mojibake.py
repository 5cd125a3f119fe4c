"""Families 2 and 3, CJK mojibake: text decoded with the wrong double-byte or single-byte codec.

Family 2 — UTF-8 read as GBK/GB18030 or Big5. Every three UTF-8 bytes of a Chinese character
become one and a half rare characters: ``重庆日报`` reads ``閲嶅簡鏃ユ姤``. Re-encoding the span
with the codec that misread it gives back the UTF-8 bytes. Browsers and lenient decoders lose a
byte wherever a pair was invalid and show U+FFFD (or, after another lossy save, ``?``) instead;
each such mark stands for one lost byte, and the lost byte is reconstructed by trying every
value that makes valid UTF-8 and keeping the character the character model likes best between
its neighbours. A reconstruction is kept only when garbling it again gives exactly the span seen.
Text garbled twice (``UTF-8 → GBK → UTF-8 → GBK``) is reversed twice.

Family 3 — GBK/GB18030 or Big5 read as Latin-1 or cp1252: every Chinese character becomes two
Latin-1 letters or symbols (``ÖØÇìÈÕ±¨``, Big5 ``¤¤¤å``). Re-encoding with Latin-1/cp1252 gives
the double-byte text back.

A reversal replaces a span only when it is strict (or its losses are reconstructed as above) and
the character model scores the result clearly better than the span as it stands (``MARGIN``
nats per character, family 2) or, for family 3 where the garble is Latin letters the model is
neutral about, reads like ordinary Chinese (``FLOOR_LATIN``). Clean text — simplified,
traditional, rare words, names — stays as it is: its characters do not re-encode into valid
UTF-8 or double-byte text, or when by chance they do, the result reads worse than the original.

>>> fix_cjk_mojibake("记者 閲嶅簡鏃ユ姤 报道：鍙戝竷鏃堕棿 2024")
'记者 重庆日报 报道：发布时间 2024'
>>> fix_cjk_mojibake("ÖØÇìÈÕ±¨ 2024 ¤¤¤å")
'重庆日报 2024 中文'
>>> fix_cjk_mojibake("涓\\ufffd鍗庝汉姘戝叡鍜屽浗瀹\\ufffd娉\\ufffd")
'中华人民共和国宪法'
"""
from __future__ import annotations

from .. import charmodel

import codecs
import itertools
import re
from functools import lru_cache
from typing import Iterable, NamedTuple

from ..document import StageRecord
from . import Budget, PrecheckParts, fast_precheck

FIX_NAME = "cjk_mojibake"

#: How much better (mean natural-log probability per character) a family-2 repair must score.
MARGIN = 2.5
#: The lowest mean score any repair may have (ordinary Chinese scores about -4 to -7).
FLOOR = -9.0
#: Family 3 replaces Latin letters the model has no opinion about: the result must read like
#: ordinary Chinese on its own.
FLOOR_LATIN = -8.5
#: A long run (this many Han characters or more) that decodes strictly is evidence by itself:
#: Western text never has so many Latin-1 letters in a row. Literary or classical Chinese
#: (`夥颐连翩兮多少一夫。`) may then score below ``FLOOR_LATIN``; wrong readings score far lower.
LONG_LATIN_HAN = 8
FLOOR_LATIN_LONG = -11.0
#: Longest span (in garbled characters) decoded in one piece; longer garbles go in pieces.
MAX_SPAN = 300
#: A span with lost bytes shorter than this (in garbled characters) must garble back exactly.
VERIFY_BELOW = 8
#: Candidates (the most frequent first) compared for one character with lost bytes.
MAX_CANDIDATES = 96
#: Characters decoded at first from each start; clean text fails to decode well within it.
SHORT_WINDOW = 12
#: Candidate characters the reconstruction of lost bytes may try in one line, in all: at least
#: this many, or so many per character of the line (bounded work on pathological lines).
CANDIDATE_BUDGET = 200_000
CANDIDATES_PER_CHAR = 30

#: Codecs that misread UTF-8 (family 2), in the order tried.
MISREAD_UTF8 = ("gb18030", "big5")
#: Misreadings whose lost bytes are rebuilt. A Big5 decoder loses most of the bytes of UTF-8
#: (almost every pair is invalid), too many to rebuild with confidence: only strict reversals.
REBUILD_LOST = ("gb18030",)
#: Decoders whose lossy output a reconstruction must reproduce, per misreading codec.
LOSSY_DECODERS = {"gb18030": ("gbk", "gb18030", "cp936"), "big5": ("big5", "cp950")}
#: Double-byte codecs whose bytes were misread as Latin-1/cp1252 (family 3).
MISREAD_LEGACY = ("gb18030", "big5")

_HOLE_CHARS = "\ufffd?"
_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_LATIN_BYTE = {ch: ch.encode("cp1252")[0] for ch in _CP1252_HIGH}
_LATIN_BYTE.update({chr(b): b for b in range(0x100) if chr(b) not in _LATIN_BYTE})
# The same as a ``str.translate`` table to the Latin-1 character of each byte: a run becomes
# its bytes with one translate and one encode (anything else becomes `?`, as in _LATIN_BYTE.get).
_LATIN_BYTE_TABLE = {ord(ch): b for ch, b in _LATIN_BYTE.items()}


def _pair_chars(codec: str, leads: range, trails: range) -> str:
    """The characters ``codec`` reads from every byte pair with a lead in ``leads`` and a trail
    in ``trails`` (private-use ones left out), sorted."""
    chars: set[str] = set()
    for lead in leads:
        for trail in trails:
            try:
                ch = bytes((lead, trail)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and not "\ue000" <= ch <= "\uf8ff":
                chars.add(ch)
    return "".join(sorted(chars))


# What family-2 garble is made of. A CJK character is three UTF-8 bytes (lead E2–EF, then two
# continuation bytes 80–BF), so a garbled span starts with a pair (lead, continuation) — a
# *start* character — followed by a pair whose first byte is a continuation byte, or by the
# mark of a lost byte.
_STARTS = {codec: _pair_chars(codec, range(0xE2, 0xF0), range(0x80, 0xC0)) for codec in MISREAD_UTF8}
_SECONDS = "".join(sorted(set().union(*(_pair_chars(c, range(0x80, 0xC0), range(0x40, 0xFF)) for c in MISREAD_UTF8))))
_START_SETS = {codec: frozenset(chars) for codec, chars in _STARTS.items()}


def _char_class(chars: str) -> str:
    """A regex character class for a sorted set of characters, as ranges.

    >>> _char_class("abcx")
    '[a-cx]'
    """
    parts: list[str] = []
    codes = [ord(c) for c in chars]
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(parts) + "]"


_START_CLASS = _char_class("".join(sorted(set("".join(_STARTS.values())))))
_GARBLE2_PARTS: PrecheckParts = ((_START_CLASS, f"(?:{_char_class(_SECONDS)}|[\ufffd?])"), ("\ufffd", ""))
# Latin-1 letters and symbols, cp1252 punctuation, and the C1 controls a Latin-1 decoder (or a
# browser, for the five bytes cp1252 leaves undefined) makes of bytes 80–9F.
_LATIN_HIGH = "[\u0080-\u00ff" + re.escape(_CP1252_HIGH) + "]"
_GARBLE3_PARTS: PrecheckParts = ((_LATIN_HIGH, "[\u00a1-\u00ff\\x40-\\x7e]"),)
#: Anything either family could act on: a family-2 start character followed by a continuation
#: pair or a lost byte, a U+FFFD, or two Latin-1 letters/symbols in a row (``ÖØ``, Big5 ``¤@``).
PRECHECK_PARTS: PrecheckParts = _GARBLE2_PARTS + _GARBLE3_PARTS
PRECHECK = fast_precheck(PRECHECK_PARTS)
_FAMILY2_HINT = fast_precheck(_GARBLE2_PARTS)
_FAMILY3_HINT = fast_precheck(_GARBLE3_PARTS)
# Runs of characters a garble can be made of: non-ASCII, non-space; `?` inside or at the edge of
# such a run may stand for a lost byte.
_RUN2 = re.compile(r"\?{0,3}(?:(?:[^\x00-\x7f\s]|\u3000)\?{0,3})+")  # U+3000 is GBK A1A1
_ASCII = re.compile("[\x00-\x7f]")
_RUN3 = re.compile(f"(?:{_LATIN_HIGH}[\\x21-\\x7e]?)+")


_model = charmodel.load  # read once per process, on first use


from ..charmodel import LINE_END  # noqa: E402  (the model's end-of-paragraph mark)


class Reading(NamedTuple):
    """A repaired span: ``text`` replaces ``line[start:end]``; ``how`` names the codecs."""

    start: int
    end: int
    text: str
    how: str
    new: float
    old: float


@lru_cache(maxsize=65536)
def _encode_char(ch: str, codec: str) -> bytes | None:
    """The bytes a misreading codec made ``ch`` from, or None when it cannot have.

    >>> _encode_char("閲", "gb18030"), _encode_char("€", "gb18030"), _encode_char("a", "gb18030")
    (b'\\xe9\\x87', b'\\x80', None)
    """
    if ch == "\u20ac" and codec == "gb18030":
        return b"\x80"  # Windows code page 936 shows a stray 0x80 byte as the euro sign
    try:
        data = ch.encode(codec)
    except UnicodeEncodeError:
        return None
    return data if len(data) == 2 else None


@lru_cache(maxsize=None)
def _lost_fits(value: int, following: int | None) -> bool:
    """Whether a misreading decoder would have lost ``value`` followed by ``following``: it
    starts no valid pair with it (GBK or GB18030, whichever misread the page).

    >>> _lost_fits(0xAD, 0xE5), _lost_fits(0xB8, 0xAD)
    (True, False)
    """
    if following is None:
        return True
    pair = bytes((value, following))
    for codec in ("gbk", "gb18030"):
        try:
            pair.decode(codec)
        except UnicodeDecodeError:
            return True
    return False


#: A lost byte (None) stands alone: the decoder could not pair it with the byte after it. A
#: lenient decoder that drops a whole invalid pair loses two bytes for one mark:
PAIR_FIRST, PAIR_SECOND = 256, 257
_LOST = (None, PAIR_FIRST, PAIR_SECOND)


def _structure_ok(data: list[int | None], need: int) -> tuple[bool, int]:
    """Walk bytes (lost ones fit anything) as UTF-8 structure: (still valid?, continuation bytes
    still needed at the end)."""
    for b in data:
        if b is None or b >= 256:
            need = need - 1 if need else 2  # a lost lead byte: most likely a CJK character
            continue
        if need:
            if not 0x80 <= b <= 0xBF:
                return False, need
            need -= 1
        else:
            length = _utf8_length(b)
            if not length:
                return False, need
            need = length - 1
    return True, need


def _owed_after_lost(need: int) -> int:
    """Continuation bytes owed after one lost byte: it pays one, or leads a new character (most
    likely a CJK one, three bytes)."""
    return need - 1 if need else 2


def _reach(tokens: list[int | None], start: int, need: int, limit: int, memo: dict[tuple[int, int], int]) -> int:
    """How many tokens from ``start`` (up to ``limit``) can walk as valid UTF-8 structure with
    ``need`` continuation bytes owed, each later mark read as one byte or two, whichever
    reaches further.

    >>> _reach([None, 0x90, 0x86, 0xB8, 0xF9], 0, 0, 5, {})  # a lost lead, 90 86 fit; B8 cannot
    3
    """
    key = (start, need)
    if key in memo:
        return memo[key]
    k = start
    while k < limit:
        tok = tokens[k]
        if tok is None:
            one = _owed_after_lost(need)
            k += 1 + max(_reach(tokens, k + 1, one, limit, memo), _reach(tokens, k + 1, _owed_after_lost(one), limit, memo))
            break
        if need:  # ``_structure_ok`` for one byte, inline: this walks every byte near a mark
            if not 0x80 <= tok <= 0xBF:
                break
            need -= 1
        else:
            need = _UTF8_LENGTH[tok] - 1
            if need < 0:
                break
        k += 1
    memo[key] = k - start
    return k - start


def _owed_after(tokens: list[int | None], start: int, end: int, need: int) -> int:
    """Continuation bytes still owed after the real bytes ``tokens[start:end]``, ``need``
    being owed before them. A long stretch is settled by its last lead byte alone.

    >>> _owed_after(list("中文".encode())[:5], 0, 5, 0), _owed_after([0xB8, 0xAD], 0, 2, 2)
    (1, 0)
    """
    if end - start < 4:
        for b in tokens[start:end]:
            _, need = _structure_ok([b], need)
        return need
    for back in range(1, 4):
        b = tokens[end - back]
        if not 0x80 <= b <= 0xBF:  # type: ignore[operator]
            return max(_utf8_length(b) - back, 0)  # type: ignore[arg-type]
    return 0


def expand_holes(tokens: list[int | None]) -> tuple[list[int | None], list[int]]:
    """Decide how many bytes each lost-byte mark (None) stands for — one, or two when a lenient
    decoder dropped a whole invalid pair — by which keeps the UTF-8 structure valid further
    into the bytes up to the next mark (one byte when both do as well). Returns the bytes
    (marks expanded to None, or PAIR_FIRST and PAIR_SECOND) and, per token, its offset in them.

    >>> data = list("是的".encode())           # E6 98 AF E7 9A 84: the pair AF E7 was dropped
    >>> expand_holes(data[:2] + [None] + data[4:])[0][:4]
    [230, 152, 256, 257]
    >>> expand_holes(list("中".encode())[:2] + [None])[0]
    [228, 184, None]

    The bytes after a garble may be clean text that is no UTF-8 at all: `管` (E7 AE A1) lost
    its last two bytes, and clean GB18030 text (`根据`) follows:

    >>> data = list("管理，".encode()) + list("根据".encode("gb18030"))
    >>> expand_holes(data[:1] + [None] + data[3:])[0][:3]
    [231, 256, 257]

    Marks in a row are read together: `问题。` lost the pairs AE E9 and A2 98, then 82:

    >>> data = list("问题。".encode())
    >>> expand_holes(data[:2] + [None, None] + data[6:8] + [None])[0]
    [233, 151, 256, 257, 256, 257, 227, 128, None]
    """
    if None not in tokens:
        return list(tokens), list(range(len(tokens) + 1))
    out: list[int | None] = []
    offsets: list[int] = []
    need = 0
    n = len(tokens)
    k = -1
    while k + 1 < n:
        k += 1
        tok = tokens[k]
        if tok is not None:
            # A stretch of real bytes up to the next mark, copied in one go.
            try:
                end = tokens.index(None, k)
            except ValueError:
                end = n
            offsets.extend(range(len(out), len(out) + end - k))
            out.extend(tokens[k:end])  # type: ignore[arg-type]
            need = _owed_after(tokens, k, end, need)
            k = end - 1
            continue
        offsets.append(len(out))
        # Look up to nine tokens ahead, the marks there read either way. The bytes ahead may
        # end the garble and go on with clean text that is no UTF-8: a pair wins when it walks
        # through them all, or a whole character (three bytes) further than one byte does
        # (two clean bytes that happen to be continuation bytes, `发` B7 A2, are not enough).
        limit = min(n, k + 10)
        memo: dict[tuple[int, int], int] = {}
        single = _owed_after_lost(need)
        one = _reach(tokens, k + 1, single, limit, memo)
        two = _reach(tokens, k + 1, _owed_after_lost(single), limit, memo)
        ahead = limit - k - 1
        if one == ahead or two < ahead and two < one + 3:
            out.append(None)
            _, need = _structure_ok([None], need)
        else:
            out += [PAIR_FIRST, PAIR_SECOND]
            _, need = _structure_ok([None, None], need)
    offsets.append(len(out))
    return out, offsets


@lru_cache(maxsize=65536)
def _completions(pattern: tuple[int | None, ...], after: int | None = None) -> tuple[str, ...]:
    """Characters whose UTF-8 bytes fit ``pattern`` (None for a lost byte, PAIR_FIRST and
    PAIR_SECOND for a lost pair), most likely first. ``after`` is the byte that follows the
    character in the garbled stream (None if unknown or lost): a single lost byte must be one
    the misreading decoder could not pair with the byte after it, a lost pair one it could not
    read.

    >>> _completions((0xE4, 0xB8, None))[:3]
    ('一', '不', '中')
    >>> _completions((0xE4, 0xB8, None), 0xE5)[:3]
    ('一', '中', '个')
    """
    candidates = _fitting(pattern)
    if after is None or pattern[-1] is not None:
        return tuple(ch for ch, _ in candidates)
    return tuple(ch for ch, last in candidates if _lost_fits(last, after))


@lru_cache(maxsize=8192)
def _fitting(pattern: tuple[int | None, ...]) -> tuple[tuple[str, int], ...]:
    """``_completions`` before the byte after the character is known: (character, its last
    byte), most likely first."""
    model = _model()
    ranges: list[range] = []
    for k, b in enumerate(pattern):
        if b not in _LOST:
            ranges.append(range(b, b + 1))  # type: ignore[arg-type]
        else:
            ranges.append(range(0xE2, 0xF0) if k == 0 else range(0x80, 0xC0))
    # Lost bytes inside the character must not pair with the byte after them (the last one is
    # checked against the byte after the character, by ``_completions``).
    checks = [k for k, b in enumerate(pattern) if (b is None or b == PAIR_FIRST) and k + 1 < len(pattern)]
    # A dropped pair split between this character and the next: its bytes must be a pair the
    # decoder rejects, with the next character's lead byte (or the last character's
    # continuation byte) on the other side.
    split_first, split_second = pattern[-1] == PAIR_FIRST, pattern[0] == PAIR_SECOND
    out: list[tuple[str, int]] = []
    for combo in itertools.product(*ranges):
        if not all(_lost_fits(combo[k], combo[k + 1]) for k in checks):
            continue
        if split_first and not _starts_rejected_pair(combo[-1]) or split_second and not _ends_rejected_pair(combo[0]):
            continue
        try:
            ch = bytes(combo).decode("utf-8")
        except UnicodeDecodeError:
            continue
        if ch in model.chars:
            out.append((ch, combo[-1]))
    out.sort(key=lambda c: -model.logp(c[0]))
    return tuple(out)


@lru_cache(maxsize=None)
def _starts_rejected_pair(value: int) -> bool:
    """Whether a decoder misreading UTF-8 could have dropped ``value`` with the lead byte of a
    CJK character after it (`问题`: AE E9 is dropped, B4 E9 would read `撮`).

    >>> _starts_rejected_pair(0xAE), _starts_rejected_pair(0xB4)
    (True, False)
    """
    return any(_lost_fits(value, lead) for lead in range(0xE2, 0xF0))


@lru_cache(maxsize=None)
def _ends_rejected_pair(value: int) -> bool:
    """Whether a decoder misreading UTF-8 could have dropped ``value`` as the second byte of a
    pair led by a continuation byte."""
    return any(_lost_fits(cont, value) for cont in range(0x81, 0xC0))


@lru_cache(maxsize=1)
def _frequent_chars() -> tuple[str, ...]:
    """The most frequent characters of three UTF-8 bytes (CJK and its punctuation): the
    candidates for a character whose bytes were all lost.

    >>> "的" in _frequent_chars(), len(_frequent_chars()) == MAX_CANDIDATES
    (True, True)
    """
    model = _model()
    chars = [ch for ch in model.chars if "\u0800" <= ch <= "\uffff" and charmodel.is_scored(ch)]
    chars.sort(key=lambda c: -model.logp(c))
    return tuple(chars[:MAX_CANDIDATES])


def _utf8_length(lead: int) -> int:
    if lead < 0x80:
        return 1
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


_UTF8_LENGTH = [_utf8_length(b) for b in range(256)]


class Step(NamedTuple):
    """How far a decoding got: the byte offset reached, the characters decoded up to there,
    and the candidates for the last of them (more when its lost bytes end the garble)."""

    offset: int
    count: int
    last: tuple[str, ...]


class _Singles(dict):
    """A character's one-candidate tuple, the same object each time (one per decoded character
    would be made otherwise)."""

    def __missing__(self, ch: str) -> tuple[str]:
        if len(self) > 100_000:
            self.clear()  # bounded memory
        single = self[ch] = (ch,)
        return single


_SINGLES = _Singles()

from functools import partial  # noqa: E402  (here, next to its one use)

# ``Step`` from an (offset, count, last) triple at the speed of a plain tuple: one is made per
# decoded character.
_step = partial(tuple.__new__, Step)


def decode_utf8_with_holes(data: list[int | None], budget: Budget) -> tuple[list[tuple[str, ...]], list[Step]]:
    """Decode bytes as UTF-8 as far as they are valid, a lost byte (None) standing for any byte
    that fits. Returns the characters (several candidates where lost bytes made one ambiguous)
    and, after each, a ``Step``; ``chars_until`` gives the characters up to a step.

    >>> chars, steps = decode_utf8_with_holes(list("中a".encode()), Budget(9))
    >>> [(s.offset, "".join(c[0] for c in chars_until(chars, s))) for s in steps]
    [(3, '中'), (4, '中a')]
    """
    out: list[Step] = []
    chars: list[tuple[str, ...]] = []
    i = 0
    n = len(data)
    # Where the next lost byte and the next lost pair are (``n``: none left), each looked up
    # again only once passed, so that a window is scanned for them once in all.
    next_lone = next_pair = next_lost = -1
    while i < n:
        lead = data[i]
        if (
            next_lost != n
            and lead is not None
            and 0xE0 <= lead <= 0xEF
            and i + 6 <= n
            and (
                next_lost >= i
                or (
                    next_lost := min(
                        next_lone if next_lone >= i else (next_lone := _index(data, None, i)),
                        next_pair if next_pair >= i else (next_pair := _index(data, PAIR_FIRST, i)),
                    )
                )
                >= i
            )
            and next_lost - i >= 6
            and 0x80 <= data[i + 1] <= 0xBF  # type: ignore[operator]
            and 0x80 <= data[i + 2] <= 0xBF  # type: ignore[operator]
        ):
            # A stretch of whole characters up to the next lost byte, decoded in one call
            # (clean text, with no lost bytes, stops decoding within a character or two).
            chunk = bytes(data[i:next_lost])  # type: ignore[arg-type]
            try:
                text, used = chunk.decode("utf-8"), len(chunk)
            except UnicodeDecodeError as exc:
                text, used = chunk[: exc.start].decode("utf-8"), exc.start
            if text:
                singles = list(map(_SINGLES.__getitem__, text))
                if used == 3 * len(text):
                    offsets: Iterable[int] = range(i + 3, i + used + 1, 3)
                else:
                    offsets = list(itertools.accumulate((len(c.encode()) for c in text), initial=i))[1:]
                base = len(chars)
                chars.extend(singles)
                out.extend(map(_step, zip(offsets, range(base + 1, base + len(text) + 1), singles)))
                i += used
                continue
        length = 3 if lead is None or lead >= PAIR_FIRST else _UTF8_LENGTH[lead]
        if not length or i + length > n:
            break
        seq = tuple(data[i : i + length])
        if None in seq or PAIR_FIRST in seq or PAIR_SECOND in seq:
            reading = _lost_char(seq, data[i + length] if i + length < n else None)
            if reading is None:
                break
            cands, last = reading
            budget.left -= len(cands)
            if budget.left < 0:
                break
        else:
            last = cands = _whole_char(seq)  # type: ignore[assignment]
            if not cands:
                break
        chars.append(cands)
        i += length
        out.append(_step((i, len(chars), last)))
    return chars, out


@lru_cache(maxsize=65536)
def _lost_char(seq: tuple[int | None, ...], after: int | None) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The candidates for a character whose bytes ``seq`` hold lost ones, given the byte
    ``after`` it, and the candidates when the garble ends right after it; None when no
    character fits.

    >>> _lost_char((0xE4, 0xB8, None), 0xE5)[0][:3], _lost_char((0xE4, 0x41, None), None)
    (('一', '中', '个'), None)
    """
    lost = seq.count(None) + seq.count(PAIR_FIRST) + seq.count(PAIR_SECOND)
    if lost > 2 and (len(seq) != 3 or None in seq):
        return None
    if any(b not in _LOST and not 0x80 <= b <= 0xBF for b in seq[1:]):  # type: ignore[operator]
        return None
    if lost == 3:
        # All three bytes went with two dropped pairs (`息处理` → `鎭\ufffd\ufffd鐞`): the
        # character is one of the frequent ones, chosen by its neighbours.
        cands = _frequent_chars()
    else:
        cands = _completions(seq, after if after not in _LOST else None)
    if not cands and seq[-1] in _LOST:
        cands = _completions(seq, None)  # the garble may end here
    if not cands:
        return None
    if seq[-1] in _LOST and lost < 3:
        # The garble may end right after this character: then the lost byte had no byte
        # after it in the garbled stream, and any value fits.
        return cands, _ending_here(cands, seq)
    return cands, cands


@lru_cache(maxsize=65536)
def _whole_char(seq: tuple[int, ...]) -> tuple[str] | None:
    try:
        return (bytes(seq).decode("utf-8"),)
    except UnicodeDecodeError:
        return None


def _index(data: list[int | None], value: int | None, start: int) -> int:
    """Where ``value`` next occurs in ``data`` from ``start`` (``len(data)`` if nowhere)."""
    try:
        return data.index(value, start)
    except ValueError:
        return len(data)


@lru_cache(maxsize=4096)
def _ending_here(cands: tuple[str, ...], seq: tuple[int | None, ...]) -> tuple[str, ...]:
    """``cands`` and then every other character that fits ``seq`` when no byte follows it."""
    seen = set(cands)
    return cands + tuple(c for c in _completions(seq, None) if c not in seen)


def chars_until(chars: list[tuple[str, ...]], step: Step) -> list[tuple[str, ...]]:
    """The characters decoded up to ``step``, its last one with the candidates it has there."""
    return chars[: step.count - 1] + [step.last]


def _choose(model, before: str, cands: list[tuple[str, ...]], after: str) -> str:
    """Pick one character per position: each ambiguous one by its fit between its neighbours
    (the end of the line counts as a neighbour). Two passes, so that two ambiguous neighbours
    settle on each other.

    >>> m = _model()
    >>> _choose(m, "", [("中",), ("华",), ("人",), ("民",), ("共",), ("和",), ("国",), ("定", "宪"), ("法",)], "")
    '中华人民共和国宪法'
    """
    picked = [c[0] for c in cands]
    last = len(cands) - 1
    ambiguous = [k for k, options in enumerate(cands) if len(options) > 1]
    for second in (False, True):
        for k in ambiguous:
            if second and not (k and len(cands[k - 1]) > 1 or k < last and len(cands[k + 1]) > 1):
                continue  # its neighbours were settled before the first pass chose it
            prev = picked[k - 1] if k else before[-1:]
            nxt = picked[k + 1] if k < last else (after[:1] or LINE_END)
            picked[k] = _best_fit(model, prev, cands[k], nxt)
    return "".join(picked)


class _Options(NamedTuple):
    """What ``_best_fit`` needs to know about one tuple of options, worked out once."""

    options: tuple[str, ...]  # held, so that its id stays its own while this is remembered
    considered: tuple[str, ...]  # the first MAX_CANDIDATES
    members: frozenset[str]
    index: dict[str, int]
    # the first option of each run of them in falling frequency (options come most frequent
    # first, or as two such lists one after the other)
    heads: tuple[int, ...]


_option_info: dict[int, _Options] = {}
_fits: dict[tuple[str, str, int], tuple[tuple[str, ...], str]] = {}


def _options(options: tuple[str, ...]) -> _Options:
    """``_Options`` of a tuple, remembered by identity: the tuples come from the memos of
    ``_completions`` and its kin, and the same few hundred recur on every garbled page."""
    info = _option_info.get(id(options))
    if info is not None and info.options is options:
        return info
    model = _model()
    considered = options[:MAX_CANDIDATES]
    logps = [model.logp(ch) for ch in considered]
    heads = (0,) + tuple(k for k in range(1, len(logps)) if logps[k] > logps[k - 1])
    info = _Options(options, considered, frozenset(considered), {ch: k for k, ch in reversed(list(enumerate(considered)))}, heads)
    if len(_option_info) > 20_000:
        _option_info.clear()  # bounded memory
    _option_info[id(options)] = info
    return info


def _best_fit(model, prev: str, options: tuple[str, ...], nxt: str) -> str:
    """The option (of the first ``MAX_CANDIDATES``) that fits best between ``prev`` and ``nxt``;
    remembered, since garbled pages repeat the same lost bytes between the same neighbours.

    An option seen in no pair with ``prev`` or ``nxt`` scores its own frequency plus constants
    (the model's backoff), so of those only the most frequent can win: the options compared are
    the few the model has seen next to a neighbour, and the most frequent of the rest.

    >>> m = _model()
    >>> _best_fit(m, "重", ("度", "庆", "要"), "市"), _best_fit(m, "", ("度", "庆", "要"), "")
    ('庆', '要')
    """
    key = (prev, nxt, id(options))
    hit = _fits.get(key)
    if hit is not None and hit[0] is options and id(model) == _fitted_model[0]:
        return hit[1]
    if id(model) != _fitted_model[0]:
        _fits.clear()
        _fitted_model[0] = id(model)
    left = bool(prev) and prev >= "\u2000"
    right = nxt == LINE_END or nxt >= "\u2000" and not nxt.isspace()
    info = _options(options)
    considered = info.considered
    followers = getattr(model, "followers", None)
    if followers is None:
        picks: Iterable[int] = range(len(considered))  # a model that cannot tell: every option
    else:
        paired: frozenset[str] = frozenset()
        if left:
            paired = info.members & followers(prev)
        if right:
            paired = paired | (info.members & model.leaders(nxt))
        index = info.index
        chosen = {index[ch] for ch in paired}
        bounds = info.heads + (len(considered),)
        for r in range(len(info.heads)):
            for k in range(bounds[r], bounds[r + 1]):
                if considered[k] not in paired:
                    chosen.add(k)
                    break
        picks = sorted(chosen)
    pair_logp = model.pair_logp
    # The model's own memo of pair scores, read directly: this loop runs for every lost byte.
    known = getattr(model, "_pair_cache", {})
    best_score = float("-inf")
    for k in picks:
        ch = considered[k]
        if left:
            score = known.get(prev + ch)
            if score is None:
                score = pair_logp(prev, ch)
        else:
            score = model.logp(ch)
        if right:
            after = known.get(ch + nxt)
            score += pair_logp(ch, nxt) if after is None else after
        if score > best_score:
            best, best_score = ch, score
    if len(_fits) > 200_000:
        _fits.clear()  # bounded memory on endless streams of new contexts
    _fits[key] = (options, best)
    return best


_fitted_model = [0]  # id of the model the remembered fits were worked out with


def _drop_invalid_pair(exc: UnicodeError) -> tuple[str, int]:
    """Decoding error handler that behaves like a browser's GBK decoder: an invalid pair whose
    second byte is not ASCII becomes one U+FFFD for both bytes."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data, start = exc.object, exc.start
    width = 2 if start + 1 < len(data) and data[start] >= 0x81 and data[start + 1] >= 0x80 else 1
    return "\ufffd", start + width


codecs.register_error("cleancorp-drop-pair", _drop_invalid_pair)


def _garbles(text: str, codec: str) -> set[str]:
    """What the lenient decoders that misread UTF-8 as ``codec`` make of ``text``.

    >>> "鏄\\ufffd殑" in _garbles("是的", "gb18030")  # the pair AF E7 dropped whole
    True
    """
    data = text.encode("utf-8")
    return {data.decode(dec, errors) for dec in LOSSY_DECODERS[codec] for errors in ("replace", "cleancorp-drop-pair")}


def _garbles_to(text: str, codec: str, seen: str) -> bool:
    """Whether one of ``_garbles(text, codec)`` is ``seen`` (its `?` read as U+FFFD); the
    browser's way first, which is how most lossy pages were made.

    >>> _garbles_to("是的", "gb18030", "鏄\\ufffd殑"), _garbles_to("是的", "gb18030", "鏄\\ufffd\\ufffd")
    (True, False)
    """
    data = text.encode("utf-8")
    decoders = LOSSY_DECODERS[codec]
    for errors in ("cleancorp-drop-pair", "replace"):
        for dec in decoders:
            if data.decode(dec, errors).replace("?", "\ufffd") == seen:
                return True
    return False


def reverse_utf8_misread(span: str, codec: str) -> str | None:
    """Strictly undo one round of UTF-8 read as ``codec`` on a whole span (no lost bytes).

    >>> reverse_utf8_misread("閲嶅簡鏃ユ姤", "gb18030")
    '重庆日报'
    """
    try:
        return span.encode(codec).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _scored(text: str) -> bool:
    return any(ch >= "\u2000" and not ch.isspace() for ch in text)


def _whole_run(line: str, rs: int, re_: int, codec: str, model, depth: int) -> Reading | None:
    """The common case first, at the codec's speed: a whole run that reverses strictly."""
    run = line[rs:re_]
    text = reverse_utf8_misread(run, codec)
    if text is None or text == run:
        return None
    before, after = line[max(0, rs - 1) : rs], line[re_ : re_ + 1]
    how = f"UTF-8 read as {codec}"
    if depth == 0 and _FAMILY2_HINT.search(text):
        deeper = fix_spans(text, model, Budget(CANDIDATE_BUDGET), depth + 1)
        if deeper != text and model.score(deeper) > model.score(text):
            text, how = deeper, how + ", twice"
    old = model.score(before + run + after)
    new = model.score(before + text + after)
    if new >= FLOOR and new - old >= MARGIN and _scored(text):
        return Reading(rs, re_, text, how, new, old)
    return None


def _window(run: str, i: int, size: int, codec: str, rebuild: bool) -> tuple[list[int | None], dict[int, int]]:
    """The bytes of ``run[i:i + size]`` as the misreading codec had them (lost-byte marks
    expanded, 0xFF for a character no garble contains), and a map from the byte offset of each
    character boundary to the number of characters before it."""
    piece = run[i : i + size]
    if piece and "\ufffd" not in piece and "?" not in piece and not _ASCII.search(piece):
        # The common case, a stretch of Han text: no lost bytes, and every character (none is
        # ASCII) should be one byte pair; one encode call checks that for the whole piece.
        try:
            raw = piece.encode(codec) if not (codec == "gb18030" and "\u20ac" in piece) else b""
        except UnicodeEncodeError:
            raw = b""
        if len(raw) == 2 * len(piece):
            return list(raw), dict(zip(range(2, 2 * len(piece) + 1, 2), range(1, len(piece) + 1)))
    tokens: list[int | None] = []
    widths: list[int] = []
    mark = None if rebuild else 0xFF
    for part in _MARKS.split(piece):
        if not part:
            continue
        if part in _HOLE_CHARS:
            tokens.append(mark)
            widths.append(1)
            continue
        # The stretch between two marks in one encode call when every character is one pair
        # (the usual case); character by character otherwise.
        raw = b""
        if not _ASCII.search(part) and not (codec == "gb18030" and "\u20ac" in part):
            try:
                raw = part.encode(codec)
            except UnicodeEncodeError:
                pass
        if len(raw) == 2 * len(part):
            tokens.extend(raw)
            widths.extend(_TWOS[: len(part)] if len(part) <= len(_TWOS) else [2] * len(part))
            continue
        for ch in part:
            b = _encode_char(ch, codec)
            tokens.extend(b if b is not None else b"\xff")
            widths.append(len(b) if b is not None else 1)
    data, token_offsets = expand_holes(tokens)
    starts = list(itertools.accumulate(widths[:-1]))  # token index where each later character starts
    boundary = dict(zip(map(token_offsets.__getitem__, starts), range(1, len(widths))))
    boundary[len(data)] = len(piece)
    return data, boundary


_MARKS = re.compile("([\ufffd?])")
_TWOS = [2] * MAX_SPAN


#: The last run of a line that a misreading codec read whole: (line, start, end, the codec's
#: place in MISREAD_UTF8). The codecs are tried in that order on each run and the one that reads
#: most of it wins, so once one has read a run whole the codecs after it need not look at it.
_read_whole: list[tuple[str, int, int, int] | None] = [None]


def _best_in_run(line: str, rs: int, re_: int, codec: str, model, budget: Budget, depth: int) -> list[Reading]:
    """Family 2 inside one run of non-ASCII characters ``line[rs:re_]``."""
    place = MISREAD_UTF8.index(codec)
    done = _read_whole[0]
    if done is not None and done[0] is line and done[1] == rs and done[2] == re_ and done[3] < place:
        return []
    found = _readings_in_run(line, rs, re_, codec, model, budget, depth)
    if found and found[0].start == rs and found[-1].end == re_ and sum(r.end - r.start for r in found) == re_ - rs:
        _read_whole[0] = (line, rs, re_, place)
    return found


def _readings_in_run(line: str, rs: int, re_: int, codec: str, model, budget: Budget, depth: int) -> list[Reading]:
    run = line[rs:re_]
    whole = _whole_run(line, rs, re_, codec, model, depth)
    if whole is not None:
        return [whole]
    rebuild = codec in REBUILD_LOST
    found: list[Reading] = []
    starts_here = _START_SETS[codec]
    i = 0
    while i < len(run) and budget.left > 0:  # a line that used its budget keeps the rest as is
        ch = run[i]
        if ch not in starts_here and (not rebuild or ch not in _HOLE_CHARS or i + 1 >= len(run) or run[i + 1] in _HOLE_CHARS):
            # A garble starts with a start character, or one lost byte before one: jump to the
            # next place the family-2 pattern matches.
            m = _FAMILY2_HINT.search(run, i + 1)
            i = m.start() if m else len(run)
            continue
        # Clean text stops decoding within a few characters: look at a short window first and
        # widen it only when the decoding runs to its end.
        for size in (SHORT_WINDOW, MAX_SPAN):
            data, boundary = _window(run, i, size, codec, rebuild)
            decoded, steps = decode_utf8_with_holes(data, budget)
            if size == MAX_SPAN or i + size >= len(run) or not steps or steps[-1].offset < len(data) - 8:
                break
        # the first character of three bytes or more (a reading needs at least one)
        first_wide = next((k for k, c in enumerate(decoded) if c[0] >= "\u0800"), len(decoded))
        best_end = None
        for step in reversed(steps):
            j = boundary.get(step.offset)
            if j is None or step.count <= first_wide:
                continue
            last = step.last[0]
            if "\u0080" <= last < "\u0800" and step.count > 1:
                continue  # a clean character after the garble read as a Latin letter
            best_end = (i + j, step)
            break
        if best_end is None:
            i += 1
            continue
        j, step = best_end
        chars = chars_until(decoded, step)
        s, e = rs + i, rs + j
        before, after = line[max(0, s - 1) : s], line[e : e + 1]
        text = _choose(model, before, chars, after)
        span = line[s:e]
        has_holes = "\ufffd" in span or "?" in span
        if has_holes:
            if not _garbles_to(text, codec, span.replace("?", "\ufffd")):
                # Garbling the guess again does not give the span back: some lost byte was
                # guessed wrong. A short span may then be clean text that decoded by chance;
                # a long one is garble for sure and the guess is still the best reading.
                if e - s < VERIFY_BELOW:
                    i += 1
                    continue
                has_holes = "guessed"
        how = f"UTF-8 read as {codec}"
        if depth == 0 and _FAMILY2_HINT.search(text):
            # Garbled twice: the first reversal is itself a garble.
            deeper = fix_spans(text, model, budget, depth + 1)
            if deeper != text and model.score(deeper) > model.score(text):
                text, how = deeper, how + ", twice"
        old = model.score(before + span.replace("?", "").replace("\ufffd", "") + after)
        new = model.score(before + text + after)
        if new >= FLOOR and new - old >= MARGIN and _scored(text):
            note = {True: " (lost bytes rebuilt)", "guessed": " (lost bytes guessed)"}.get(has_holes, "")
            found.append(Reading(s, e, text, how + note, new, old))
            i = j
        else:
            i = j if j - i >= 8 else i + 1  # a long valid stretch the model rejects: skip it whole
    return found


def _strict_prefix(data: bytes, codec: str) -> int:
    """How many of the first bytes of ``data`` decode strictly in ``codec``, up to the start
    of the first invalid or unfinished sequence: the last place a decoder fed byte by byte
    stands between two characters before it fails.

    >>> _strict_prefix(b"\\xd6\\xd0\\xce", "gb18030"), _strict_prefix(b"\\xd6\\xd0 \\xff\\xff", "gb18030")
    (2, 3)
    """
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        return exc.start
    return len(data)


#: Family-3 verdicts on runs seen last, by the run and the characters around it (all the
#: verdict looks at): the Western fix asks about a line's runs before this fix does.
_legacy_seen: dict[tuple, tuple[int, str, str, float, float] | None] = {}


def _legacy_in_run(line: str, rs: int, re_: int, model) -> list[Reading]:
    """Family 3 inside one run of Latin-1/cp1252 characters ``line[rs:re_]``."""
    key = (line[rs - 1 : rs] if rs else "", line[rs:re_], line[re_ : re_ + 1], model)
    if key in _legacy_seen:
        seen = _legacy_seen[key]
    else:
        best = _legacy_reading(line, rs, re_, model)
        seen = None if best is None else (best.end - rs, best.text, best.how, best.new, best.old)
        if len(_legacy_seen) >= 4096:
            _legacy_seen.clear()
        _legacy_seen[key] = seen
    if seen is None:
        return []
    length, text, how, new, old = seen
    return [Reading(rs, rs + length, text, how, new, old)]


# The Han characters of a reading, and what no reading may contain (private use, controls).
_HAN_CHAR = re.compile("[\u3400-\u9fff]")
_UNREADABLE = re.compile("[\x00-\x1f\ue000-\uf8ff]")


def _legacy_reading(line: str, rs: int, re_: int, model) -> Reading | None:
    """``_legacy_in_run`` worked out: the best reading of the run, or None."""
    run = line[rs:re_]
    data = run.translate(_LATIN_BYTE_TABLE).encode("latin-1", "replace")
    best: Reading | None = None
    for codec in MISREAD_LEGACY:
        # How far the bytes decode strictly, ending between two characters: up to where a
        # strict decoder stops (an invalid or unfinished sequence starts there).
        end = _strict_prefix(data, codec)
        # Keep only the aligned part, then drop the ASCII both sides share at the end.
        aligned = data[:end].decode(codec, "replace")
        span = run[:end]
        while aligned and span and aligned[-1] == span[-1] and aligned[-1] < "\x80":
            aligned, span = aligned[:-1], span[:-1]
        han = _HAN_CHAR.findall(aligned)
        if not han and _cjk_punctuation_only(aligned, line, rs, rs + len(span)):
            han = list(aligned)  # `12.45%¡¢` is `12.45%、`: punctuation alone, judged below
        if len(han) <= 2 and (_latin_letter(line[rs - 1 : rs]) or _latin_letter(line[rs + len(span) : rs + len(span) + 1])):
            continue  # part of a Latin word (`HÄ±rsÄ±zÄ±` is Turkish in UTF-8 read as cp1252)
        if not han or "\ufffd" in aligned:
            continue
        if len(han) == 1 and not _lone_char_fits(line, rs, rs + len(span), han[0], model):
            continue
        if _UNREADABLE.search(aligned):
            continue
        new = model.score(aligned)
        old = model.score(span)
        floor = FLOOR_LATIN_LONG if len(han) >= LONG_LATIN_HAN else FLOOR_LATIN
        if new < floor or (old and new - old < MARGIN):
            continue
        if best is None or new > best.new:
            best = Reading(rs, rs + len(span), aligned, f"{codec} read as Latin-1/cp1252", new, old)
    return best


_CJK_PUNCTUATION = re.compile("[\u3001-\u3003\u3008-\u3011\u2014\u2018\u2019\u201c\u201d\u2026\uff01-\uff0f\uff1a-\uff20]+")


def _cjk_punctuation_only(text: str, line: str, start: int, end: int) -> bool:
    """Chinese punctuation alone (``¡¢`` → ``、``): taken when there are two marks or more, or
    one that does not touch a Latin letter.

    >>> _cjk_punctuation_only("》。”", "Lilies¡·¡£¡±", 6, 12), _cjk_punctuation_only("、", "ab¡¢", 2, 4)
    (True, False)
    """
    if not _CJK_PUNCTUATION.fullmatch(text):
        return False
    return len(text) >= 2 or not (_latin_letter(line[start - 1 : start]) or _latin_letter(line[end : end + 1]))


def _latin_letter(ch: str) -> bool:
    return bool(ch) and ch.isalpha() and ch < "\u0250"


def _lone_char_fits(line: str, start: int, end: int, han: str, model) -> bool:
    """A single character garbled into two Latin letters (``2021Äê11月``) is taken back only
    when it is an everyday character and the letters do not sit inside a Latin word."""
    before = line[start - 1 : start]
    after = line[end : end + 1]
    return model.is_common(han) and not _latin_letter(before) and not _latin_letter(after)


# -- Screening: which lines can hold family-2 garble at all ------------------------------------
#
# Clean text often has a start character followed by a continuation pair (rare characters like
# `瑕疵`; traditional text all the time), and the family-2 search then decodes and scores every
# start. Most of these stop decoding as UTF-8 within a byte or two. The screens below prove that
# a line (or a run) yields no family-2 reading without the search, from the bytes alone; they
# only ever skip what the search would have left unchanged, and only on lines with no lost-byte
# marks (there the search rebuilds bytes, and draws on the line's budget).

from bisect import bisect_right  # noqa: E402  (only the screens use it)

#: The white space beyond ASCII that ``str.isspace`` knows, but U+3000 (a test checks this
#: against every code point: scanning them all here would add a fifth of a second to start-up).
_SPACE_CHARS = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f"
#: One character of a family-2 run in a line without `?` (``_RUN2`` then matches runs of it).
_RUN_CHAR = f"[^\\x00-\\x7f{_SPACE_CHARS}]"
_RUN_REST = re.compile(_RUN_CHAR + "*")


def _encoded_as(codec: str, leads: range, trails: range) -> str:
    """The characters ``codec`` encodes as one pair with a lead in ``leads`` and a trail in
    ``trails`` (private-use ones included: a garble may hold them)."""
    chars = []
    for lead in leads:
        for trail in trails:
            pair = bytes((lead, trail))
            try:
                ch = pair.decode(codec)
                if len(ch) == 1 and ch.encode(codec) == pair:
                    chars.append(ch)
            except UnicodeError:
                continue
    return "".join(sorted(chars))


class _Screen(NamedTuple):
    """Where in a line a family-2 reading could start: a start character (of either codec)
    whose pair and the next one or two could go on as UTF-8 (``starts``; which codec's start
    it is, by ``start_chars``), or the first character of a run, when it begins a UTF-8
    character (``run_starts`` finds the character before it; ``lead_chars`` per codec)."""

    starts: re.Pattern[str]
    start_chars: dict[str, frozenset[str]]
    run_starts: re.Pattern[str]
    lead_chars: dict[str, frozenset[str]]
    leads_either: frozenset[str]


@lru_cache(maxsize=1)
def _screen() -> _Screen:
    """The screening tables (built once, on first use; the repair stage builds them when it
    starts)."""
    cont = range(0x80, 0xC0)
    branches, start_chars, lead_chars = [], {}, {}
    for codec in MISREAD_UTF8:
        start = _encoded_as(codec, range(0xE2, 0xF0), cont)
        # Pairs that begin with a continuation byte, by their second byte: an ASCII-range byte
        # (a character of its own), a lead byte (the next pair must continue it), anything.
        then_ascii = _char_class(_encoded_as(codec, cont, range(0x40, 0x80)))
        then_lead = _char_class(_encoded_as(codec, cont, range(0xC2, 0xF5)))
        then_any = _char_class(_encoded_as(codec, cont, range(0x40, 0xFF)))
        branches.append(f"(?<={_char_class(start)})(?={then_ascii}|{then_lead}{then_any})")
        # A start character the search tries whose bytes are not (E2–EF, continuation).
        odd = "".join(sorted(set(_STARTS[codec]) - set(start)))
        if odd:
            branches.append(f"(?<={_char_class(odd)})")
        start_chars[codec] = frozenset(start + odd)
        lead_chars[codec] = frozenset(_encoded_as(codec, range(0xC2, 0xF5), cont))
    firsts = _char_class("".join(sorted(set().union(*start_chars.values()))))
    leads = _char_class("".join(sorted(set().union(*lead_chars.values()))))
    return _Screen(
        re.compile(f"{firsts}(?:{'|'.join(branches)})"),
        start_chars,
        re.compile(f"[\\x00-\\x7f{_SPACE_CHARS}](?={leads})"),
        lead_chars,
        frozenset().union(*lead_chars.values()),
    )


def screen_tables() -> None:
    """Build the screening tables now (the repair stage does, when it starts)."""
    _screen()


def _window_bytes(piece: str, codec: str) -> tuple[bytes, bool]:
    """The bytes of a piece without lost-byte marks as the family-2 search reads them (a
    character no garble contains is 0xFF), and whether every character is one byte pair."""
    try:
        raw = piece.encode(codec)
    except UnicodeEncodeError:
        raw = b""
    if len(raw) == 2 * len(piece):
        return raw, True
    return b"".join(_encode_char(ch, codec) or b"\xff" for ch in piece), False


def _reading_starts_at(text: str, i: int, end: int, codec: str) -> bool:
    """Whether the bytes from the start character ``text[i]`` on (up to ``end``, the end of its
    run) are valid UTF-8 up to a character boundary of the garble past ``text[i + 1]``, the
    character that ends there being ASCII or one of three bytes or more: what any family-2
    reading starting at ``i`` needs. Looked at in the windows the search uses.

    >>> _reading_starts_at("記者閲嶅簡", 2, 5, "gb18030"), _reading_starts_at("瑕疵或者", 0, 4, "gb18030")
    (True, False)
    """
    for size in (SHORT_WINDOW, MAX_SPAN):
        piece = text[i : min(i + size, end)]
        data, pairs = _window_bytes(piece, codec)
        try:
            decoded = data.decode("utf-8")
            valid = len(data)
        except UnicodeDecodeError as exc:
            decoded = data[: exc.start].decode("utf-8")
            valid = exc.start
        boundaries = None if pairs else set(itertools.accumulate(len(_encode_char(ch, codec) or b"\xff") for ch in piece))
        offset = 0
        for count, ch in enumerate(decoded, 1):
            offset += 1 if ch < "\x80" else 2 if ch < "\u0800" else 3 if ch < "\U00010000" else 4
            at_boundary = offset % 2 == 0 if boundaries is None else offset in boundaries
            if at_boundary and (count == 1 or not "\u0080" <= ch < "\u0800"):
                return True
        # Decoding stopped inside the piece, not at its end: a wider piece stops there too.
        if valid < len(data) - 3 or i + size >= end:
            return False
    return False


def _reverses_whole(run: str, codec: str) -> bool:
    """Whether ``run`` reverses strictly as a whole (its first bytes are tried first: clean
    text fails there)."""
    head = run[:8]
    if len(head) < len(run):
        try:
            head.encode(codec).decode("utf-8")
        except UnicodeEncodeError:
            return False
        except UnicodeDecodeError as exc:
            if exc.start < len(exc.object) - 3:
                return False  # invalid inside the head: invalid in the whole run too
    whole = reverse_utf8_misread(run, codec)
    return whole is not None and whole != run


def _may_read_as_utf8(run: str, codec: str) -> bool:
    """Whether ``_best_in_run`` can find a reading of UTF-8 misread as ``codec`` in ``run``.

    False only when it provably cannot: the run has no lost-byte marks, does not reverse
    whole, and from none of its start characters do the bytes decode as UTF-8 far enough for
    a reading.

    >>> _may_read_as_utf8("閲嶅簡鏃ユ姤", "gb18030"), _may_read_as_utf8("瑕疵或者根据", "gb18030")
    (True, False)
    >>> _may_read_as_utf8("全會由區委常委會主持", "gb18030"), _may_read_as_utf8("全會由區委常委會主持", "big5")
    (False, False)
    """
    if "?" in run or "\ufffd" in run or (codec == "gb18030" and "\u20ac" in run):
        return True  # lost bytes to rebuild (or a euro sign read as one byte): the full search
    if _reverses_whole(run, codec):
        return True
    screen = _screen()
    return any(
        run[m.start()] in screen.start_chars[codec] and _reading_starts_at(run, m.start(), len(run), codec)
        for m in screen.starts.finditer(run)
    )


def _utf8_misread_starts(line: str) -> dict[str, list[int]] | None:
    """Per misreading codec, where in ``line`` a family-2 reading could start: every start
    character from which the bytes decode far enough, and the start of every run that reverses
    whole. A run with none of them yields no reading. None for a line with lost-byte marks (or
    a euro sign, one byte to the search), which is searched in full.

    >>> _utf8_misread_starts("记者 閲嶅簡鏃ユ姤 报道")["gb18030"], _utf8_misread_starts("產品瑕疵，全會由區委常委會主持")
    ([3, 6, 3], {'gb18030': [], 'big5': []})
    """
    if "?" in line or "\ufffd" in line or "\u20ac" in line:
        return None
    screen = _screen()
    found: dict[str, list[int]] = {codec: [] for codec in MISREAD_UTF8}
    for m in screen.starts.finditer(line):
        i = m.start()
        end = _RUN_REST.match(line, i).end()
        for codec in MISREAD_UTF8:
            if line[i] in screen.start_chars[codec] and _reading_starts_at(line, i, end, codec):
                found[codec].append(i)
    # A run is searched only when it holds a hint (a start character and a continuation pair,
    # both inside the run): the runs to try whole are those that begin with a lead character
    # and hold one.
    run_starts = [m.end() for m in screen.run_starts.finditer(line)]
    if line[:1] in screen.leads_either:
        run_starts.insert(0, 0)  # the line begins with a run
    tried = set()
    for hint in _FAMILY2_HINT.finditer(line):
        k = bisect_right(run_starts, hint.start()) - 1
        if k < 0 or run_starts[k] in tried:
            continue
        i = run_starts[k]
        end = _RUN_REST.match(line, i).end()
        if hint.start() >= end:
            continue  # the hint is in a later run, one that begins with no lead character
        tried.add(i)
        for codec in MISREAD_UTF8:
            if line[i] in screen.lead_chars[codec] and _reverses_whole(line[i:end], codec):
                found[codec].append(i)
    return found


def fix_spans(line: str, model, budget: Budget, depth: int = 0) -> str:
    """Apply every family-2 and family-3 repair found in ``line`` (no recording)."""
    return _apply(line, _readings(line, model, budget, depth))


def _readings(line: str, model, budget: Budget, depth: int) -> list[Reading]:
    readings: list[Reading] = []
    screened = _utf8_misread_starts(line) if _FAMILY2_HINT.search(line) else {}
    if screened is None or any(screened.values()):
        for m in _RUN2.finditer(line):
            if not _FAMILY2_HINT.search(m.group()):
                continue
            best: list[Reading] = []
            for codec in MISREAD_UTF8:
                # Skip runs that cannot yield a reading (they hold no lost bytes: no budget used).
                if screened is None:
                    if not _may_read_as_utf8(m.group(), codec):
                        continue
                elif not any(m.start() <= start < m.end() for start in screened[codec]):
                    continue
                got = _best_in_run(line, m.start(), m.end(), codec, model, budget, depth)
                if sum(r.end - r.start for r in got) > sum(r.end - r.start for r in best):
                    best = got
            readings += best
    if _FAMILY3_HINT.search(line):
        for m in _RUN3.finditer(line):
            if _FAMILY3_HINT.search(m.group()):
                readings += _legacy_in_run(line, m.start(), m.end(), model)
    readings.sort()
    out: list[Reading] = []
    for r in readings:
        if not out or r.start >= out[-1].end:
            out.append(r)
    return out


def _apply(line: str, readings: list[Reading]) -> str:
    if not readings:
        return line
    parts: list[str] = []
    pos = 0
    for r in readings:
        parts.append(line[pos : r.start])
        parts.append(r.text)
        pos = r.end
    parts.append(line[pos:])
    return "".join(parts)


def has_legacy_as_latin(line: str) -> bool:
    """Whether ``line`` holds GBK/Big5 bytes shown as Latin-1/cp1252 letters (family 3).

    >>> has_legacy_as_latin("ÖØÇìÈÕ±¨"), has_legacy_as_latin("Café Müller")
    (True, False)
    """
    if not _FAMILY3_HINT.search(line):
        return False
    model = _model()
    return any(_legacy_in_run(line, m.start(), m.end(), model) for m in _RUN3.finditer(line))


def fix_cjk_mojibake(line: str, record: StageRecord | None = None) -> str:
    """Undo UTF-8 read as GBK/Big5 and GBK/Big5 read as Latin-1/cp1252 in one line.

    >>> fix_cjk_mojibake("銆婂浗瀹躲€嬫姤閬擄細浠婂ぉ")
    '《国家》报道：今天'
    >>> fix_cjk_mojibake("中華人民共和國憲法，鍋鍋")
    '中華人民共和國憲法，鍋鍋'
    """
    if not PRECHECK.search(line):
        return line
    model = _model()
    budget = Budget(max(CANDIDATE_BUDGET, CANDIDATES_PER_CHAR * len(line)))
    readings = _readings(line, model, budget, 0)
    if record is not None:
        for r in readings:
            record.change(FIX_NAME, line[r.start : r.end], r.text, detail=f"{r.how}: score {r.new:.2f} vs {r.old:.2f}")
    return _apply(line, readings)
