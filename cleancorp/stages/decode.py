"""decode: bytes in any encoding a Chinese scrape arrives in → text.

>>> from cleancorp.document import Document
>>> doc = Document("a", raw="重庆日报".encode("gbk"))
>>> Decode().apply(doc); doc.text, doc.log["decode"].info["encoding"]
('重庆日报', 'gb18030')
"""
from __future__ import annotations

import codecs
from functools import lru_cache

from ..document import Document
from ..registry import Stage, register

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Decode detected legacy Chinese encodings with their supersets, so no character is lost.
_SUPERSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "hz": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
}

# Order in which legacy candidates are tried when detection is unsure. Chinese first.
_PREFERRED = ("gb18030", "big5hkscs", "utf-16-le", "utf-16-be", "shift_jis", "euc_kr", "cp1252")


def _canonical(name: str) -> str:
    try:
        name = codecs.lookup(name).name
    except LookupError:
        return name
    return _SUPERSET.get(name, name)


@register
class Decode(Stage):
    """Turn raw bytes into text: BOM, then strict UTF-8, then detection steered for Chinese."""

    name = "decode"
    summary = "bytes → text: BOM, strict UTF-8, else detection steered for Chinese (GB18030, Big5)"
    needs_bytes = True

    def __init__(self, encoding: str = "", encodings: list[str] | tuple = ()) -> None:
        self.encoding = _canonical(encoding) if encoding else ""
        if self.encoding:
            codecs.lookup(self.encoding)  # raises LookupError → reported as an option error
        self.encodings = [_canonical(e) for e in encodings]
        for enc in self.encodings:
            codecs.lookup(enc)

    def apply(self, doc: Document) -> None:
        if doc.raw is None:
            if doc.text is None:
                doc.text = ""
            return
        raw = doc.raw
        rec = doc.record(self.name)
        rec.info["bytes"] = len(raw)
        text, info = decode_bytes(raw, self.encoding, self.encodings)
        rec.info.update(info)
        if text is None:
            doc.drop(info.pop("error"), self.name, rejected=True)
            rec.info.pop("error", None)
            return
        doc.text = text
        doc.raw = None


def _looks_binary(raw: bytes) -> str | None:
    """A reason when the bytes are not text in any encoding we decode, else None."""
    head = raw[:4096]
    for magic, kind in (
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"%PDF", "PDF document"),
        (b"PK\x03\x04", "ZIP archive"),
        (b"\x7fELF", "ELF executable"),
        (b"Rar!", "RAR archive"),
        (b"7z\xbc\xaf", "7-Zip archive"),
    ):
        if head.startswith(magic):
            return f"binary input ({kind})"
    if b"\x00" in head:
        # UTF-16/32 without BOM has NULs in a regular pattern; anything else is binary.
        if _utf16_guess(raw) is None:
            return "binary input (NUL bytes, not UTF-16)"
    return None


def _utf16_guess(raw: bytes) -> str | None:
    """UTF-16 without BOM, by where the NUL bytes sit (ASCII and CJK both leave a pattern)."""
    sample = raw[:8192]
    if len(sample) < 4:
        return None
    n = len(sample) // 2 * 2
    even = sample[0:n:2]
    odd = sample[1:n:2]
    z_even = even.count(0)
    z_odd = odd.count(0)
    pairs = n // 2
    for enc, zeros, other in (("utf-16-le", z_odd, z_even), ("utf-16-be", z_even, z_odd)):
        if zeros >= 0.2 * pairs and other <= 0.02 * pairs:
            try:
                raw[: len(raw) // 2 * 2].decode(enc)
            except UnicodeDecodeError:
                continue
            return enc
    # Pure CJK UTF-16 has no NULs; rely on detection then.
    return None


def decode_bytes(raw: bytes, forced: str = "", candidates: list[str] | None = None) -> tuple[str | None, dict]:
    """Decode ``raw``; return (text, info). text is None when the input is rejected."""
    if not raw:
        return "", {"encoding": "utf-8", "method": "empty"}
    if forced:
        text = raw.decode(forced, "replace")
        return text, {"encoding": forced, "method": "forced", "replacements": _replacements(raw, text, forced)}
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            body = raw[len(bom):]
            text = body.decode(enc, "replace")
            return text, {"encoding": enc, "method": "bom", "replacements": text.count("\ufffd")}
    if not candidates or "utf-8" in candidates:
        try:
            return raw.decode("utf-8"), {"encoding": "utf-8", "method": "utf-8"}
        except UnicodeDecodeError:
            pass
    binary = _looks_binary(raw)
    if binary:
        return None, {"error": binary}
    enc16 = _utf16_guess(raw)
    if enc16 and (not candidates or enc16 in candidates):
        text = raw[: len(raw) // 2 * 2].decode(enc16, "replace")
        return text, {"encoding": enc16, "method": "detected", "confidence": 1.0, "replacements": 0}
    enc, confidence = _detect(raw, candidates)
    text = raw.decode(enc, "replace")
    return text, {
        "encoding": enc,
        "method": "detected",
        "confidence": round(confidence, 3),
        "replacements": text.count("\ufffd"),
    }


def _replacements(raw: bytes, text: str, enc: str) -> int:
    return text.count("\ufffd")


def _errors_for(raw: bytes, enc: str) -> int:
    """How many bytes ``enc`` cannot decode (0 = clean decode)."""
    try:
        raw.decode(enc)
        return 0
    except UnicodeDecodeError:
        pass
    except LookupError:
        return len(raw)
    return raw.decode(enc, "replace").count("\ufffd") or 1


def _detect(raw: bytes, candidates: list[str] | None) -> tuple[str, float]:
    """Pick the legacy encoding: clean decodes first, Chinese encodings preferred, then the
    detector's ranking; the one with fewest undecodable bytes wins."""
    from charset_normalizer import from_bytes

    pool = list(candidates) if candidates else list(_PREFERRED)
    detected: dict[str, float] = {}
    try:
        results = from_bytes(raw[:200_000], cp_isolation=None if not candidates else None)
        for match in results:
            enc = _canonical(match.encoding)
            detected.setdefault(enc, 1.0 - float(match.chaos))
    except Exception:  # the detector is a heuristic; never let it crash a run
        detected = {}
    order: list[str] = []
    for enc in list(detected) + pool:
        if candidates and enc not in candidates:
            continue
        if enc not in order:
            order.append(enc)
    best = None
    for enc in order:
        errors = _errors_for(raw, enc)
        text = raw.decode(enc, "replace") if errors else raw.decode(enc)
        # The decode that reads most like Chinese wins; each undecodable byte costs, and the
        # Chinese encodings get a small prior (this is a tool for Chinese text).
        nonascii = max(1, sum(1 for b in raw[:20000] if b >= 0x80) // 2)
        prior = 0.05 if enc in ("gb18030", "big5hkscs") else 0.0
        value = _plausibility(text) + prior - 3.0 * min(1.0, errors / nonascii)
        score = (-value, order.index(enc))
        if best is None or score < best[0]:
            best = (score, enc)
    assert best is not None
    enc = best[1]
    return enc, detected.get(enc, max(0.0, min(1.0, -best[0][0])))


@lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """The common Han characters: GB2312 level 1 (3755 simplified) and Big5's frequent
    characters (5401 traditional), read off the codecs themselves."""
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


def _plausibility(text: str) -> float:
    """Share of non-ASCII characters that are common Han characters or CJK punctuation."""
    common = _common_chars()
    sample = text[:20000]
    total = hits = 0
    for ch in sample:
        if ch < "\x80":
            continue
        total += 1
        if ch in common or "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e" or ch in "“”‘’…—·":
            hits += 1
    return hits / total if total else 0.0
