"""decode: bytes in any encoding a Chinese scrape arrives in → text.

Order of decisions, cheapest first:

1. compressed bytes (gzip, bzip2, xz, zstd) are decompressed, with a size cap;
2. a byte-order mark decides (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
3. strict UTF-8 — almost every clean input ends here, at the cost of one ``bytes.decode``;
4. binary input (file magic, NUL bytes that are not UTF-16/32, control characters) is rejected;
5. detection: every candidate decode (GB18030, Big5 as cp950 and as Big5-HKSCS, UTF-16 without
   BOM, whatever charset-normalizer proposes when those read badly) is scored by how likely its
   text is under a character-frequency model of Chinese (``cleancorp/data/hanzi_freq.tsv``);
   each undecodable byte costs heavily, so the winner also minimises replacements;
6. a file mixing UTF-8 lines with legacy-encoded lines is decoded line by line.

Every byte no candidate can decode becomes one U+FFFD (never silently dropped), counted in the
report's ``replacements``.

>>> from cleancorp.document import Document
>>> doc = Document("a", raw="重庆日报".encode("gbk"))
>>> Decode().apply(doc); doc.text, doc.log["decode"].info["encoding"]
('重庆日报', 'gb18030')
>>> doc = Document("b", raw="臺灣新聞".encode("big5"))
>>> Decode().apply(doc); doc.text, doc.log["decode"].info["method"]
('臺灣新聞', 'detected')
"""
from __future__ import annotations

import codecs
import math
import re
import threading
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..compression import DEFAULT_LIMIT, CompressionError, decompress, sniff
from ..document import Document, StageRecord
from ..registry import Stage, register

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Legacy Chinese encodings are decoded with their supersets, so no character is lost:
# GB18030 contains GBK contains GB2312; Big5 is read as cp950 (what Windows and Taiwanese
# sites write, with € and the ETen extensions) falling back to HKSCS for Hong Kong characters.
_SUPERSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "euc_cn": "gb18030",
    "big5": "cp950",
    "big5-tw": "cp950",
    "big5hkscs": "big5hkscs",
    "utf-8-sig": "utf-8",
}

# Log prior (nats) of each candidate: ties go to the most common encoding of Chinese text.
_PRIOR = {
    "gb18030": 0.0,
    "utf-8": 0.0,
    "cp950": -0.5,
    "big5hkscs": -1.0,
    "utf-16-le": -2.0,
    "utf-16-be": -2.5,
    "utf-32-le": -3.0,
    "utf-32-be": -3.0,
    "cp1252": -3.0,  # the usual single-byte encoding of Western text, ahead of its cousins
}
_OTHER_PRIOR = -4.0
_CHINESE = ("gb18030", "cp950", "big5hkscs")

_FILE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x7fELF", "ELF executable"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office document"),
    (b"wOFF", "WOFF font"),
    (b"\x00\x00\x01\x00", "ICO image"),
)

# C0 controls that never occur in text (tab, newlines, form feed, ESC/SO/SI of ISO-2022 kept).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 14, 15, 27))
_ALL_BYTES = bytes(range(256))
_NON_ASCII_BYTES = bytes(range(128, 256))

_SAMPLE_BYTES = 32 * 1024  # detection scores this much of the input; the decode is whole
#: Detection first looks at the lines in about this many opening bytes of a longer sample, and
#: stops there when one reading leads every other by this many nats (a dozen garbled pairs):
#: deciding GBK against Big5 on a 2 KB page then costs half of scoring the whole page.
_OPENING_BYTES = 1024
_OPENING_MARGIN = 150.0
_ERROR_COST = -30.0  # log-likelihood cost (nats) of one undecodable byte sequence

# First bytes of a BOM or a compression magic: inputs starting otherwise skip those checks.
_SPECIAL_FIRST_BYTES = frozenset(b"\xef\xff\xfe\x00\x1fB\xfd\x28")
_SHORT_UTF8 = 256  # valid UTF-8 this short with no 3-byte sequence may be GBK after all
_UTF8_CHANCE = 2.5  # log-odds (nats) a non-ASCII pair is UTF-8 rather than GBK by chance
# Valid UTF-8 is overruled only by a clear margin (nats): misreading clean "©" or "·" as
# GBK would harm clean text, which is worse than leaving a 2-byte GBK fragment misread.
_SHORT_UTF8_MARGIN = 4.0

_WEB_SYMBOLS = "".join(chr(i) for i in range(0xA0, 0xC0)) + "×÷"
_TONE_MARKS = "ˊˇˋ˙"

_NONASCII = re.compile(rb"[\x80-\xff]")
#: Texts at least this long are scored by a NumPy table lookup, shorter ones by a dict.
_VECTOR_SCORE_FROM = 64


def _canonical(name: str) -> str:
    """The codec a name is decoded with: Python's name, legacy Chinese mapped to supersets.

    >>> _canonical("GBK"), _canonical("big5"), _canonical("UTF8")
    ('gb18030', 'cp950', 'utf-8')
    """
    key = name.strip().lower().replace("_", "-")
    if key in ("big5-hkscs", "big5hkscs", "hkscs"):
        return "big5hkscs"
    try:
        key = codecs.lookup(key).name
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None
    key = _SUPERSET.get(key, _SUPERSET.get(key.replace("-", "_"), key))
    return key


# -- decoding with counted replacements ----------------------------------------------------

_state = threading.local()


def _count_replace(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Like "replace", but counts what it replaced."""
    _state.errors = getattr(_state, "errors", 0) + 1
    return "\ufffd", exc.end


_UNKNOWN = object()


def _fallback_to(other: str):
    """An error handler that first tries ``other`` on the two bytes at the error (a Big5
    character one Big5 variant lacks and the other has), else replaces and counts."""

    # What ``other`` makes of each pair asked about (None: nothing): GBK bytes read as Big5
    # fail at a few pairs in every line, and a failed decode raising inside the handler costs
    # more than the whole rest of the decode.
    known: dict[bytes, str | None] = {}

    def handler(exc: UnicodeDecodeError) -> tuple[str, int]:
        start = exc.start
        pair = bytes(exc.object[start : start + 2])
        if len(pair) == 2 and pair[0] >= 0x81:
            char = known.get(pair, _UNKNOWN)
            if char is _UNKNOWN:
                try:
                    char = pair.decode(other)
                except UnicodeDecodeError:
                    char = None
                known[pair] = char
            if char is not None:
                return char, start + 2
        return _count_replace(exc)

    return handler


codecs.register_error("cleancorp-replace", _count_replace)
codecs.register_error("cleancorp-big5hkscs", _fallback_to("big5hkscs"))
codecs.register_error("cleancorp-cp950", _fallback_to("cp950"))
_ERRORS = {"cp950": "cleancorp-big5hkscs", "big5hkscs": "cleancorp-cp950"}


def decode_with(raw: bytes, encoding: str) -> tuple[str, int]:
    """Decode ``raw`` as ``encoding`` (a canonical name); return (text, replacements).

    Each undecodable byte sequence becomes one U+FFFD. Big5 variants borrow from each other:
    cp950 reads HKSCS characters, Big5-HKSCS reads cp950's €.

    >>> decode_with("€香港".encode("cp950"), "big5hkscs")
    ('€香港', 0)
    >>> decode_with("𥚃".encode("big5hkscs"), "cp950")
    ('𥚃', 0)
    >>> decode_with(b"ok\\xff", "gb18030")
    ('ok\\ufffd', 1)
    """
    try:
        return raw.decode(encoding), 0
    except UnicodeDecodeError:
        pass
    _state.errors = 0
    text = raw.decode(encoding, _ERRORS.get(encoding, "cleancorp-replace"))
    return text, _state.errors


# -- the character model -------------------------------------------------------------------


class CharModel:
    """Log-probabilities (nats) of characters in Chinese text, for comparing decodes.

    Known characters come from ``data/hanzi_freq.tsv``; ASCII has a flat cost; unseen Han
    characters, punctuation and other scripts fall into classes with fixed low costs.

    >>> m = char_model()
    >>> m.cost("的") > m.cost("鍩") > m.cost("ｸ")
    True
    """

    ASCII = -4.5  # printable ASCII and whitespace: identical in most candidates, so they cancel
    CONTROL = -20.0
    COMMON_UNSEEN = -13.5  # GB2312 level 1 / Big5 level 1 characters the table lacks
    HAN_UNSEEN = -16.0
    HAN_RARE_BLOCK = -19.0  # extension A/B.., compatibility ideographs
    CJK_SYMBOL = -12.0
    KANA_HANGUL = -14.0
    LETTER = -10.0  # Latin with diacritics (pinyin, names), Greek, Cyrillic
    WEB_SYMBOL = -8.0  # © ° ± × · and the other Latin-1 signs web text uses everywhere
    RARE_LETTER = -17.0  # IPA, Latin extended-B: what a legacy pair read as UTF-8 looks like
    OTHER = -20.0

    def __init__(self, counts: dict[str, int]) -> None:
        total = sum(counts.values()) or 1
        self.costs: dict[str, float] = {ch: math.log(n / total) for ch, n in counts.items()}
        for i in range(128):
            ch = chr(i)
            self.costs[ch] = self.ASCII if (ch.isprintable() or ch in "\t\n\r\f") else self.CONTROL
        self.costs["\ufffd"] = 0.0  # undecodable bytes are charged separately, per byte
        for ch in _common_chars():
            self.costs.setdefault(ch, self.COMMON_UNSEEN)
        for ch in _WEB_SYMBOLS:
            self.costs[ch] = max(self.costs.get(ch, self.WEB_SYMBOL), self.WEB_SYMBOL)
        self._table: np.ndarray | None = None

    def cost(self, ch: str) -> float:
        known = self.costs.get(ch)
        if known is not None:
            return known
        value = self._class_cost(ch)
        if len(self.costs) < 65536:  # remember, within a bound: garbage can be any character
            self.costs[ch] = value
        return value

    def _class_cost(self, ch: str) -> float:
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF:
            return self.HAN_UNSEEN
        if 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3FFFF or 0xF900 <= o <= 0xFAFF:
            return self.HAN_RARE_BLOCK
        if (
            0x3000 <= o <= 0x303F
            or 0xFF01 <= o <= 0xFF5E
            or 0x2010 <= o <= 0x2027
            or 0x2460 <= o <= 0x24FF  # ① ⑴ ⒈: list numbering in Chinese documents
            or 0x2160 <= o <= 0x217F  # Ⅰ Ⅱ Ⅲ
        ):
            return self.CJK_SYMBOL
        if 0x3040 <= o <= 0x30FF or 0xAC00 <= o <= 0xD7A3:
            return self.KANA_HANGUL
        if ch in _TONE_MARKS:
            return self.CJK_SYMBOL  # bopomofo tones, in Big5's symbol rows
        if (0xC0 <= o <= 0x17F or 0x1CD <= o <= 0x1DC or 0x370 <= o <= 0x4FF) and ch.isalpha():
            return self.LETTER  # pinyin tones, names, Greek and Cyrillic words: ā é ǚ α ж
        if 0x180 <= o <= 0x2FF:
            return self.RARE_LETTER
        return self.OTHER

    def score(self, text: str) -> float:
        """Total log-likelihood of ``text`` (higher = reads more like Chinese).

        Long texts (a detection sample is up to 32 KB) are scored by one table lookup per code
        point in NumPy: counting characters in Python costs ten times the decode it judges.

        >>> m = char_model()
        >>> text = "重庆日报：全会召开。©Ωж"
        >>> abs(m.score(text) - sum(m.cost(ch) for ch in text)) < 1e-9
        True
        >>> abs(m.score(text * 20) - 20 * m.score(text)) < 1e-9
        True
        """
        if len(text) >= _VECTOR_SCORE_FROM:
            table = self._table if self._table is not None else self._build_table()
            points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            return float(table[np.minimum(points, len(table) - 1)].sum())
        costs = self.costs
        total = 0.0
        for ch, n in Counter(text).items():
            c = costs.get(ch)
            total += n * (c if c is not None else self.cost(ch))
        return total

    def _build_table(self) -> np.ndarray:
        """``cost`` of every code point as an array (the last slot stands for all above it),
        filled range by range in the reverse order of ``_class_cost``'s tests, then the known
        characters on top."""
        size = max(0x40000, max(map(ord, self.costs)) + 1) + 1
        table = np.full(size, self.OTHER)
        table[0x180:0x300] = self.RARE_LETTER
        for lo, hi in ((0xC0, 0x17F), (0x1CD, 0x1DC), (0x370, 0x4FF)):
            for o in range(lo, hi + 1):
                if chr(o).isalpha():
                    table[o] = self.LETTER
        table[[ord(ch) for ch in _TONE_MARKS]] = self.CJK_SYMBOL
        table[0x3040:0x3100] = table[0xAC00:0xD7A4] = self.KANA_HANGUL
        for lo, hi in ((0x3000, 0x303F), (0xFF01, 0xFF5E), (0x2010, 0x2027), (0x2460, 0x24FF), (0x2160, 0x217F)):
            table[lo : hi + 1] = self.CJK_SYMBOL
        table[0x3400:0x4DC0] = table[0x20000:0x40000] = table[0xF900:0xFB00] = self.HAN_RARE_BLOCK
        table[0x4E00:0xA000] = self.HAN_UNSEEN
        for ch, value in self.costs.items():
            table[ord(ch)] = value
        table.flags.writeable = False
        self._table = table
        return table


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """GB2312 level 1 (3755 simplified) and Big5 level 1 (5401 traditional) characters, read
    off the codecs themselves: common by the standards' own ranking."""
    chars = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes((lead, trail)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            try:
                chars.add(bytes((lead, trail)).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


@lru_cache(maxsize=1)
def char_model() -> CharModel:
    """The model, loaded once from ``cleancorp/data/hanzi_freq.tsv``."""
    counts: dict[str, int] = {}
    text = resources.files("cleancorp").joinpath("data/hanzi_freq.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        ch, _, n = line.partition("\t")
        counts[ch] = int(n)
    return CharModel(counts)


# -- binary input and UTF-16/32 without BOM ------------------------------------------------


def binary_reason(raw: bytes) -> str | None:
    """Why ``raw`` is not text in any encoding we read, or None when it may be text.

    >>> binary_reason(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR")
    'binary input (PNG image)'
    >>> binary_reason(b"GIF89a\\x01\\x00")
    'binary input (GIF image)'
    >>> binary_reason("一个中文".encode("utf-16-le")) is None
    True
    >>> binary_reason(b"text\\x00with\\x00\\x00NULs") is not None
    True
    """
    for magic, kind in _FILE_MAGIC:
        if raw.startswith(magic):
            return f"binary input ({kind})"
    if b"\x00" in raw and _wide_lanes(raw) is None:
        return "binary input (NUL bytes, not UTF-16)"
    return None


def _control_share(raw: bytes) -> float:
    """Share of C0 control bytes (not tab, newlines, ESC/SO/SI) at the start of ``raw``."""
    head = raw[:65536]
    if not head:
        return 0.0
    return (len(head) - len(head.translate(_ALL_BYTES, _CONTROL_BYTES))) / len(head)


def _wide_lanes(raw: bytes) -> tuple[str, float] | None:
    """UTF-16/32 without BOM by where its NUL bytes sit: (encoding, share of code units with
    a NUL in that lane), or None when the NULs fit no such pattern.

    Every ASCII character leaves a NUL at the same offset of its code unit, so ASCII-heavy
    UTF-16 shows a large share; CJK text shows few or none (U+4E00 一 has one) and is left
    to the scoring.

    >>> _wide_lanes("abc中文".encode("utf-16-be"))
    ('utf-16-be', 0.6)
    """
    sample = raw[:65536]
    n4 = len(sample) // 4 * 4
    if n4 >= 8:
        lanes = [sample[i:n4:4].count(0) for i in range(4)]
        units = n4 // 4
        if lanes[2] == lanes[3] == units and lanes[1] >= 0.2 * units:
            return "utf-32-le", 1.0
        if lanes[0] == lanes[1] == units and lanes[2] >= 0.2 * units:
            return "utf-32-be", 1.0
    n2 = len(sample) // 2 * 2
    if n2 < 2:
        return None
    pairs = n2 // 2
    z_even = sample[0:n2:2].count(0)
    z_odd = sample[1:n2:2].count(0)
    if not z_even and not z_odd:
        return None
    for enc, zeros, other in (("utf-16-le", z_odd, z_even), ("utf-16-be", z_even, z_odd)):
        if zeros and other <= 0.02 * zeros:
            return enc, round(zeros / pairs, 3)
    # NULs in both lanes: CJK text with U+4E00-like code points and ASCII spaces. Still text
    # when it decodes as UTF-16 with no NUL characters, no lone surrogates, and reads like
    # text (Chinese averages about -7 nats a character; arbitrary code points -16 or worse).
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            decoded = sample[:n2].decode(enc)
        except UnicodeDecodeError:
            continue
        if "\x00" not in decoded and char_model().score(decoded) > -11.0 * len(decoded):
            return enc, 0.0
    return None


def _nul_pattern(raw: bytes) -> str | None:
    """The UTF-16/32 encoding the NUL bytes of ``raw`` prove (ASCII-heavy text), else None."""
    lanes = _wide_lanes(raw)
    if lanes is not None and lanes[1] >= 0.1:
        return lanes[0]
    return None


# -- detection -----------------------------------------------------------------------------


def _sample(raw: bytes) -> bytes:
    """The bytes detection looks at: the start, or a window at the first non-ASCII byte when
    the start is all ASCII (a long HTML head before the Chinese)."""
    if len(raw) <= _SAMPLE_BYTES:
        return raw
    head = raw[:_SAMPLE_BYTES]
    if not head.isascii():
        return head
    m = _NONASCII.search(raw)
    start = (max(0, m.start() - 64) // 4 * 4) if m else 0
    return raw[start : start + _SAMPLE_BYTES]


#: A Big5 candidate failing at more places than this is first scored with the built-in
#: "replace" handler instead of the one that borrows from the other Big5 variant: GBK bytes
#: read as Big5 fail at dozens of pairs a page, and each call of a Python handler costs more
#: than decoding a line. Such a score is exact again before it can decide anything.
_ROUGH_ABOVE = 8
#: A margin (nats) beyond which the detection confidence, rounded to 3 places, is 1.
_CERTAIN_MARGIN = 10.0


def _score(raw: bytes, enc: str, prior: float | None = None, exact: bool = False) -> tuple[float, int, str, bool]:
    """(score, errors, text, rough) of ``raw`` decoded as ``enc``; ``rough`` when the Big5
    variant's text and errors come from the plain "replace" handler (see ``_ROUGH_ABOVE``)."""
    rough = False
    if enc in _ERRORS:
        text = raw.decode(enc, "replace")
        errors = text.count("\ufffd")
        if errors <= _ROUGH_ABOVE or exact:
            text, errors = decode_with(raw, enc)
        else:
            rough = True
    else:
        # The built-in handler is much faster than a counting one on a wrong candidate that
        # fails at every other byte; a genuine U+FFFD in the input only costs it a little.
        text = raw.decode(enc, "replace")
        errors = text.count("\ufffd")
    if prior is None:
        prior = _PRIOR.get(enc, _OTHER_PRIOR)
    value = char_model().score(text) + _ERROR_COST * errors + prior
    return value, errors, text, rough


def _proposals(raw: bytes) -> list[str]:
    """Encodings charset-normalizer proposes, as canonical names, best first."""
    try:
        from charset_normalizer import from_bytes

        results = from_bytes(raw[:_SAMPLE_BYTES], steps=3, chunk_size=min(512, max(32, len(raw) // 3)))
        names = []
        for match in results:
            for name in [match.encoding] + list(getattr(match, "could_be_from_charset", []))[:2]:
                try:
                    names.append(_canonical(name))
                except ValueError:
                    continue
        return names
    except Exception:  # a heuristic library must never crash a run
        return []


def detect(raw: bytes, candidates: list[str] | None = None) -> tuple[str, float, dict[str, float]]:
    """Choose the encoding of ``raw`` (which is not valid UTF-8); return (encoding,
    confidence, scores). Confidence is the posterior of the winner against the runner-up.

    Without ``candidates``, a long input is first judged on its opening lines (about
    ``_OPENING_BYTES``): when one encoding reads them without an error and far better than any
    other (``_OPENING_MARGIN``), that settles it, at a fraction of the cost of scoring every
    candidate on the whole sample. The scores are then those of the opening lines.

    >>> detect("中华人民共和国宪法".encode("gb2312"))[0]
    'gb18030'
    >>> detect("中華民國憲法".encode("big5"))[0]
    'cp950'
    """
    sample = _sample(raw)
    if candidates is None and len(sample) > 2 * _OPENING_BYTES:
        cut = sample.rfind(b"\n", 0, _OPENING_BYTES) + 1
        if cut > _OPENING_BYTES // 2:
            best, confidence, scores, margin, errors = _detect(sample[:cut], None, len(raw))
            if margin >= _OPENING_MARGIN and errors == 0:
                return best, confidence, scores
    return _detect(sample, candidates, len(raw))[:3]


def _detect(sample: bytes, candidates: list[str] | None, size: int) -> tuple[str, float, dict[str, float], float, int]:
    """``detect`` on ``sample`` of an input of ``size`` bytes, also returning the winner's
    margin and its errors."""
    if candidates:
        pool = list(dict.fromkeys(candidates))
    else:
        pool = list(_CHINESE) + ["utf-8"]  # UTF-8 with a few broken bytes is still UTF-8
    scores: dict[str, float] = {}
    texts: dict[str, str] = {}
    errors: dict[str, int] = {}
    rough: dict[str, float | None] = {}  # rough scores, with the prior they were given

    def score(enc: str, prior: float | None = None) -> None:
        scores[enc], errors[enc], texts[enc], is_rough = _score(sample, enc, prior)
        if is_rough:
            rough[enc] = prior

    for enc in pool:
        score(enc)
    if not candidates:
        ascii_bytes = len(sample.translate(_ALL_BYTES, _NON_ASCII_BYTES))
        nonascii = len(sample) - ascii_bytes
        # Chinese reads at about -7 nats per character, -3.5 per byte. A clean legacy decode
        # reading better than -5 per non-ASCII byte settles it; otherwise UTF-16 without BOM
        # (odd length: a truncated file) gets a say, and below -6 other encodings too.
        best = max(scores, key=scores.__getitem__)
        if errors[best] or scores[best] < CharModel.ASCII * ascii_bytes - 5.0 * nonascii:
            if size % 2 == 0 or _wide_lanes(sample):
                for enc in ("utf-16-le", "utf-16-be"):
                    score(enc)
        best = max(scores, key=scores.__getitem__)
        if errors[best] or scores[best] < CharModel.ASCII * ascii_bytes - 6.0 * nonascii:
            for rank, enc in enumerate(_proposals(sample)):
                if enc not in scores:
                    # The detector's own ranking is the prior among its proposals.
                    prior = max(_PRIOR.get(enc, _OTHER_PRIOR), _OTHER_PRIOR - 0.5 * rank)
                    score(enc, prior)
    while True:
        # A rough score may only lose. The winner is always scored exactly, and so is the
        # runner-up unless it is so far behind that even every failed pair read at no cost
        # would leave a margin whose confidence rounds to 1 (then the margin changes nothing).
        first, *rest = sorted(scores, key=scores.__getitem__, reverse=True)
        top = [first] if first in rough else []
        if rest and rest[0] in rough:
            second = rest[0]
            if top or scores[first] - scores[second] <= -_ERROR_COST * errors[second] + _CERTAIN_MARGIN:
                top.append(second)
        if not top:
            break
        for enc in top:
            scores[enc], errors[enc], texts[enc], _ = _score(sample, enc, rough.pop(enc), exact=True)
    for enc in rough:
        texts.pop(enc)  # not the text the variant reads: never compared with the other one
    # Big5 variants that read the bytes identically are one candidate; keep the likelier name.
    if "big5hkscs" in texts and "cp950" in texts and texts["big5hkscs"] == texts["cp950"]:
        scores.pop("big5hkscs") if scores["cp950"] >= scores["big5hkscs"] else scores.pop("cp950")
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    best = ranked[0]
    if len(ranked) == 1:
        return best, 1.0, scores, math.inf, errors[best]
    margin = scores[best] - scores[ranked[1]]
    confidence = 1.0 / (1.0 + math.exp(-min(margin, 50.0)))
    return best, confidence, scores, margin, errors[best]


# -- mixed files ---------------------------------------------------------------------------


def _per_line(raw: bytes) -> tuple[str, dict[str, int], int] | None:
    """Decode a file line by line when it mixes UTF-8 lines with legacy-encoded ones.

    Returns (text, lines per encoding, replacements), or None when no line is UTF-8 with
    non-ASCII content or none fails UTF-8 (then one encoding fits the whole file).

    >>> raw = "甲行。".encode() + b"\\n" + "乙行。".encode("gbk")
    >>> _per_line(raw)
    ('甲行。\\n乙行。', {'utf-8': 1, 'gb18030': 1}, 0)
    """
    lines = raw.split(b"\n")
    kinds: list[str | None] = []
    for line in lines:
        if line.isascii():
            kinds.append(None)
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            kinds.append("legacy")
            continue
        # Only 2-byte sequences (no Chinese) may be a legacy line valid as UTF-8 by chance.
        kinds.append("utf-8" if max(text) >= "\u0800" else "legacy")
    if "utf-8" not in kinds or "legacy" not in kinds:
        return None
    # The legacy encoding of the file, from all its non-UTF-8 lines together: more evidence
    # than any single line has.
    legacy_raw = b"\n".join(line for line, kind in zip(lines, kinds) if kind == "legacy")
    legacy = detect(legacy_raw, list(_CHINESE))[0]
    model = char_model()
    out: list[str] = []
    used: dict[str, int] = {}
    replacements = 0
    for line, kind in zip(lines, kinds):
        if kind is None:
            out.append(line.decode("ascii"))
            continue
        if kind == "utf-8":
            # Valid UTF-8 with 3-byte sequences is not a legacy line by chance.
            out.append(line.decode("utf-8"))
            used["utf-8"] = used.get("utf-8", 0) + 1
            continue
        text, errors = decode_with(line, legacy)
        if not errors:
            nonascii = len(line) - len(line.translate(_ALL_BYTES, _NON_ASCII_BYTES))
            if model.score(text) >= CharModel.ASCII * (len(line) - nonascii) - 6.0 * nonascii:
                # Clean and reads like Chinese in the file's encoding: no need to look further.
                out.append(text)
                used[legacy] = used.get(legacy, 0) + 1
                continue
        best = None
        for enc in dict.fromkeys(("utf-8", legacy) + _CHINESE):
            text, errors = decode_with(line, enc)
            # The file's own legacy encoding and valid UTF-8 are favoured over a switch.
            bonus = 3.0 if enc in ("utf-8", legacy) else 0.0
            value = model.score(text) + _ERROR_COST * errors + bonus
            if best is None or value > best[0]:
                best = (value, enc, text, errors)
        assert best is not None
        _, enc, text, errors = best
        out.append(text)
        used[enc] = used.get(enc, 0) + 1
        replacements += errors
    return "\n".join(out), used, replacements


# -- the whole decision --------------------------------------------------------------------


def _strip_bom(raw: bytes, enc: str) -> bytes:
    for bom, name in _BOMS:
        if name == enc and raw.startswith(bom):
            return raw[len(bom) :]
    return raw


def decode_bytes(
    raw: bytes,
    forced: str = "",
    candidates: list[str] | None = None,
    max_decompressed: int = DEFAULT_LIMIT,
) -> tuple[str | None, dict[str, Any]]:
    """Decode ``raw``; return (text, info). text is None when the input is rejected, and
    info["error"] then says why in one line.

    >>> decode_bytes(b"\\xef\\xbb\\xbf\\xe4\\xb8\\xad")
    ('中', {'encoding': 'utf-8', 'method': 'bom', 'confidence': 1.0, 'replacements': 0})
    >>> decode_bytes("中".encode("gbk"), forced="gbk")[1]["method"]
    'forced'
    """
    if not forced and not candidates and raw and raw[0] not in _SPECIAL_FIRST_BYTES:
        # The fast path, where nearly all input ends: no BOM, no compression magic, valid
        # UTF-8, no NUL (UTF-16/binary) and no HZ escape; each check is one C-level scan.
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # memchr for "~" first: a two-byte search costs more than the decode itself.
            if len(raw) > _SHORT_UTF8 and b"\x00" not in raw and (b"~" not in raw or b"~{" not in raw):
                return text, {"encoding": "utf-8", "method": "utf-8", "confidence": 1.0, "replacements": 0}
    kind = sniff(raw[:8])
    if kind:
        try:
            raw = decompress(raw, max_decompressed)
        except CompressionError as exc:
            return None, {"error": str(exc)}
        text, info = _decode_uncompressed(raw, forced, candidates)
        if text is not None:
            info["compression"] = kind
        return text, info
    return _decode_uncompressed(raw, forced, candidates)


def _decode_uncompressed(raw: bytes, forced: str, candidates: list[str] | None) -> tuple[str | None, dict[str, Any]]:
    if not raw:
        return "", _info("utf-8", "empty", 1.0, 0)
    if forced:
        text, errors = decode_with(_strip_bom(raw, forced), forced)
        return text, _info(forced, "forced", 1.0, errors)
    allowed = candidates or None
    for bom, enc in _BOMS:
        if raw.startswith(bom) and (allowed is None or enc in allowed):
            text, errors = decode_with(raw[len(bom) :], enc)
            return text, _info(enc, "bom", 1.0, errors)
    if allowed is None or "utf-8" in allowed:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            # NULs in valid UTF-8 mean UTF-16/32 ASCII text, or binary: look closer.
            if "\x00" not in text:
                if "~" in text and "~{" in text:
                    hz = _try_hz(text)
                    if hz is not None and (allowed is None or "hz" in allowed):
                        return hz, _info("hz", "detected", 1.0, 0)
                if len(raw) > _SHORT_UTF8 or text.isascii() or max(text) >= "\u0800":
                    return text, _info("utf-8", "utf-8", 1.0, 0)
                legacy = _short_legacy(raw, text, allowed)
                if legacy is None:
                    return text, _info("utf-8", "utf-8", 1.0, 0)
                enc, confidence = legacy
                text, errors = decode_with(raw, enc)
                return text, _info(enc, "detected", confidence, errors)
    reason = binary_reason(raw)
    if reason:
        return None, {"error": reason}
    # Restricted candidates keep UTF-8: with a few broken bytes it may still be the best read.
    pool = list(allowed) if allowed else None
    wide = _nul_pattern(raw)
    if wide and wide.startswith("utf-32") and (pool is None or wide in pool):
        text, errors = decode_with(raw, wide)
        return text, _info(wide, "detected", 1.0, errors)
    enc, confidence, _scores = detect(raw, pool)
    if not enc.startswith("utf-") and _control_share(raw) > 0.1:
        return None, {"error": "binary input (control bytes)"}
    text, errors = decode_with(raw, enc)
    if enc in _CHINESE + ("utf-8",) and (allowed is None or "utf-8" in allowed):
        mixed = _per_line(raw)
        if mixed is not None:
            mixed_text, used, mixed_errors = mixed
            model = char_model()
            whole = model.score(text) + _ERROR_COST * errors
            lines = model.score(mixed_text) + _ERROR_COST * mixed_errors
            if len(used) > 1 and lines > whole:
                info = _info(max(used, key=used.__getitem__), "per-line", round(confidence, 3), mixed_errors)
                info["encodings"] = used
                return mixed_text, info
    return text, _info(enc, "detected", round(confidence, 3), errors)


def _short_legacy(raw: bytes, text: str, allowed: list[str] | None) -> tuple[str, float] | None:
    """For a short input that is valid UTF-8 but holds only 2-byte sequences (Latin, Greek,
    Cyrillic — never Chinese, which is 3 bytes in UTF-8): the legacy Chinese encoding it
    really is, with confidence, when that reads clearly better; else None.

    A GBK pair is valid UTF-8 by chance about one time in twelve (lead C2–DF, trail 80–BF),
    so valid UTF-8 earns that much per character before the comparison.

    >>> _short_legacy("什么".encode("gbk"), "ʲô", None)
    ('gb18030', 0.998)
    >>> _short_legacy("© 2024".encode(), "© 2024", None) is None
    True
    """
    pool = [e for e in (allowed or _CHINESE) if e in _CHINESE]
    if not pool:
        return None
    model = char_model()
    multibyte = len(raw) - len(text)
    utf8 = model.score(text) + _UTF8_CHANCE * multibyte
    enc, confidence, scores = detect(raw, pool)
    if scores[enc] <= utf8 + _SHORT_UTF8_MARGIN:
        return None
    margin = scores[enc] - utf8
    return enc, round(min(confidence, 1.0 / (1.0 + math.exp(-min(margin, 50.0)))), 3)


def _info(encoding: str, method: str, confidence: float, replacements: int) -> dict[str, Any]:
    return {"encoding": encoding, "method": method, "confidence": confidence, "replacements": replacements}


def _try_hz(text: str) -> str | None:
    """HZ (RFC 1843: GB2312 in 7-bit ASCII between ~{ and ~}), when the text is plainly HZ:
    it decodes strictly and what it decodes to reads like Chinese (so code or markup that
    happens to contain ``~{`` stays as it is).

    >>> _try_hz("~{VP9z~} news")
    '中国 news'
    >>> _try_hz("perl: s~{a}~}g") is None
    True
    """
    if "~}" not in text or not text.isascii():
        return None
    try:
        decoded = text.encode("ascii").decode("hz")
    except UnicodeDecodeError:
        return None
    if decoded == text:
        return None
    chinese = "".join(ch for ch in decoded if ch >= "\x80")
    if not chinese or char_model().score(chinese) < -11.0 * len(chinese):
        return None
    return decoded


@register
class Decode(Stage):
    """Turn raw bytes into text: BOM, then strict UTF-8, then detection steered for Chinese.

    Options: ``encoding`` forces one encoding; ``encodings`` restricts detection to a list;
    ``max_decompressed`` caps the size of decompressed input (bytes).
    """

    name = "decode"
    summary = "bytes → text: BOM, strict UTF-8, else detection steered for Chinese (GB18030, Big5)"
    needs_bytes = True

    def __init__(
        self,
        encoding: str = "",
        encodings: list[str] | tuple = (),
        max_decompressed: int = DEFAULT_LIMIT,
    ) -> None:
        self.encoding = _canonical(encoding) if encoding else ""
        if isinstance(encodings, str):
            encodings = [e for e in encodings.split(",") if e.strip()]
        self.encodings = list(dict.fromkeys(_canonical(e) for e in encodings))
        if "cp950" in self.encodings and "big5hkscs" not in self.encodings:
            self.encodings.append("big5hkscs")  # "big5" means the family: both variants
        if max_decompressed <= 0:
            raise ValueError("max_decompressed must be a positive number of bytes")
        self.max_decompressed = max_decompressed

    def warm_up(self) -> None:
        # The model that judges legacy encodings, with its table per code point.
        char_model().score("预热" * _VECTOR_SCORE_FROM)

    def apply(self, doc: Document) -> None:
        raw = doc.raw
        if raw is None:
            if doc.text is None:
                doc.text = ""
            return
        if not (self.encoding or self.encodings) and len(raw) > _SHORT_UTF8 and raw[0] not in _SPECIAL_FIRST_BYTES:
            # decode_bytes' fast path, inlined with the report built in one go: on clean pages
            # the stage should cost little more than the decode itself.
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                if b"\x00" not in raw and (b"~" not in raw or b"~{" not in raw):
                    info = {"bytes": len(raw), "encoding": "utf-8", "method": "utf-8", "confidence": 1.0,
                            "replacements": 0}
                    rec = doc.log.get(self.name)
                    if rec is None:
                        doc.log[self.name] = StageRecord(info=info)
                    else:
                        rec.info.update(info)
                    doc.text = text
                    doc.raw = None
                    return
        rec = doc.record(self.name)
        rec.info["bytes"] = len(raw)
        text, info = decode_bytes(raw, self.encoding, self.encodings, self.max_decompressed)
        if text is None:
            doc.drop(info["error"], self.name, rejected=True)
            return
        rec.info.update(info)
        doc.text = text
        doc.raw = None
