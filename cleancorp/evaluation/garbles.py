"""The damage real pages show, as small functions from clean text to dirty text.

Each function reproduces one way a page gets broken on its way to a scrape: a browser reading
bytes in the wrong encoding, a lost lead byte, a font fallback that prints pinyin, lost
full-width spaces. They are deterministic given their arguments; the randomness (which
paragraph, which characters) lives in the families that call them.
"""
from __future__ import annotations

import codecs
import unicodedata


def _browser_replace(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Decode errors the way the WHATWG decoders handle them: one U+FFFD for a bad pair whose
    second byte is not ASCII (both bytes consumed), else for the lead byte alone, so the ASCII
    byte that follows is read again as itself."""
    data, start = exc.object, exc.start
    if start + 1 < len(data) and 0x81 <= data[start] <= 0xFE and data[start + 1] >= 0x80:
        return "\ufffd", start + 2
    return "\ufffd", start + 1


BROWSER_ERRORS = "cleancorp-eval-browser"
codecs.register_error(BROWSER_ERRORS, _browser_replace)

# cp1252 as browsers decode it: the five bytes the code page leaves undefined come out as the
# C1 control characters of the same value instead of an error.
_CP1252_BROWSER = {}
for _byte in range(0x80, 0xA0):
    try:
        _CP1252_BROWSER[_byte] = bytes([_byte]).decode("cp1252")
    except UnicodeDecodeError:
        _CP1252_BROWSER[_byte] = chr(_byte)
_CP1252_TABLE = str.maketrans({chr(b): c for b, c in _CP1252_BROWSER.items()})


def decode_cp1252_browser(data: bytes) -> str:
    """Decode ``data`` the way a browser decodes `windows-1252`: never fails.

    >>> decode_cp1252_browser("新".encode("utf-8"))
    'æ–°'
    >>> decode_cp1252_browser(b"\\x81\\x8d")
    '\\x81\\x8d'
    """
    return data.decode("latin-1").translate(_CP1252_TABLE)


def misread(text: str, written_as: str, read_as: str) -> str:
    """``text`` saved in ``written_as`` and opened as ``read_as`` (lossy, like a browser):
    undecodable bytes become U+FFFD, `cp1252-browser` keeps undefined bytes as C1 controls.

    >>> misread("会议", "utf-8", "gbk")
    '浼氳\\ufffd'
    >>> misread("会议", "gbk", "latin-1")
    '»áÒé'
    >>> misread("会议", "utf-8", "cp1252-browser")
    'ä¼šè®®'
    """
    data = text.encode(written_as)
    if read_as == "cp1252-browser":
        return decode_cp1252_browser(data)
    return data.decode(read_as, BROWSER_ERRORS)


def lose_lead_byte(text: str, index: int, codec: str) -> str:
    """``text`` in a double-byte ``codec`` whose character at ``index`` lost its lead byte to
    `?`: the decoder reads one byte out of step, printing rare characters until an ASCII byte
    (or an impossible pair, shown as U+FFFD) puts it back in step.

    >>> lose_lead_byte("会议指出新闻发布会上,宣布了决定。", 4, "gbk")
    '会议指出?挛欧⒉蓟嵘\\ufffd,宣布了决定。'
    """
    head = text[:index].encode(codec)
    tail = text[index:].encode(codec)
    return head.decode(codec) + (b"?" + tail[1:]).decode(codec, BROWSER_ERRORS)


def glue_pinyin(text: str, readings: list[str | None], chars: set[str]) -> str:
    """Put each character of ``chars`` in ``text`` followed by its reading in parentheses, as
    pages do whose font lacked the glyph. ``readings`` holds one reading (or None) per character.

    >>> glue_pinyin("大渡口區", ["dà", "dù", "kǒu", "qū"], {"區"})
    '大渡口區(qū)'
    """
    out = []
    for ch, reading in zip(text, readings):
        out.append(ch)
        if ch in chars and reading:
            out.append(f"({reading})")
    return "".join(out)


def lost_indent(paragraph: str, width: int = 4) -> str:
    """A paragraph whose full-width indent went through an encoder without it: ``width`` `?`.

    >>> lost_indent("全会由区委常委会主持。")
    '????全会由区委常委会主持。'
    """
    return "?" * width + paragraph


def pad_name(name: str) -> str:
    """A two-character name padded to three characters' width with full-width spaces that were
    lost to `?` and then folded: `艾杰` → `艾? ? 杰`.

    >>> pad_name("艾杰")
    '艾? ? 杰'
    """
    return f"{name[0]}? ? {name[1:]}"


def nfkc(text: str) -> str:
    """The folding some scrapers apply after the damage (full-width punctuation → ASCII).

    >>> nfkc("年，全国")
    '年,全国'
    """
    return unicodedata.normalize("NFKC", text)
