"""Corpus line statistics: in how many distinct documents a normalised line occurs, in bounded memory.

A line that recurs across many pages of a crawl (a site's menu, its footer) is page chrome even
when no rule names it. Counting every line exactly would need memory proportional to the corpus,
so the counts live in a count-min sketch: ``depth`` rows of ``width`` saturating 16-bit counters.
A line's estimate is the minimum over its rows; it never undercounts, and with conservative
update (only the smallest counters grow) the overcount stays small while the number of distinct
counted lines is well below ``width``.

>>> stats = LineStats(width=1024, depth=4)
>>> for page in range(3):
...     stats.add_document({line_key("首页  新闻 | 视听"), line_key("正文" + "甲乙丙"[page])})
>>> stats.count(line_key("首页 新闻|视听")), stats.count(line_key("正文甲")), stats.documents
(3, 1, 3)
"""
from __future__ import annotations

import hashlib
import re
import struct
import sys
from array import array
from typing import Iterable

_MAGIC = b"CCLS1\n"
_MAX = 0xFFFF
# Spacing, punctuation and separators do not make two menus different; case neither. Digits
# do: "2023年政府工作报告" and "2024年政府工作报告" are two titles, not one recurring line.
_NOISE = re.compile(r"[\s\W_]+")


def line_key(line: str) -> bytes:
    """The 8-byte hash of a line after normalisation (case, spacing, punctuation).

    >>> line_key("首页 | 新闻") == line_key("首页｜新闻  ") != line_key("首页 | 要闻")
    True
    """
    norm = _NOISE.sub("", line.lower())
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=8).digest()


class LineStats:
    """A count-min sketch of line keys, counting each key at most once per document.

    Memory is ``2 * width * depth`` bytes (the default 2**20 x 4 is 8 MiB), whatever the corpus size.
    """

    def __init__(self, width: int = 1 << 20, depth: int = 4) -> None:
        if width < 16 or width & (width - 1):
            raise ValueError(f"line-stats width must be a power of two ≥ 16, got {width}")
        if not 1 <= depth <= 4:
            raise ValueError(f"line-stats depth must be 1 to 4, got {depth}")
        self.width = width
        self.depth = depth
        self.documents = 0
        self._mask = width - 1
        self._cells = array("H", bytes(2 * width * depth))

    @property
    def nbytes(self) -> int:
        return self._cells.itemsize * len(self._cells)

    def _slots(self, key: bytes) -> list[int]:
        # Two 32-bit halves of the hash give `depth` independent-enough indexes (double hashing).
        a, b = struct.unpack("<II", key)
        b |= 1
        w = self.width
        return [row * w + ((a + row * b) & self._mask) for row in range(self.depth)]

    def add_document(self, keys: Iterable[bytes]) -> None:
        """Count one document's distinct line keys once each (conservative update)."""
        self._add(keys)

    def add_and_count(self, keys: list[bytes]) -> list[int]:
        """:meth:`add_document` of ``keys``, then :meth:`count` of each, finding each key's
        cells once.

        >>> stats = LineStats(width=1024, depth=4)
        >>> stats.add_and_count([line_key("首页"), line_key("关于我们"), line_key("首页")]), stats.add_and_count([])
        ([1, 1, 1], [])
        >>> stats.add_and_count([line_key("首页")]), stats.documents
        ([2], 3)
        """
        if not keys:  # a page without candidates: only the number of documents grows
            self.documents += 1
            return []
        slots = self._add(keys)
        cell = self._cells.__getitem__
        return [min(map(cell, slots[key])) for key in keys]

    def _add(self, keys: Iterable[bytes]) -> dict[bytes, list[int]]:
        """Count a document's distinct keys; return the cells of each."""
        cells = self._cells
        cell = cells.__getitem__
        slots = {}
        # Distinct keys in set order: with conservative update the order decides which of two
        # colliding keys raises a shared cell, so every caller must take them in this order.
        for key in set(keys):
            found = slots[key] = self._slots(key)
            low = min(map(cell, found))
            if low >= _MAX:
                continue
            for s in found:
                if cells[s] == low:
                    cells[s] = low + 1
        self.documents += 1
        return slots

    def count(self, key: bytes) -> int:
        """Estimated number of documents holding the line (never fewer than the truth)."""
        cells = self._cells
        return min(cells[s] for s in self._slots(key))

    # -- persistence: a first pass over a corpus saves its counts, a second pass applies them --

    def save(self, path: str) -> None:
        from .io import write_atomic

        header = _MAGIC + struct.pack("<IIQ", self.width, self.depth, self.documents)
        cells = array("H", self._cells)
        if sys.byteorder != "little":  # the file is little-endian on every machine
            cells.byteswap()
        write_atomic(path, header + cells.tobytes())

    @classmethod
    def load(cls, path: str) -> "LineStats":
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise ValueError(f"line stats {path}: {exc.strerror or exc}") from None
        head = len(_MAGIC) + 16
        if not data.startswith(_MAGIC) or len(data) < head:
            raise ValueError(f"line stats {path}: not a cleancorp line-stats file")
        width, depth, documents = struct.unpack("<IIQ", data[len(_MAGIC):head])
        try:
            stats = cls(width, depth)
        except ValueError as exc:
            raise ValueError(f"line stats {path}: {exc}") from None
        body = data[head:]
        if len(body) != stats.nbytes:
            raise ValueError(f"line stats {path}: truncated ({len(body)} of {stats.nbytes} bytes)")
        stats._cells = array("H")
        stats._cells.frombytes(body)
        if sys.byteorder != "little":  # the file is little-endian
            stats._cells.byteswap()
        stats.documents = documents
        return stats
