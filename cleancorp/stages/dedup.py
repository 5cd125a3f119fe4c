"""dedup: drop paragraphs repeated inside a document, and documents seen before (exact or near).

Inside a document, paragraphs are compared by their comparison key (NFKC, no white space or
punctuation, traditional folded to simplified; see :mod:`cleancorp.minhash`). A *repeated run* is
one or more paragraphs repeating earlier paragraphs in the same order (a short date or source
line may sit between them); a run of at least ``min_chars`` key characters is dropped, so a page
that holds the article twice keeps the first copy. Shorter repeats stay: a ``全会强调,`` opening,
the formula sentences of a law, a passage an author repeats on purpose (the default of 200 key
characters is above every legitimate repeat in the clean reference corpora). A run of two or
more paragraphs repeating the page's opening title and what follows it (the lead) needs only
20 key characters.

>>> from cleancorp.document import Document
>>> stage = Dedup(min_chars=20)
>>> para = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"
>>> other = "全会认为全区上下认真学习领会重要讲话精神并取得成效。"
>>> doc = Document("a", text=f"全会强调,\\n{para}\\n全会强调,\\n{other}\\n{para}")
>>> stage.apply(doc); doc.text.split("\\n")
['全会强调,', '全会充分肯定一年来全区贯彻落实重要讲话精神的工作。', '全会强调,', '全会认为全区上下认真学习领会重要讲话精神并取得成效。']
>>> run = Document("b", text="标题\\n第一段：" + para + "\\n第二段\\n菜单\\n标题\\n第一段:" + para + "\\n第二段")
>>> stage.apply(run); run.text
'标题\\n第一段：全会充分肯定一年来全区贯彻落实重要讲话精神的工作。\\n第二段\\n菜单'

Across documents, the first document seen is kept; a later one is dropped as a ``duplicate``
(with ``duplicate_of``, ``similarity`` and ``measure``) when its comparison key is identical, when
the estimated Jaccard similarity of their character n-gram sets reaches ``threshold``, or when
a share of at least ``containment`` of its n-grams lies in the earlier one (a truncated copy). LSH finds candidates;
each is verified on the full MinHash sketch. ``index`` names a file the kept documents are
loaded from (when it exists) and saved to at the end, so later batches are checked against
earlier ones.

>>> again = Document("c", text=doc.text.replace("。", "!")); stage.apply(again); again.dropped
'duplicate'
>>> again.log["dedup"].info["duplicate_of"]
'a'
"""
from __future__ import annotations

import os
from itertools import accumulate
from typing import Callable

import numpy as np

from .. import minhash
from ..document import Document
from ..registry import Stage, register

SENTENCE_ENDS = ("。", "！", "？", "；", "…", ".", "!", "?", ";")
_FIRST_LINE = np.zeros(1, dtype=np.intp)  # the start of a text's first line, for reduceat


def paragraph_keys(text: str, mapped: np.ndarray | None = None) -> list[bytes]:
    """The comparison key of every line of ``text`` (b"" for blank or punctuation-only lines).

    >>> [len(k) // 4 for k in paragraph_keys("全會強調,\\n\\n全会强调，")]
    [4, 0, 4]
    """
    if mapped is None:
        mapped = minhash.mapped_codes(text)
    kept = mapped != 0
    # The whole key as one byte string, cut where each line starts and ends (positions
    # counted in key characters by one cumulative sum): no NumPy call per line.
    blob = mapped[kept].tobytes()
    before = np.concatenate((_FIRST_LINE, np.cumsum(kept)))  # key characters before each position
    lengths = [len(line) for line in text.split("\n")]
    bounds = list(accumulate(length + 1 for length in lengths))  # start of the next line
    starts = before[[0] + bounds[:-1]].tolist()
    ends = before[[b - 1 for b in bounds]].tolist()
    return [blob[4 * a : 4 * b] for a, b in zip(starts, ends)]


@register
class Dedup(Stage):
    """Drop repeated runs of paragraphs inside a document and documents that duplicate an
    earlier one exactly or nearly.

    Memory: the index keeps, per kept document, a 256-byte sketch, a 4-byte shingle count and
    33 hash-table slots of 12 bytes (at most :data:`cleancorp.minhash.BYTES_PER_DOCUMENT` bytes
    in NumPy arrays; 783 measured over 769,477 kept short documents) plus the id string.
    """

    name = "dedup"
    summary = "drop repeated paragraphs inside a page, exact and near-duplicate documents (MinHash/LSH)"
    corpus_level = True

    def __init__(
        self,
        min_chars: int = 200,
        within: bool = True,
        across: bool = True,
        threshold: float = 0.8,
        containment: float = 0.8,
        index: str = "",
    ) -> None:
        if not 0.0 < threshold <= 1.0 or not 0.0 < containment <= 1.0:
            raise ValueError("threshold and containment must be in (0, 1]")
        if min_chars < 1:
            raise ValueError("min_chars must be at least 1")
        self.min_chars = min_chars
        self.within = within
        self.across = across
        self.index_path = index
        self.index = minhash.Index(threshold, containment)
        if index and os.path.exists(index):
            self.index.load(index)  # ValueError (one line) for a file that is not an index

    def warm_up(self) -> None:
        minhash.key_table()  # the comparison form of every code point

    def apply(self, doc: Document) -> None:
        self.decide(doc, self.prepare(doc))

    def apply_batch(self, docs: list[Document]) -> None:
        """:meth:`apply` on each of ``docs`` in order, the same results, through
        :meth:`prepare_many` and :meth:`match_many` (a later document of the batch is still
        matched against the earlier ones).

        >>> text = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"
        >>> docs = [Document("a", text=text), Document("b", text=""), Document("c", text=text + "\\n")]
        >>> Dedup().apply_batch(docs); [d.dropped for d in docs], docs[2].log["dedup"].info["duplicate_of"]
        ([None, None, 'duplicate'], 'a')
        """
        fps = self.prepare_many(docs)
        offered = [(doc, fp) for doc, fp in zip(docs, fps) if fp is not None]
        matches = self.match_many([(doc.id, fp) for doc, fp in offered])
        for (doc, _), match in zip(offered, matches):
            if match is not None:
                self._drop_duplicate(doc, match)

    # -- the two halves of the stage: per document, then across documents in order ---------

    def prepare(self, doc: Document) -> minhash.Fingerprint | None:
        """The per-document half: drop the repeats inside ``doc`` and return what the
        cross-document half needs, the fingerprint (sketch and index keys) of the text left,
        or None when there is nothing to compare. Needs no state of the run, so it can run in
        any worker; ``decide`` then runs in input order.

        >>> stage = Dedup()
        >>> fp = stage.prepare(Document("a", text="全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"))
        >>> len(fp.keys), fp.sketch.shingles
        (33, 20)
        >>> stage.prepare(Document("b", text="。，\\n")) is None
        True
        """
        text = doc.text
        if not text:
            return None
        if "\n" not in text:  # one line: no repeat inside, the key as it is
            if not self.across:
                return None
            key = minhash.comparison_key(text)
            return self.index.fingerprint(key) if len(key) else None
        if not self.within or text.count("\n") > self.DIRECT_LINES:
            return self.prepare_many([doc])[0]
        # A page of a few lines goes straight to the line-by-line comparison: on one page it
        # costs less than the NumPy calls of the cheap test, which then runs only when the
        # comparison found a run to drop (the batch drops what both let through).
        mapped = minhash.mapped_codes(text)
        if self._drop_repeats(doc, text, mapped, lambda: self._passes_cheap_test(text, mapped)):
            mapped = minhash.mapped_codes(doc.text)
        if not self.across:
            return None
        key = mapped[mapped != 0]
        return self.index.fingerprint(key) if len(key) else None

    #: Lines (newlines) up to which :meth:`prepare` compares one page's lines directly.
    DIRECT_LINES = 100

    def prepare_many(self, docs: list[Document]) -> list[minhash.Fingerprint | None]:
        """:meth:`prepare` of each document, the same results, computed together: the texts
        are mapped to their comparison keys as one array, the pages that may hold a repeat
        are found by a few NumPy calls over all of their lines (:meth:`_pages_to_check`; only
        those go through the line-by-line comparison), and the sketches of all keys are
        computed at once (:meth:`cleancorp.minhash.Index.fingerprints_joined`)."""
        out: list[minhash.Fingerprint | None] = [None] * len(docs)
        live = [i for i, doc in enumerate(docs) if doc.text]
        if not live:
            return out
        texts = [docs[i].text for i in live]
        joined = texts[0] if len(texts) == 1 else "".join(texts)
        codes = minhash.code_points(joined)
        mapped = minhash.mapped_codes(joined, codes)
        where = np.flatnonzero(mapped != 0)  # positions of the key characters (of a bool array: far faster)
        key = np.take(mapped, where)  # (far cheaper than mapped[mapped != 0])
        bounds = np.fromiter(accumulate(map(len, texts), initial=0), dtype=np.intp, count=len(texts) + 1)
        sizes = np.diff(np.searchsorted(where, bounds))
        new_keys: dict[int, np.ndarray] = {}  # page (position in live) → key of its new text
        if self.within and any("\n" in t for t in texts):
            for j in self._pages_to_check(_Lines(codes, where, key, bounds), key):
                a, b = bounds[j], bounds[j + 1]
                if self._drop_repeats(docs[live[j]], texts[j], mapped[a:b]):
                    new_keys[j] = minhash.comparison_key(docs[live[j]].text or "")
        if not self.across:
            return out
        sizes = sizes.tolist()
        if new_keys:
            starts = list(accumulate(sizes, initial=0))
            parts = [new_keys.get(j, key[starts[j] : starts[j + 1]]) for j in range(len(sizes))]
            sizes = [len(k) for k in parts]
            key = np.concatenate(parts)
        # a page with an empty key is left out (its key takes no room in the joined keys)
        present = [j for j, size in enumerate(sizes) if size]
        fps = self.index.fingerprints_joined(key, [sizes[j] for j in present]) if present else []
        for j, fp in zip(present, fps):
            out[live[j]] = fp
        return out

    def match(self, doc_id: str, fp: minhash.Fingerprint | None) -> minhash.Match | None:
        """The cross-document half: the earlier document this one duplicates, or None after
        adding it to the index. Call in input order.

        >>> stage = Dedup()
        >>> text = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"
        >>> fps = [stage.prepare(Document(i, text=text)) for i in ("a", "b")]
        >>> stage.match("a", fps[0]), stage.match("b", fps[1]).id
        (None, 'a')
        """
        if fp is None:
            return None
        return self.index.offer_fingerprint(doc_id, fp)

    def match_many(self, items: list[tuple[str, minhash.Fingerprint]]) -> list[minhash.Match | None]:
        """:meth:`match` for each (id, fingerprint) in turn, the same answers for fewer NumPy
        calls (see :meth:`cleancorp.minhash.Index.offer_many`)."""
        return self.index.offer_many(items)

    def decide(self, doc: Document, fp: minhash.Fingerprint | None) -> bool:
        """:meth:`match`, and drop ``doc`` as a ``duplicate`` when it has one; True if dropped."""
        match = self.match(doc.id, fp)
        if match is None:
            return False
        self._drop_duplicate(doc, match)
        return True

    def _drop_duplicate(self, doc: Document, match: minhash.Match) -> None:
        doc.drop("duplicate", self.name, duplicate_of=match.id, similarity=match.similarity, measure=match.measure)

    def close(self) -> None:
        if self.index_path:
            self.index.save(self.index_path)

    # -- inside one document ---------------------------------------------------------------

    def _might_repeat(self, codes: np.ndarray, mapped: np.ndarray, kept: np.ndarray) -> bool:
        """Cheap test: do two lines of ``min_short`` key characters or more have the same key
        length and code-point sum, or does the first line with key characters come back with
        the same? (Necessary for a repeat; one sum per line, no keys: see :class:`_Lines`.)

        >>> import numpy as np
        >>> text = "全会充分肯定一年来全区贯彻落实重要讲话精神。\\n菜单\\n全会充分肯定一年来全区贯彻落实重要讲话精神!"
        >>> codes = minhash.code_points(text); mapped = minhash.mapped_codes(text, codes)
        >>> Dedup()._might_repeat(codes, mapped, mapped != 0)
        True
        """
        where = np.flatnonzero(kept)
        lines = _Lines(codes, where, mapped[where], np.array([0, len(codes)], dtype=np.intp))
        return bool(self._might_repeat_many(lines)[0])

    def _might_repeat_many(self, lines: "_Lines") -> np.ndarray:
        """:meth:`_might_repeat` of each page of ``lines``, as one boolean per page.

        A page with a repeat has two lines with the same sum (its repeat can hide nowhere
        else); a page may also pass with no repeat at all, when two lines have the same sum by
        chance, and that page then has its prefixed repeats looked for too."""
        pages = len(lines.bounds) - 1
        flag = np.zeros(pages, dtype=bool)
        # two lines of one page, both of min_short key characters or more, with one sum
        long = np.flatnonzero(lines.counts >= self.min_short)
        flag[lines.page[long][_has_earlier(lines.page[long], lines.sums[long])]] = True
        # the first line with key characters of a page comes back later in it
        keyed = np.flatnonzero(lines.counts)
        if len(keyed) >= 2:
            page = lines.page[keyed]
            sums = lines.sums[keyed]
            first = np.concatenate(([True], page[1:] != page[:-1]))
            opening = sums[np.flatnonzero(first)][np.cumsum(first) - 1]  # each line's page's first
            flag[page[(sums == opening) & ~first]] = True
        return flag

    def _pages_to_check(self, lines: "_Lines", key: np.ndarray) -> list[int]:
        """The pages (of ``lines``; ``key``: their keys, joined) whose repeats must be looked
        for line by line: those :meth:`_might_repeat` lets through *and* where a droppable run
        is possible at all. A line can only be part of a run when an earlier line of its page
        has its sum (an exact repeat) or, for a line of ``min_short`` key characters or more,
        when an earlier such line ends in its last 8 key characters (a prefixed repeat);
        members of one run lie at most ``RUN_GAP`` non-blank lines apart. So when no stretch
        of such lines holds ``min_chars`` key characters, or two of them and ``min_short``
        characters (an opening run), there is nothing to drop and the comparison is skipped;
        its answer would be "nothing" (the tests compare both on pages of every kind).

        >>> text = "标题\\n第一段全会充分肯定一年来全区贯彻落实重要讲话精神。\\n标题"
        >>> codes = minhash.code_points(text); mapped = minhash.mapped_codes(text, codes)
        >>> stage, where = Dedup(), np.flatnonzero(mapped)
        >>> lines = _Lines(codes, where, mapped[where], np.array([0, len(text)]))
        >>> stage._might_repeat(codes, mapped, mapped != 0), stage._pages_to_check(lines, mapped[where])
        (True, [])
        """
        flag = self._might_repeat_many(lines)
        if not flag.any():
            return []
        # the lines of the flagged pages
        chosen = np.flatnonzero(flag[lines.page] & (lines.counts > 0))
        page, sums, counts = lines.page[chosen], lines.sums[chosen], lines.counts[chosen]
        member = _has_earlier(page, sums)
        long = np.flatnonzero(counts >= self.min_short)
        if len(long):
            # the last 8 key characters, hashed: Σ key[end - b]·P**(8-b) over b = 1..8, modulo
            # 2**64, as one product of the (lines, 8) characters with the powers
            last8 = key[lines.key_ends[chosen[long], None] - _BACK]
            tail = np.matmul(last8, _TAIL_POWERS, dtype=np.uint64)
            member[long[_has_earlier(page[long], tail)]] = True
        members = np.flatnonzero(member)
        if not len(members):
            return []
        rank = lines.rank[chosen[members]]
        page = page[members]
        size = counts[members]
        # stretches of members at most RUN_GAP non-blank lines apart, in one page
        starts = np.flatnonzero(np.concatenate(([True], (page[1:] != page[:-1]) | (rank[1:] - rank[:-1] > self.RUN_GAP))))
        total = np.add.reduceat(size, starts)
        length = np.diff(np.append(starts, len(members)))
        possible = (total >= self.min_chars) | ((length >= 2) & (total >= self.min_short))
        return sorted(set(page[starts[possible]].tolist()))

    #: A later paragraph that is an earlier one with at most this many key characters in front
    #: (a dateline such as "本报讯(记者 某某)") counts as its repeat. Looked for only in a page
    #: that already has an exact repeat (the cheap test above finds those).
    PREFIX_MAX = 30
    #: How far (in non-blank lines) a run may step between members, in the copy and in the
    #: original: one interleaved line such as a date or source line.
    RUN_GAP = 2
    #: Lines with fewer key characters than this count as "short": they may sit inside a run.
    min_short = 20

    def _title_like(self, line: str, key: bytes) -> bool:
        """A headline: fewer than ``min_short`` key characters, not ending like a sentence.
        (A repeated run that opens with a sentence is text repeating itself, as a law repeats
        its formula sentences, not a page repeating its title and lead.)"""
        return len(key) // 4 < self.min_short and not line.rstrip().endswith(SENTENCE_ENDS)

    def _repeated_runs(self, keys: list[bytes], nonblank: list[int], earlier: dict[int, list[int]], lines_of: list[str]) -> dict[int, int]:
        """Lines in repeated runs of at least ``min_chars`` key characters, each with the line it
        repeats. A run is a sequence of repeats whose originals follow one another in the same
        order; only a short line (a date or source line left in the second copy) may sit
        between two of its members. ``earlier`` lists, per repeated line, the earlier lines it
        repeats; a run picks the one that continues it."""
        rank = {line: r for r, line in enumerate(nonblank)}
        drop: dict[int, int] = {}
        run: list[tuple[int, int]] = []  # (line, the line it repeats)

        def close_run() -> None:
            size = sum(len(keys[i]) for i, _ in run) // 4
            # A repeat of the page's opening (title and lead again inside the chrome) is a
            # copy even when short; a passage repeated mid-text needs min_chars.
            opening = rank[run[0][1]] == 0 and len(run) >= 2 and self._title_like(lines_of[run[0][1]], keys[run[0][1]])
            if size >= self.min_chars or (opening and size >= self.min_short):
                drop.update(run)
            run.clear()

        for r, i in enumerate(nonblank):
            if i not in earlier:
                if len(keys[i]) // 4 >= self.min_short and run:
                    close_run()
                continue
            if run:
                last, last_origin = run[-1]
                if r - rank[last] <= self.RUN_GAP:
                    follow = [j for j in earlier[i] if 0 < rank[j] - rank[last_origin] <= self.RUN_GAP]
                    if follow:
                        run.append((i, follow[0]))
                        continue
                close_run()
            run.append((i, earlier[i][0]))
        if run:
            close_run()
        return drop

    def _passes_cheap_test(self, text: str, mapped: np.ndarray) -> bool:
        """Whether :meth:`_pages_to_check` lets the page ``text`` (mapped to ``mapped``) through
        to the line-by-line comparison.

        >>> para = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"
        >>> page = f"菜单\\n{para}\\n本报讯(记者 某某){para}"  # a prefixed repeat only
        >>> stage = Dedup(min_chars=20)
        >>> stage._passes_cheap_test(page, minhash.mapped_codes(page))
        False
        """
        codes = minhash.code_points(text)
        where = np.flatnonzero(mapped != 0)
        key = np.take(mapped, where)
        lines = _Lines(codes, where, key, np.array([0, len(codes)], dtype=np.intp))
        return bool(self._pages_to_check(lines, key))

    def _drop_repeats(self, doc: Document, text: str, mapped: np.ndarray, allowed: Callable[[], bool] | None = None) -> bool:
        """Drop the repeated runs of ``doc`` (whose text is ``text``, mapped to ``mapped``);
        True when the text changed. ``allowed``: when given, asked (no arguments) before
        anything is dropped; False keeps the text as it is."""
        lines = text.split("\n")
        keys = paragraph_keys(text, mapped)
        nonblank = [i for i, k in enumerate(keys) if k]
        seen: dict[bytes, list[int]] = {}
        earlier: dict[int, list[int]] = {}  # line → the earlier lines it repeats
        # An earlier long paragraph that this one ends with, after at most PREFIX_MAX extra key
        # characters in front, is found by looking up each of those suffixes: PREFIX_MAX dict
        # lookups per paragraph, whatever the page holds. (Comparing with every earlier
        # paragraph of the same ending was quadratic on pages of lines that all end alike.)
        # Only a paragraph whose last 8 key characters ended an earlier one is looked up.
        long_first: dict[bytes, int] = {}  # first line of each long key
        tails: set[bytes] = set()
        for i in nonblank:
            k = keys[i]
            if k in seen:
                earlier[i] = list(seen[k])
                seen[k].append(i)
                continue
            seen[k] = [i]
            if len(k) // 4 >= self.min_short:
                if k[-32:] in tails:
                    found = [long_first[k[4 * x :]] for x in range(1, self.PREFIX_MAX + 1) if k[4 * x :] in long_first]
                    if found:
                        earlier[i] = [min(found)]  # the earliest such paragraph
                tails.add(k[-32:])
                long_first[k] = i
        drop = self._repeated_runs(keys, nonblank, earlier, lines)
        if not drop or (allowed is not None and not allowed()):
            return False
        rec = doc.record(self.name)
        out: list[str] = []
        removed_last = False
        for i, line in enumerate(lines):
            if i in drop:
                rec.remove(line, f"repeat-of-line-{drop[i] + 1}", i + 1)
                removed_last = True
                continue
            if not keys[i] and not line.strip() and removed_last and (not out or not out[-1].strip()):
                continue  # a blank line left doubled by the removal
            removed_last = removed_last and not keys[i] and not line.strip()
            out.append(line)
        while out and not out[-1].strip() and lines[-1].strip():
            out.pop()
        new = "\n".join(out)
        rec.chars_changed += len(text) - len(new)
        rec.info["repeats_dropped"] = len(drop)
        doc.text = new
        return True


class _Lines:
    """The lines of pages laid end to end (``codes``; ``where``: the positions of their key
    characters, ``key``: those characters mapped; page ``j`` at ``bounds[j]:bounds[j+1]``),
    each line with:

    * ``sums``: its sum of ``code << 20 | kept`` over its characters (``code``: the mapped
      code point, 0 outside the key), that is its key's code-point sum ``<< 20`` plus its
      key length (in the low 20 bits while a line is shorter than 2**20 characters);
    * ``counts``: its number of key characters; ``page``: its page; ``rank``: its number
      among the non-blank lines (counted over all pages: differences within a page hold);
      ``key_ends``: where its key ends in ``key``.

    A line is what ``text.split("\\n")`` gives, except that a final newline starts none (its
    empty line would have no key characters: the same for every use here).

    >>> text = "甲乙\\n\\n丙。\\n"
    >>> codes = minhash.code_points(text); mapped = minhash.mapped_codes(text, codes)
    >>> where = np.flatnonzero(mapped)
    >>> lines = _Lines(codes, where, mapped[where], np.array([0, 4, len(text)]))
    >>> lines.counts.tolist(), lines.page.tolist(), lines.key_ends.tolist()
    ([2, 0, 1], [0, 0, 1], [2, 2, 3])
    """

    def __init__(self, codes: np.ndarray, where: np.ndarray, key: np.ndarray, bounds: np.ndarray) -> None:
        self.bounds = bounds
        breaks = np.flatnonzero(codes == 10) + 1
        # lines start at each page and after each newline (a page's last: the next page)
        starts = np.sort(np.concatenate((bounds[:-1], breaks[breaks < len(codes)])))
        starts = starts[np.concatenate(([True], starts[1:] != starts[:-1]))]
        key_starts = np.searchsorted(where, starts)
        self.key_ends = np.append(key_starts[1:], len(key))
        self.counts = self.key_ends - key_starts
        self.sums = np.zeros(len(starts), dtype=np.uint64)
        keyed = np.flatnonzero(self.counts)
        if len(keyed):
            # each segment runs to the next line with key characters: only its own
            self.sums[keyed] = np.add.reduceat(key, key_starts[keyed], dtype=np.uint64)
        # Σ (code << 20 | kept) = (Σ code) << 20 + count, modulo 2**64 as the sum itself is
        self.sums <<= np.uint64(20)
        self.sums += self.counts.view(np.uint64)
        self.page = np.searchsorted(bounds, starts, side="right") - 1
        self.rank = np.cumsum(self.counts > 0)


def _has_earlier(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each item (in order), whether an earlier item has the same group and value.

    >>> _has_earlier(np.array([0, 0, 0, 1, 1]), np.array([5, 6, 5, 5, 7])).tolist()
    [False, False, True, False, False]
    """
    found = np.zeros(len(value), dtype=bool)
    if len(value) >= 2:
        # One stable sort of one 64-bit mix of group and value per item (a lexsort of the two
        # is several times dearer): equal items end up side by side, in their order.
        mixed = np.multiply(group, _GROUP_SPREAD, dtype=np.uint64, casting="unsafe")
        mixed ^= value.astype(np.uint64, copy=False)
        order = np.argsort(mixed, kind="stable")
        ordered = mixed[order]
        same = ordered[1:] == ordered[:-1]
        before, after = order[:-1][same], order[1:][same]
        if (group[before] != group[after]).any() or (value[before] != value[after]).any():
            # two different items with one mix (about 2**-64 a pair): the exact way
            order = np.lexsort((value, group))
            g, v = group[order], value[order]
            found[order[1:][(g[1:] == g[:-1]) & (v[1:] == v[:-1])]] = True
            return found
        found[after] = True
    return found


_GROUP_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # odd: distinct groups, distinct multiples
_BACK = np.arange(1, 9)  # a line's last 8 key characters lie this far before its end
_TAIL_POWERS = np.array([pow(0x100000001B3, 8 - back, 1 << 64) for back in range(1, 9)], dtype=np.uint64)
