"""Family 1, Western mojibake: ftfy configured for Chinese text, plus invisible characters.

UTF-8 read as Latin-1 or cp1252 (including the browser form where the five bytes cp1252 leaves
undefined became C1 controls), HTML entities, control characters: ftfy undoes these. It is
configured so that what Chinese text legitimately uses stays as it is: curly quotes “ ” ‘ ’ and
full-width punctuation and letters (no width folding), and only NFC normalisation.

Two things ftfy does not do are added here:

* zero-width characters (U+200B, U+2060, U+FEFF, U+180E, and U+200C/U+200D next to a Han
  character or punctuation — elsewhere they may join an emoji sequence) are removed;
* a line whose Latin-1 letters are really GBK or Big5 bytes (``ÖØÇìÈÕ±¨`` for 重庆日报,
  family 3) is not handed to ftfy's encoding repair, which would mangle those bytes into other
  Latin letters; ``fix_cjk_mojibake`` restores it afterwards.

>>> fix_western("â€œä¸­æ–‡â€\\x9d &amp; ä¸­\\u200bæ–‡")
'“中文” & 中文'
>>> fix_western("“中文”，（ＡＢ）")
'“中文”，（ＡＢ）'
"""
from __future__ import annotations

import re
from functools import lru_cache

import ftfy

from ..document import StageRecord
from . import PrecheckParts, fast_precheck

FIX_NAME = "ftfy"

# ftfy as Chinese text needs it: keep curly quotes and full-width punctuation, keep NFC only.
FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization="NFC",
    explain=False,
)
# The same without the encoding repair, for lines that hold double-byte CJK mojibake.
FTFY_NO_ENCODING = FTFY_CONFIG._replace(fix_encoding=False)

#: Lines without any of these never reach ftfy: Latin-1/cp1252 mojibake letters, HTML escapes,
#: control characters, zero-width characters. (Curly quotes alone are ordinary Chinese text.)
#: `·` and `©` are everyday characters of Chinese pages (`首页 · 要闻`, `Copyright ©`): alone
#: they are no mojibake. Inside one they follow a lead letter (`Â·`, `Ã©`), which hits by
#: itself, or (as a Mac Roman lead byte) come before another letter or symbol.
_MOJIBAKE_LETTER = "\u0080-\u00a8\u00aa-\u00b6\u00b8-\u00ff\u0100-\u024f\u0370-\u04ff\u221a"
PRECHECK_PARTS: PrecheckParts = (
    (f"[{_MOJIBAKE_LETTER}\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b-\u200d\u2060\ufeff\u180e]", ""),
    ("[\u00a9\u00b7]", "(?=[\u0080-\u024f\u0370-\u04ff\u2000-\u22ff\ufb01\ufb02])"),
    ("&", "(?:#|[a-zA-Z]{2,8};)"),
)
PRECHECK = fast_precheck(PRECHECK_PARTS)
_ZERO_WIDTH = re.compile(
    "[\u200b\u2060\ufeff\u180e]"
    "|(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\\s,.!?;:])[\u200c\u200d]"
    "|[\u200c\u200d](?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\\s,.!?;:]|$)"
)


def remove_zero_width(line: str) -> str:
    """Remove zero-width characters that only hide inside text.

    >>> remove_zero_width("中\\u200b文\\ufeff，\\u200d好")
    '中文，好'
    """
    return _ZERO_WIDTH.sub("", line)


def fix_western(line: str, record: StageRecord | None = None) -> str:
    """Undo Western mojibake, HTML escapes, control and zero-width characters in one line.

    >>> fix_western("Ã¤Â¸Â­Ã¦Â–Â‡ &lt;b&gt;")
    '中文 <b>'
    >>> fix_western("ÖØÇìÈÕ±¨ &amp; 中文")
    'ÖØÇìÈÕ±¨ & 中文'
    """
    if not PRECHECK.search(line):
        return line
    # Only short lines are remembered: template lines are short, and long ones would make the
    # cache hold megabytes.
    fixed, detail = _ftfy_line(line) if len(line) <= FTFY_CACHE_MAX_LINE else _ftfy_line.__wrapped__(line)
    if fixed != line and record is not None:
        record.change(FIX_NAME, line, fixed, detail=detail)
    return fixed


#: Lines whose ftfy result is remembered. Site templates repeat the same lines with a ``·`` or
#: ``©`` (navigation bars, footers) on every page, and ftfy costs far more than a lookup.
FTFY_CACHE_SIZE = 4096
#: Longest line (in characters) whose ftfy result is remembered.
FTFY_CACHE_MAX_LINE = 500


@lru_cache(maxsize=FTFY_CACHE_SIZE)
def _ftfy_line(line: str) -> tuple[str, str]:
    """The line as ftfy fixes it, and how (a pure function of the line, hence cached).

    >>> _ftfy_line("ä¸­æ–‡ &amp; ÖØÇìÈÕ±¨")
    ('ä¸­æ–‡ & ÖØÇìÈÕ±¨', 'ftfy without encoding repair')
    """
    from .cjk_mojibake import has_legacy_as_latin

    config = FTFY_NO_ENCODING if has_legacy_as_latin(line) else FTFY_CONFIG
    # Zero-width characters first: inside a garbled span they would hide it from ftfy.
    fixed = ftfy.fix_text(remove_zero_width(line), config)
    return fixed, "ftfy" if config is FTFY_CONFIG else "ftfy without encoding repair"
