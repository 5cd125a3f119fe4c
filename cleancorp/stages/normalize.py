"""normalize: line endings, whitespace and blank lines; optional width folding.

>>> from cleancorp.document import Document
>>> doc = Document("a", text="\\u3000\\u3000第一段。  \\r\\n\\r\\n\\r\\n第二段。\\n")
>>> Normalize().apply(doc); doc.text
'第一段。\\n第二段。'
"""
from __future__ import annotations

from ..chars import HAN

import re
import unicodedata

from ..document import Document
from ..registry import Stage, register

# ASCII punctuation between (or after) Han characters → its full-width Chinese form.
_PUNCT_WIDTH = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}
_ASCII_PUNCT_IN_HAN = re.compile(f"(?<=[{HAN}])[,:;?!]|[,:;?!](?=[{HAN}])")
_SPACES = re.compile("[ \t\u00a0\u2000-\u200a\u202f\u205f]{2,}")
_EDGE_SPACE = "\t \u00a0\u3000\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f"
# A line break next to white space or another line break: the only places inside a text where
# stripping lines or dropping blank ones changes anything. The pattern starts with a literal, so
# the regex engine jumps from line break to line break instead of testing every character.
_LINE_EDGE = re.compile(f"\n(?:[{_EDGE_SPACE}\n]|(?<=[{_EDGE_SPACE}]\n))")
_TEXT_EDGE = frozenset(_EDGE_SPACE + "\n")


def _fold_lines_with_double_spaces(text: str) -> str:
    """Fold the runs of white space in the lines that hold two ASCII spaces in a row (the lines
    ``apply`` folds when there is no tab or no-break space), leaving the other lines as they are.

    >>> _fold_lines_with_double_spaces("来源：新华网  2012\\n甲\\u2002\\u2002乙\\n丙  \\u2002丁")
    '来源：新华网 2012\\n甲\\u2002\\u2002乙\\n丙 丁'
    """
    parts: list[str] = []
    pos = 0
    hit = text.find("  ")
    while hit >= 0:
        start = text.rfind("\n", 0, hit) + 1
        end = text.find("\n", hit)
        if end < 0:
            end = len(text)
        parts.append(text[pos:start])
        parts.append(_SPACES.sub(" ", text[start:end]))
        pos = end
        hit = text.find("  ", end)
    parts.append(text[pos:])
    return "".join(parts)


@register
class Normalize(Stage):
    """Normalise layout: LF line endings, no leading/trailing blanks on a line, runs of spaces
    folded, blank lines between paragraphs dropped (or kept as one with ``blank_lines=keep``).
    Optional: ``nfkc`` folds full-width letters and digits; ``fullwidth_punct`` turns ASCII
    ``, : ; ? !`` next to Han characters into their Chinese forms (undoes NFKC folding)."""

    name = "normalize"
    summary = "line endings, whitespace, blank lines; optional NFKC and Chinese punctuation width"

    def __init__(
        self,
        blank_lines: str = "drop",
        collapse_spaces: bool = True,
        nfkc: bool = False,
        fullwidth_punct: bool = False,
    ) -> None:
        if blank_lines not in ("drop", "keep", "keep-one"):
            raise ValueError("blank_lines must be drop, keep or keep-one")
        self.blank_lines = blank_lines
        self.collapse_spaces = collapse_spaces
        self.nfkc = nfkc
        self.fullwidth_punct = fullwidth_punct

    def apply(self, doc: Document) -> None:
        original = doc.text or ""
        text = self._quick(original)
        if text is not None:
            if text != original:
                doc.record(self.name).chars_changed += abs(len(original) - len(text)) or 1
                doc.text = text
            return
        text = original
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if self.nfkc:
            text = unicodedata.normalize("NFKC", text)
        out: list[str] = []
        blank_run = 0
        for line in text.split("\n"):
            stripped = line.strip(_EDGE_SPACE)
            if self.collapse_spaces and ("  " in stripped or "\t" in stripped or "\u00a0" in stripped):
                stripped = _SPACES.sub(" ", stripped).replace("\t", " ")
            if self.fullwidth_punct and _ASCII_PUNCT_IN_HAN.search(stripped):
                stripped = _ASCII_PUNCT_IN_HAN.sub(lambda m: _PUNCT_WIDTH[m.group()], stripped)
            if not stripped:
                blank_run += 1
                if self.blank_lines == "keep" or (self.blank_lines == "keep-one" and blank_run == 1 and out):
                    out.append("")
                continue
            blank_run = 0
            out.append(stripped)
        while out and out[-1] == "":
            out.pop()
        text = "\n".join(out)
        if text != original:
            doc.record(self.name).chars_changed += abs(len(original) - len(text)) or 1
            doc.text = text

    def _quick(self, text: str) -> str | None:
        """What ``apply`` makes of ``text`` when only trailing line breaks and runs of spaces
        inside lines need work (most pages), from a few scans in C instead of a loop over its
        lines; None when the text needs the full pass (``\\r``, blank or padded lines, options).

        >>> n = Normalize()
        >>> n._quick("第一段。\\n来源：新华网  2012-07-03\\n"), n._quick("第一段。\\n\\n第二段"), n._quick(" 第一段。")
        ('第一段。\\n来源：新华网 2012-07-03', None, None)
        >>> n._quick("第一段。 \\n第二段"), n._quick("")
        (None, '')
        """
        if self.nfkc or self.fullwidth_punct or "\r" in text:
            return None
        text = text.rstrip("\n")
        if not text:
            return text
        if text[0] in _TEXT_EDGE or text[-1] in _TEXT_EDGE or _LINE_EDGE.search(text) is not None:
            return None
        if self.collapse_spaces:
            if "\t" in text or "\u00a0" in text:
                return None
            if "  " in text:
                text = _fold_lines_with_double_spaces(text)
        return text
