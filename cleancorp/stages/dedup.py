"""dedup: drop paragraphs repeated inside a document, and documents seen before in the run.

>>> from cleancorp.document import Document
>>> stage = Dedup()
>>> para = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"
>>> doc = Document("a", text=f"{para}\\n全会强调,\\n{para}\\n全会强调,")
>>> stage.apply(doc); doc.text
'全会充分肯定一年来全区贯彻落实重要讲话精神的工作。\\n全会强调,\\n全会强调,'
>>> again = Document("b", text=doc.text); stage.apply(again); again.dropped
'duplicate'
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

from ..document import Document
from ..registry import Stage, register

_NOT_CONTENT = re.compile(r"[\s\u3000]+")


def paragraph_key(line: str) -> str:
    """The form two paragraphs are compared in: NFKC (punctuation width), no whitespace."""
    return _NOT_CONTENT.sub("", unicodedata.normalize("NFKC", line))


@register
class Dedup(Stage):
    """Drop repeated paragraphs inside a document (at least ``min_chars`` long) and exact
    duplicate documents across the run (keeps the first seen)."""

    name = "dedup"
    summary = "drop repeated paragraphs inside a page and exact duplicate documents"
    corpus_level = True

    def __init__(self, min_chars: int = 20, within: bool = True, across: bool = True) -> None:
        self.min_chars = min_chars
        self.within = within
        self.across = across
        # 16-byte digest → id of the first document with that normalised text.
        self._seen: dict[bytes, str] = {}

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        if self.within:
            text = self._dedup_paragraphs(doc, text)
        if self.across:
            key = paragraph_key(text)
            if not key:
                return
            digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
            first = self._seen.get(digest)
            if first is not None:
                doc.drop("duplicate", self.name, duplicate_of=first, similarity=1.0)
                return
            self._seen[digest] = doc.id

    def _dedup_paragraphs(self, doc: Document, text: str) -> str:
        lines = text.split("\n")
        if len(lines) < 2:
            return text
        seen: dict[str, int] = {}
        keep: list[str] = []
        rec = None
        for i, line in enumerate(lines):
            if len(line) >= self.min_chars:
                key = paragraph_key(line)
                if len(key) >= self.min_chars:
                    first = seen.get(key)
                    if first is not None:
                        if rec is None:
                            rec = doc.record(self.name)
                        rec.remove(line, f"repeat-of-line-{first}", i + 1)
                        continue
                    seen[key] = i + 1
            keep.append(line)
        if rec is None:
            return text
        doc.text = "\n".join(keep)
        rec.chars_changed += len(text) - len(doc.text)
        return doc.text
