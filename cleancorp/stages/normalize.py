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
        text = doc.text or ""
        original = text
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
