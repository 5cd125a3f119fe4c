"""Near-duplicate detection for Chinese text: comparison keys, MinHash sketches, an LSH index.

Chinese has no spaces, so a document is compared as the set of its character n-grams
("shingles") taken over a *comparison key*: the text with punctuation, white space and control
characters left out, NFKC-folded (full-width letters and digits, compatibility forms), lower-cased
and mapped character by character from traditional to simplified script. The key is only used for
comparing; the text itself is never changed.

>>> import numpy as np
>>> np.array_equal(comparison_key("全會強調,　要堅持 ＡＢＣ。"), comparison_key("全会强调，要坚持abc"))
True

Each document gets a one-permutation MinHash sketch: every shingle is hashed once (64 bits), the
top bits choose one of ``BINS`` bins and the next 16 bits are the value kept when it is the
smallest seen in its bin; empty bins borrow from the next filled bin. The share of equal bins of
two sketches estimates the Jaccard similarity of their shingle sets.

>>> a = sketch(comparison_key("全会充分肯定一年来全区贯彻落实重要讲话精神的工作。" * 3))
>>> b = sketch(comparison_key("全会充分肯定一年来全区贯彻落实重要讲话精神的工作!" * 3))
>>> float(jaccard(a.signature, b.signature)), a.shingles
(1.0, 68)

An :class:`Index` stores, per kept document, the sketch (``BINS`` × 2 bytes), its shingle count
(4 bytes), its id, and one entry per LSH band in an open-addressing hash table; see
:data:`BYTES_PER_DOCUMENT`. Everything is seeded and uses no Python ``hash()``, so results do
not depend on the process.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate

import numpy as np

#: Character n-gram length, chosen by measurement on the generated evaluation corpus
#: (cleancorp.evaluation.dedup_set, exact n-gram sets): copies score at least 0.93/0.88/0.86/0.82
#: (n = 3/5/6/8) and hard negatives at most 0.30/0.28/0.28/0.27 alike, but unrelated articles'
#: 99th-percentile similarity falls from 0.067 (n = 3) to 0.037 (n = 5): fewer LSH candidates to
#: verify, while a few edited characters still cost little.
NGRAM = 5
#: Bins of a one-permutation MinHash sketch, each a 16-bit value.
BINS = 128
#: LSH bands (BINS / BANDS bins each). 32 bands of 4: a pair at Jaccard 0.6 becomes a candidate
#: with probability 1 - (1 - 0.6**4)**32 ≈ 0.99, so truncated copies are found too.
BANDS = 32
SEED = 0x5EED_C1EA_2C02

_U64 = np.uint64
_MASK16 = _U64(0xFFFF)
_EMPTY = 0x10000  # larger than every 16-bit value: marks an empty bin while sketching
_PRIME = _U64(0x100000001B3)  # multiplier of the rolling n-gram hash (FNV prime)


def _mix(h: np.ndarray) -> np.ndarray:
    """A 64-bit finaliser (xor-shift-multiply), in place on a uint64 array: spreads every
    input bit over every output bit so the top bits can pick bins."""
    shifted = h >> _U64(30)  # one scratch array for the three shifts
    h ^= shifted
    h *= _U64(0xBF58476D1CE4E5B9)
    np.right_shift(h, _U64(27), out=shifted)
    h ^= shifted
    h *= _U64(0x94D049BB133111EB)
    np.right_shift(h, _U64(31), out=shifted)
    h ^= shifted
    return h


def _mix_high(h: np.ndarray) -> np.ndarray:
    """:func:`_mix` without its last xor-shift, in place: the same bits from bit 33 up, for
    two passes fewer. (That step, ``h ^= h >> 31``, changes only the bits below 33; a sketch
    reads only the top 7 + 16 bits, its bin and value.)

    >>> h = np.array([1, 2**40 + 5, 2**64 - 1], dtype=_U64)
    >>> ((_mix(h.copy()) >> _U64(33)) == (_mix_high(h.copy()) >> _U64(33))).all()
    np.True_
    """
    shifted = h >> _U64(30)
    h ^= shifted
    h *= _U64(0xBF58476D1CE4E5B9)
    np.right_shift(h, _U64(27), out=shifted)
    h ^= shifted
    h *= _U64(0x94D049BB133111EB)
    return h


def _sketch_hashes(key: np.ndarray, n: int, bins: int) -> np.ndarray:
    """The mixed shingle hashes of ``key`` (``n`` characters a shingle, the whole key when
    shorter) as far as a sketch of ``bins`` bins reads them: its bin and value bits equal
    those of :func:`shingle_hashes`, the bits below may differ."""
    hashes = _rolling_hashes(key, min(n, len(key)))
    return _mix_high(hashes) if bins.bit_length() - 1 + 16 <= 64 - 33 else _mix(hashes)


@lru_cache(maxsize=1)
def key_table() -> np.ndarray:
    """Code point (Basic Multilingual Plane) → its comparison form, 0 for characters a key
    leaves out (punctuation, separators, controls). Built once from the Unicode database and the
    traditional→simplified character table of the installed OpenCC dictionaries.

    >>> t = key_table(); chr(t[ord("國")]), chr(t[ord("Ａ")]), int(t[ord("，")])
    ('国', 'a', 0)
    """
    t2s = _t2s_characters()
    table = np.zeros(0x10000, dtype=np.uint32)
    for cp in range(0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        folded = unicodedata.normalize("NFKC", chr(cp)).lower()
        for ch in folded:
            if unicodedata.category(ch)[0] not in "PZC":
                table[cp] = ord(t2s.get(ch, ch)[0])
                break
    return table


def _t2s_characters() -> dict[str, str]:
    """TSCharacters of the OpenCC dictionaries: traditional character → first simplified one."""
    import opencc

    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSCharacters.txt")
    mapping: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            src, _, dst = line.rstrip("\n").partition("\t")
            if len(src) == 1 and dst:
                mapping[src] = dst.split(" ")[0]
    return mapping


def code_points(text: str) -> np.ndarray:
    """The text as a uint32 array of code points (one per character)."""
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4")


def mapped_codes(text: str, codes: np.ndarray | None = None) -> np.ndarray:
    """The text's code points (``codes`` when given), each replaced by its comparison form
    (0: left out of keys). Characters outside the Basic Multilingual Plane are kept as they are.

    >>> mapped_codes("國，A").tolist() == [ord("国"), 0, ord("a")]
    True
    """
    if codes is None:
        codes = code_points(text)
    try:
        # (np.take: no converting copy of the indices, unlike table[codes])
        return np.take(key_table(), codes)  # IndexError only when a character lies beyond the BMP
    except IndexError:
        pass
    small = codes < 0x10000
    return np.where(small, key_table()[np.where(small, codes, 0)], codes).astype(np.uint32)


def comparison_key(text: str) -> np.ndarray:
    """The comparison key of a text as a uint32 code-point array (see the module docstring)."""
    mapped = mapped_codes(text)
    return mapped[mapped != 0]


def shingle_hashes(key: np.ndarray, n: int = NGRAM) -> np.ndarray:
    """64-bit hashes of every character n-gram of a key (the whole key when shorter than n).

    >>> key = comparison_key("甲乙丙丁戊己")
    >>> len(shingle_hashes(key, 5)), len(shingle_hashes(key[:3], 5)), len(shingle_hashes(key[:0]))
    (2, 1, 0)
    """
    size = len(key)
    if size == 0:
        return np.zeros(0, dtype=_U64)
    return _mix(_rolling_hashes(key, min(n, size)))


def _rolling_hashes(codes: np.ndarray, n: int) -> np.ndarray:
    """The unmixed hash of the n-gram starting at each position ``0 .. len(codes) - n``:
    ``((c[i] + s)·P + c[i+1])·P + … + c[i+n-1]`` modulo 2**64 (``s``: the low half of the seed).

    Computed as ``g[i]·P**(n-2) + g[i+2]·P**(n-4) + …`` over the pairs ``g[i] = c[i]·P + c[i+1]``,
    the same number (multiplication and addition modulo 2**64 may be regrouped) in fewer passes;
    for odd ``n`` the seed term comes in with the characters (:func:`_seed_spread`).

    >>> c = [20013, 22269, 20154, 27665, 20849, 21644]
    >>> slow = c[0] + (SEED & 0xFFFF_FFFF)
    >>> for x in c[1:5]: slow = (slow * int(_PRIME) + x) % 2**64
    >>> fast = _rolling_hashes(np.array(c, np.uint32), 5)
    >>> int(fast[0]) == slow, len(fast)
    (True, 2)
    """
    count = len(codes) - n + 1
    if n % 2 == 0:
        wide = codes.astype(_U64)  # once: operations on two uint64 arrays are the fast loops
        pairs = wide[:-1] * _PRIME
        pairs += wide[1:]
        # (c[i] + s)·P = g[i] + s·P: the seed rides on the first pair
        h = pairs[:count] + _U64((SEED & 0xFFFF_FFFF) * int(_PRIME) % (1 << 64))
        for j in range(2, n - 1, 2):
            h *= _SQUARE
            h += pairs[j : j + count]
        return h
    # Odd n: the seed term s·P**(n-1) spread over the n characters (see _seed_spread), added
    # in the widening pass itself.
    wide = np.add(codes, _U64(_seed_spread(n)), dtype=_U64, casting="unsafe")
    if n == 1:
        return wide
    pairs = wide[:-1] * _PRIME
    pairs += wide[1:]
    h = None
    for j in range(2, n - 1, 2):
        if h is None:
            h = pairs[:count] * _SQUARE  # (the copy and the first multiplication in one pass)
        else:
            h *= _SQUARE
        h += pairs[j : j + count]
    if h is None:
        h = pairs[:count] * _PRIME
    else:
        h *= _PRIME
    h += wide[n - 1 : n - 1 + count]
    return h


_SQUARE = _U64(int(_PRIME) ** 2 % (1 << 64))


@lru_cache(maxsize=None)
def _seed_spread(n: int) -> int:
    """For odd ``n``: the ``k`` with ``k·(1 + P + … + P**(n-1)) = s·P**(n-1)`` modulo 2**64, so
    that adding ``k`` to every character adds the seed term to every n-gram's hash (the sum of
    n odd powers is odd, hence invertible modulo 2**64).

    >>> k, p, s = _seed_spread(5), int(_PRIME), SEED & 0xFFFF_FFFF
    >>> k * sum(p**e for e in range(5)) % 2**64 == s * p**4 % 2**64
    True
    """
    modulus = 1 << 64
    powers = sum(pow(int(_PRIME), e, modulus) for e in range(n)) % modulus
    return (SEED & 0xFFFF_FFFF) * pow(int(_PRIME), n - 1, modulus) * pow(powers, -1, modulus) % modulus


@dataclass(frozen=True)
class Sketch:
    """A document's MinHash signature (``BINS`` uint16) and its number of shingles."""

    signature: np.ndarray
    shingles: int


@dataclass(frozen=True)
class Fingerprint:
    """A document as the :class:`Index` sees it: its table keys (:meth:`Index.keys_of`) and
    its sketch. Computed beside the document, in a worker; the ordered lookup needs only this
    (at most 264 + 256 bytes), not the text. Pickles as one bytes string.

    >>> import pickle
    >>> fp = Index().fingerprint(comparison_key("全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"))
    >>> back = pickle.loads(pickle.dumps(fp))
    >>> len(back.keys), back.sketch.shingles, bool((back.sketch.signature == fp.sketch.signature).all())
    (33, 20, True)
    """

    keys: np.ndarray
    sketch: Sketch

    def __reduce__(self):
        head = struct.pack("<QH6x", self.sketch.shingles, len(self.keys))
        return (_fingerprint_from_bytes, (head + self.keys.tobytes() + self.sketch.signature.tobytes(),))


def _fingerprint_from_bytes(data: bytes) -> Fingerprint:
    shingles, count = struct.unpack_from("<QH6x", data)
    keys = np.frombuffer(data, dtype=_U64, count=count, offset=16)
    signature = np.frombuffer(data, dtype=np.uint16, offset=16 + 8 * count)
    return Fingerprint(keys, Sketch(signature, shingles))


def sketch(key: np.ndarray, n: int = NGRAM, bins: int = BINS) -> Sketch:
    """One-permutation MinHash of a key's n-gram set, empty bins filled by rotation.

    >>> s = sketch(comparison_key("甲乙丙丁戊己庚辛"))
    >>> s.signature.dtype, s.signature.shape, s.shingles
    (dtype('uint16'), (128,), 4)
    """
    if len(key) == 0:
        return Sketch(np.zeros(bins, dtype=np.uint16), 0)
    hashes = _sketch_hashes(key, n, bins)
    # (one key: the few calls of this path cost less than the joined one's, see sketch_joined)
    sig = np.full(bins, _EMPTY, dtype=_U64)
    shift = _U64(64 - (bins.bit_length() - 1))
    np.minimum.at(sig, (hashes >> shift).view(np.int64), (hashes >> (shift - _U64(16))) & _MASK16)
    empty = sig == _EMPTY
    if empty.any():
        # An empty bin takes the value of the next filled bin (circularly), shifted by the
        # distance, so two sketches agree there exactly when they agree on the bin borrowed from.
        filled = np.flatnonzero(~empty)
        idx = np.flatnonzero(empty)
        source = filled[np.searchsorted(filled, idx) % len(filled)]
        distance = (source - idx) % bins
        sig[idx] = (sig[source] + distance.astype(_U64) * _U64(0x9E37)) & _MASK16
    return Sketch(sig.astype(np.uint16), len(hashes))


def _fold_bins(hashes: np.ndarray, row_base: np.ndarray, rows: int, bins: int, hidden: np.ndarray) -> np.ndarray:
    """Per row and bin, the smallest value of the mixed shingle ``hashes`` falling there, as a
    (rows, bins) uint64 array (``_EMPTY`` where none falls): the top bits of a hash choose its
    bin, the next 16 bits are its value. ``row_base`` is ``row · bins << 16`` of each hash's
    row; ``hidden`` lists hashes left out (n-grams crossing from one key into the next).
    ``hashes`` is overwritten.

    Each hash becomes ``cell << 16 | value`` (``cell``: row · bins + bin), so the smallest of
    these per cell holds the cell's smallest value in its low bits: no array of values apart.

    >>> h = np.array([(1 << 57) | (7 << 41), (1 << 57) | (3 << 41), 5 << 41], dtype=_U64)
    >>> _fold_bins(h, np.zeros(3, _U64), 1, 128, np.zeros(0, np.intp))[0, :3].tolist()
    [5, 3, 65536]
    """
    shift = 64 - (bins.bit_length() - 1)
    packed = np.right_shift(hashes, _U64(shift - 16), out=hashes)  # bin << 16 | value
    packed += row_base
    cell = packed >> _U64(16)
    if len(hidden):
        cell[hidden] = rows * bins  # a cell of their own, past the last row
    # cell < 2**63: its signed view is the same index, without a converting copy
    least = np.full(rows * bins + 1, _NO_CELL, dtype=_U64)
    np.minimum.at(least, cell.view(np.int64), packed)
    least = least[:-1]
    sig = least & _MASK16
    sig[least == _NO_CELL] = _EMPTY
    return sig.reshape(rows, bins)


_NO_CELL = _U64(1 << 63)  # above every ``cell << 16 | value``: a cell no hash fell into


def _fill_empty_bins(sig: np.ndarray, bins: int) -> np.ndarray:
    """Each empty bin of each row takes the value of the next filled bin of its row
    (circularly), shifted by the distance, so two sketches agree there exactly when they agree
    on the bin borrowed from; as uint16. Every row has a filled bin."""
    empty = sig == _EMPTY
    rows = np.flatnonzero(empty.any(axis=1))  # a long key fills every bin: most rows
    if len(rows):
        part, empty = sig[rows], empty[rows]
        # Over the row written twice, the nearest filled position at or after each bin.
        where = np.where(empty, 2 * bins, np.arange(bins))
        twice = np.concatenate((where, where + bins), axis=1)
        nearest = np.minimum.accumulate(twice[:, ::-1], axis=1)[:, ::-1][:, :bins]
        at, cols = np.nonzero(empty)
        source = nearest[at, cols]
        borrowed = part[at, source % bins]
        part[at, cols] = (borrowed + (source - cols).astype(_U64) * _U64(0x9E37)) & _MASK16
        sig[rows] = part
    return sig.astype(np.uint16)


def sketch_joined(joined: np.ndarray, sizes: np.ndarray, n: int = NGRAM, bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """The sketches of keys laid end to end in ``joined`` (``sizes``: their lengths, each at
    least ``n``): their signatures as rows of a uint16 array, and their shingle counts. The
    same sketches as :func:`sketch` of each key, in a few NumPy calls for all of them: the
    joined keys are hashed as one array, and the n-grams crossing from one key into the next
    are left out of the bins.

    >>> keys = [comparison_key(t) for t in ("甲乙丙丁戊己庚辛", "全会充分肯定一年来全区工作")]
    >>> sigs, counts = sketch_joined(np.concatenate(keys), np.array([len(k) for k in keys]))
    >>> counts.tolist(), [bool((row == sketch(k).signature).all()) for row, k in zip(sigs, keys)]
    ([4, 9], [True, True])
    """
    sizes = np.asarray(sizes, dtype=np.intp)
    rows = len(sizes)
    if rows == 0:
        return np.zeros((0, bins), dtype=np.uint16), np.zeros(0, dtype=np.intp)
    count = len(joined) - n + 1
    hashes = _sketch_hashes(joined, n, bins)
    row_base = np.repeat(np.arange(0, rows * bins << 16, bins << 16, dtype=_U64), sizes)[:count]
    # the last n - 1 start positions of each key begin n-grams that run into the next key
    ends = np.cumsum(sizes)
    hidden = (ends[:-1, None] - np.arange(1, n, dtype=np.intp)).reshape(-1)
    return _fill_empty_bins(_fold_bins(hashes, row_base, rows, bins, hidden), bins), sizes - (n - 1)


def sketch_many(keys: list[np.ndarray], n: int = NGRAM, bins: int = BINS) -> list[Sketch]:
    """:func:`sketch` of each key, the same sketches, in a few NumPy calls for all of them
    rather than some thirty per key (what a short document's sketch costs): see
    :func:`sketch_joined`.

    >>> keys = [comparison_key(t) for t in ("甲乙丙丁戊己庚辛", "全会充分肯定一年来全区工作", "甲乙", "")]
    >>> [(a.shingles, bool((a.signature == b.signature).all())) for a, b in zip(sketch_many(keys), map(sketch, keys))]
    [(4, True), (9, True), (1, True), (0, True)]
    """
    out: list[Sketch | None] = [None] * len(keys)
    long = [i for i, k in enumerate(keys) if len(k) >= n]
    for i, k in enumerate(keys):
        if len(k) < n:
            out[i] = sketch(k, n, bins)  # the whole key is its one shingle (or none)
    if long:
        joined = np.concatenate([keys[i] for i in long])
        signatures, shingles = sketch_joined(joined, np.array([len(keys[i]) for i in long]), n, bins)
        for row, i in enumerate(long):
            out[i] = Sketch(signatures[row], int(shingles[row]))
    return out  # type: ignore[return-value]


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard similarity: the share of equal bins (``b`` may be a stack of sketches).

    >>> jaccard(np.array([1, 2, 3, 4], np.uint16), np.array([1, 2, 0, 0], np.uint16))
    np.float64(0.5)
    """
    return np.count_nonzero(a == b, axis=-1) / a.shape[-1]


def containment(similarity: np.ndarray, size: int, other: np.ndarray) -> np.ndarray:
    """Estimated share of a set (``size`` elements) that lies in another (``other`` elements),
    from their Jaccard similarity J: |A∩B| = J(|A|+|B|)/(1+J).

    >>> float(containment(np.float64(0.6), 60, np.int64(100)))
    1.0
    """
    inter = similarity * (size + other) / (1.0 + similarity)
    return np.minimum(inter / max(size, 1), 1.0)


_BAND_SALT = _mix(np.arange(1, BANDS + 1, dtype=_U64) * _U64(0x9E3779B97F4A7C15))


def band_keys(signature: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """One nonzero 64-bit key per LSH band (a band is ``BINS / bands`` consecutive bins; with
    four 16-bit bins a band is exactly 64 bits, salted with its number and mixed). A stack of
    signatures (one per row) gives one row of keys each.

    >>> s = sketch(comparison_key("甲乙丙丁戊己庚辛"))
    >>> k = band_keys(s.signature); k.shape, bool((k != 0).all())
    ((32,), True)
    """
    if bands == BANDS and signature.dtype == np.uint16 and BINS // BANDS == 4:
        h = signature.view(_U64) ^ _BAND_SALT
    else:
        rows = signature.reshape(bands, -1).astype(_U64)
        h = _mix(np.arange(1, bands + 1, dtype=_U64) * _U64(0x9E3779B97F4A7C15))
        for j in range(rows.shape[1]):
            h = (h << _U64(16)) ^ (h >> _U64(48)) ^ rows[:, j]
    h = _mix(h)
    return np.maximum(h, _U64(1), out=h)  # 0 marks a free table slot


def exact_key(key: np.ndarray) -> int:
    """A 64-bit digest of a whole comparison key (exact-duplicate test), never 0: the first 8
    bytes of the SHA-256 of its characters as 16-bit units, or, when one of them lies beyond
    the Basic Multilingual Plane, of a marker byte and 32-bit units (an odd length: never the
    bytes of a 16-bit key). (Index format 1 took BLAKE2b of the 32-bit units: several times the
    work of this on a page's key.)

    >>> exact_key(comparison_key("全會強調")) == exact_key(comparison_key("全会强调，")) != exact_key(comparison_key("全会"))
    True
    """
    if len(key) == 0 or key.max() < 0x10000:
        return _digest(key.astype(np.uint16))
    return _digest(b"\xff" + key.astype("<u4").tobytes())


def _digest(data) -> int:
    return int.from_bytes(hashlib.sha256(data).digest()[:8], "little") or 1


def exact_keys(joined: np.ndarray, sizes: list[int]) -> list[int]:
    """:func:`exact_key` of each of the keys laid end to end in ``joined`` (``sizes``: their
    lengths), narrowed to 16 bits in one pass for all of them.

    >>> keys = [comparison_key(t) for t in ("全会强调", "", "𠀀甲")]
    >>> exact_keys(np.concatenate(keys), [4, 0, 2]) == [exact_key(k) for k in keys]
    True
    """
    bounds = [0, *accumulate(sizes)]
    if len(joined) and joined.max() >= 0x10000:
        return [exact_key(joined[a:b]) for a, b in zip(bounds, bounds[1:])]
    # (slices of a memoryview: far cheaper than of the array, once per key)
    narrow = memoryview(joined.astype(np.uint16))
    sha256, from_bytes = hashlib.sha256, int.from_bytes
    return [from_bytes(sha256(narrow[a:b]).digest()[:8], "little") or 1 for a, b in zip(bounds, bounds[1:])]


class KeyTable:
    """A hash table from nonzero uint64 keys to int32 document numbers, in NumPy arrays:
    buckets of ``WIDTH`` slots (12 bytes a slot, at most ``MAX_LOAD`` in use), a full bucket spilling
    into the next. A lookup of a document's keys is a handful of vectorised operations. A key
    keeps the first document stored under it.

    >>> t = KeyTable()
    >>> t.insert(np.array([5, 9], np.uint64), 0); t.insert(np.array([9, 7], np.uint64), 1)
    >>> t.lookup(np.array([9, 7, 8], np.uint64)).tolist()
    [0, 1, -1]
    """

    WIDTH = 8
    #: Share of slots in use before the table doubles (a full bucket spills into the next).
    MAX_LOAD = 0.7
    #: Buckets a key that met a full one looks at in one step (a walk over several full
    #: buckets, common near MAX_LOAD, then costs one step, not one per bucket).
    AHEAD = 8

    def __init__(self, capacity: int = 1024) -> None:
        buckets = 1 << max(4, (max(capacity, 16) // self.WIDTH - 1).bit_length())
        self.keys = np.zeros((buckets, self.WIDTH), dtype=_U64)
        self.values = np.full((buckets, self.WIDTH), -1, dtype=np.int32)
        self.used = 0

    @property
    def capacity(self) -> int:
        return self.keys.size

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each key: bucket and column of the slot holding it (found) or of the first free
        slot where it would go (not found).

        Slots of a bucket fill from the left and are never emptied, so a stored key lies before
        the bucket's first free slot: the first slot that holds the key *or* is free answers
        both questions in one pass (no per-key loop; most keys settle in their first bucket).
        """
        mask = len(self.keys) - 1
        bucket = ((keys >> _U64(40)) & _U64(mask)).view(np.intp)
        found, column, full = self._probe(keys, bucket)
        if full.any():  # bucket full without the key: go on in the next ones, AHEAD at a time
            active = np.flatnonzero(full)
            while active.size:
                ahead = (bucket[active, None] + np.arange(1, self.AHEAD + 1)) & mask
                hit, col, over = self._probe(np.repeat(keys[active], self.AHEAD), ahead.reshape(-1))
                over = over.reshape(-1, self.AHEAD)
                settled = ~over.all(axis=1)
                step = over.argmin(axis=1)  # the first bucket that holds the key or a free slot
                at = np.arange(len(active)) * self.AHEAD + step
                # (none of them: on from the last one looked at)
                bucket[active] = ahead[np.arange(len(active)), np.where(settled, step, self.AHEAD - 1)]
                found[active] = hit[at] & settled
                column[active] = col[at]
                active = active[~settled]
        return bucket, column, found

    def _probe(self, keys: np.ndarray, bucket: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One bucket per key: whether it holds the key, the column of the first slot holding it
        or free, and whether the bucket is full without it."""
        rows = np.take(self.keys, bucket, axis=0)  # (cheaper than rows = self.keys[bucket])
        match = rows == keys[:, None]
        stop = match | (rows == 0)
        if self.WIDTH != 8:
            return match.any(axis=1), stop.argmax(axis=1), ~stop.any(axis=1)
        # A bucket's eight booleans are the bytes of one 64-bit word (0 or 1 each): the
        # reductions along a row become a few operations on one word per key.
        hit = match.view(_U64).reshape(-1)
        word = stop.view(_U64).reshape(-1)
        return hit != 0, _first_byte(word), word == 0

    def _used(self, bucket: np.ndarray) -> np.ndarray:
        """The number of slots in use in each of ``bucket``."""
        rows = np.take(self.keys, bucket, axis=0)
        if self.WIDTH != 8:
            return np.count_nonzero(rows, axis=1)
        # the eight 0/1 bytes of a word summed into its top byte
        word = (rows != 0).view(_U64).reshape(-1)
        return (word * _BYTE_ONES >> _U64(56)).view(np.intp)

    def _room_after(self, bucket: np.ndarray) -> np.ndarray:
        """For each bucket, the first one after it with a free slot (``AHEAD`` at a time)."""
        mask = len(self.keys) - 1
        out = bucket.copy()
        active = np.arange(len(bucket))
        while active.size:
            ahead = (out[active, None] + np.arange(1, self.AHEAD + 1)) & mask
            room = (self._used(ahead.reshape(-1)) < self.WIDTH).reshape(-1, self.AHEAD)
            settled = room.any(axis=1)
            out[active] = ahead[np.arange(len(active)), np.where(settled, room.argmax(axis=1), self.AHEAD - 1)]
            active = active[~settled]
        return out

    def values_at(self, bucket: np.ndarray, column: np.ndarray, found: np.ndarray) -> np.ndarray:
        """The document numbers of the slots :meth:`find` found, -1 for keys not found."""
        known = np.full(len(found), -1, dtype=np.int32)
        hit = np.flatnonzero(found)  # most keys of a new document are not in the table
        known[hit] = np.take(self.values.reshape(-1), bucket[hit] * self.WIDTH + column[hit])
        return known

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        return self.values_at(*self.find(keys))

    def store_missing(self, keys: np.ndarray, where: tuple[np.ndarray, np.ndarray, np.ndarray], value: int) -> None:
        """Store ``value`` under the keys a lookup just reported missing (``where`` is what
        :meth:`find` returned; the table must not have changed since)."""
        bucket, column, found = where
        fresh = ~found
        flat = bucket[fresh] * self.WIDTH + column[fresh]
        # A Python set of a few dozen ints is cheaper than np.unique on this tiny array.
        if len(set(flat.tolist())) != len(flat) or self.used + len(flat) > self.MAX_LOAD * self.capacity:
            # Two keys aim at one free slot (they share a bucket), or the table must grow: the
            # bulk placement gives keys sharing a bucket its free slots in turn.
            new = keys[fresh]
            if len(set(new.tolist())) != len(new):
                new = np.unique(new)  # one key twice among a document's keys
            self._fill(new, np.full(len(new), value, dtype=np.int32))
            return
        self.keys.reshape(-1)[flat] = keys[fresh]
        self.values.reshape(-1)[flat] = value
        self.used += len(flat)

    def add_new(self, keys: np.ndarray, values: np.ndarray, where: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Store distinct keys that are not in the table yet, each with its own value.
        ``where``: the bucket and column :meth:`find` gave for each of them, when the table
        has not changed since (it spares looking at their buckets again)."""
        used = None
        if where is not None and len(keys):
            bucket, column = where
            home = ((keys >> _U64(40)) & _U64(len(self.keys) - 1)).view(np.intp)
            # a key not found stops at its bucket's first free slot (= the slots in use), or
            # walks on from its home bucket when that is full
            used = np.where(bucket == home, column, self.WIDTH)
        self._fill(keys, values, used)

    def insert(self, keys: np.ndarray, value: int) -> None:
        """Store ``value`` under each key not stored yet."""
        keys = np.unique(keys)
        _, _, found = self.find(keys)
        fresh = keys[~found]
        self._fill(fresh, np.full(len(fresh), value, dtype=np.int32))

    def _grow(self) -> None:
        keys, values = self.keys.reshape(-1), self.values.reshape(-1)
        self.keys = np.zeros((2 * len(self.keys), self.WIDTH), dtype=_U64)
        self.values = np.full(self.keys.shape, -1, dtype=np.int32)
        self.used = 0
        # Old buckets in order, a slice at a time (bounded scratch memory); every key was
        # stored once, so the order of re-placing does not matter.
        step = 1 << 16
        for start in range(0, len(keys), step):
            part = keys[start : start + step]
            live = part != 0
            self._fill(part[live], values[start : start + step][live])

    def _fill(self, keys: np.ndarray, values: np.ndarray, used: np.ndarray | None = None) -> None:
        """Store distinct keys known to be absent, in bulk: keys sharing a bucket take its next
        free slots in turn (one sort instead of one :meth:`find` round per collision); those
        a full bucket cannot take go on to the next bucket, all of them in the next round (as a
        lookup walks on over full buckets).

        >>> t = KeyTable(); t._fill(np.array([1, 2, 3 << 40], np.uint64), np.array([7, 8, 9], np.int32))
        >>> t.lookup(np.array([2, 3 << 40, 4], np.uint64)).tolist(), t.used
        ([8, 9, -1], 3)
        >>> same = np.arange(101, 121, dtype=np.uint64)  # twenty keys of one bucket: three buckets
        >>> t._fill(same, np.arange(20, dtype=np.int32)); t.lookup(same[::-1]).tolist()[:3], t.used
        ([19, 18, 17], 23)

        ``used``: the slots in use in each key's bucket, when known (only while the table
        keeps its size).
        """
        while self.used + len(keys) > self.MAX_LOAD * self.capacity:
            self._grow()
            used = None
        mask = len(self.keys) - 1
        bucket = ((keys >> _U64(40)) & _U64(mask)).view(np.intp)
        while len(keys):
            # The keys in bucket order, input order within a bucket (a stable sort, as one sort
            # of bucket and position packed in one integer: far cheaper than a stable argsort)
            count = len(keys)
            bits = max(1, (count - 1).bit_length())
            position = np.arange(count)
            packed = np.sort((bucket << bits) | position)
            order = packed & ((1 << bits) - 1)
            bucket, keys, values = packed >> bits, keys[order], values[order]
            # the earlier keys of its bucket: its position less that of its bucket's first key
            first = np.empty(count, dtype=bool)
            first[0] = True
            np.not_equal(bucket[1:], bucket[:-1], out=first[1:])
            column = (self._used(bucket) if used is None else used[order]) + position
            used = None  # (the next round's buckets have taken keys of this one)
            column -= np.maximum.accumulate(np.where(first, position, 0))  # after the slots in use
            fits = column < self.WIDTH
            if fits.all():  # (the common case: no masks to apply)
                flat = bucket * self.WIDTH + column
                self.keys.reshape(-1)[flat] = keys
                self.values.reshape(-1)[flat] = values
                self.used += count
                break
            flat = bucket[fits] * self.WIDTH + column[fits]
            self.keys.reshape(-1)[flat] = keys[fits]
            self.values.reshape(-1)[flat] = values[fits]
            self.used += len(flat)
            rest = ~fits  # their bucket is full now: on to the first one after it with room
            keys, values, bucket = keys[rest], values[rest], self._room_after(bucket[rest])


_BYTE_ONES = _U64(0x0101_0101_0101_0101)


def _first_byte(word: np.ndarray) -> np.ndarray:
    """Index of the lowest nonzero byte of each 64-bit word whose bytes are 0 or 1 (7 for 0).

    >>> _first_byte(np.array([1, 1 << 8, (1 << 56) | (1 << 16), 0], np.uint64)).tolist()
    [0, 1, 2, 7]
    """
    # word ^ (word - 1) sets every bit up to the lowest set one; one 1 kept per byte below
    # and at it, summed into the top byte by the multiplication
    below = (word ^ (word - _U64(1))) & _BYTE_ONES
    return (below * _BYTE_ONES >> _U64(56)).view(np.intp) - 1


@dataclass
class Match:
    """A kept document a new one duplicates: its number, id, similarity and how it was measured."""

    number: int
    id: str
    similarity: float
    measure: str  # "exact", "jaccard" or "containment"


class Index:
    """The kept documents of a run (and of earlier runs, when loaded from a file).

    ``check`` finds the best earlier match of a sketch: candidates are documents sharing an
    LSH band or the exact digest; each candidate is verified on the full sketches. A document is
    a near duplicate when the estimated Jaccard similarity reaches ``threshold``, or when at
    least ``containment_threshold`` of its shingles lie in the earlier document (a truncated
    copy); a document that merely shares a paragraph or a quotation with an earlier one is not.

    >>> ix = Index()
    >>> text = "全会充分肯定一年来全区贯彻落实重要讲话精神的工作，认为全区上下认真学习。"
    >>> key = comparison_key(text); s = sketch(key)
    >>> ix.check(key, s) is None
    True
    >>> ix.add("a", key, s); ix.check(key, s)
    Match(number=0, id='a', similarity=1.0, measure='exact')
    >>> ix.offer("b", key, s).id, ix.offer("c", key[:20], sketch(key[:20])).measure, len(ix)
    ('a', 'containment', 1)
    """

    #: 2: exact digests by SHA-256 of 16-bit units (:func:`exact_key`); 1: by BLAKE2b.
    VERSION = 2
    MAGIC = b"cleancorp-dedup-index"

    def __init__(self, threshold: float = 0.8, containment_threshold: float = 0.8, min_shingles: int = 8) -> None:
        self.threshold = threshold
        self.containment_threshold = containment_threshold
        self.min_shingles = min_shingles
        self.signatures = np.zeros((0, BINS), dtype=np.uint16)
        self.sizes = np.zeros(0, dtype=np.uint32)
        self.ids: list[str] = []
        self.table = KeyTable()

    def __len__(self) -> int:
        return len(self.ids)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "format": self.VERSION}

    def __setstate__(self, state: dict) -> None:
        # An index pickled by an earlier version (a corpus checkpoint) holds exact digests
        # of another kind: its exact copies would go unseen.
        if state.pop("format", 1) != self.VERSION:
            raise pickle.UnpicklingError("dedup index of an earlier cleancorp (other exact digests)")
        self.__dict__.update(state)

    def keys_of(self, key: np.ndarray, sk: Sketch) -> np.ndarray:
        """The table keys a document is looked up and stored under: its exact digest first,
        then one key per LSH band (none for a text too short for a meaningful similarity)."""
        exact = exact_key(key)
        if sk.shingles < self.min_shingles:
            return np.array([exact], dtype=_U64)  # exact copies only
        keys = np.empty(1 + BANDS, dtype=_U64)
        keys[0] = exact
        keys[1:] = band_keys(sk.signature)
        return keys

    def fingerprint(self, key: np.ndarray) -> "Fingerprint":
        """What the index needs of a document's comparison key: its sketch and table keys
        (computed where the document is; the index itself only looks them up)."""
        sk = sketch(key)
        return Fingerprint(self.keys_of(key, sk), sk)

    def fingerprints(self, keys: list[np.ndarray]) -> list["Fingerprint"]:
        """:meth:`fingerprint` of each key, the same fingerprints, computed together
        (:meth:`fingerprints_joined`).

        >>> ix = Index(); keys = [comparison_key(t * 3) for t in ("全会充分肯定", "要坚持", "甲")]
        >>> [bool((a.keys == b.keys).all()) for a, b in zip(ix.fingerprints(keys), map(ix.fingerprint, keys))]
        [True, True, True]
        """
        sizes = [len(k) for k in keys]
        return self.fingerprints_joined(np.concatenate(keys) if keys else np.zeros(0, np.uint32), sizes)

    def fingerprints_joined(self, joined: np.ndarray, sizes: list[int]) -> list["Fingerprint"]:
        """:meth:`fingerprint` of each of the keys laid end to end in ``joined`` (``sizes``:
        their lengths), the sketches of all computed at once (:func:`sketch_joined`), the band
        keys of all in one pass."""
        bounds = [0, *accumulate(sizes)]
        sketches: list[Sketch | None] = [None] * len(sizes)
        long = [i for i, size in enumerate(sizes) if size >= NGRAM]
        if len(long) == len(sizes):
            signatures, shingles = sketch_joined(joined, sizes)
        elif long:
            part = np.concatenate([joined[bounds[i] : bounds[i + 1]] for i in long])
            signatures, shingles = sketch_joined(part, [sizes[i] for i in long])
        if long:
            # (iterating over the rows gives their views at once; tolist, Python ints)
            for i, signature, count in zip(long, signatures, shingles.tolist()):
                sketches[i] = Sketch(signature, count)
        for i, size in enumerate(sizes):
            if size < NGRAM:  # the whole key is its one shingle (or none)
                sketches[i] = sketch(joined[bounds[i] : bounds[i + 1]])
        banded = [i for i, sk in enumerate(sketches) if sk.shingles >= self.min_shingles]
        table = np.empty((len(banded), 1 + BANDS), dtype=_U64)
        if banded:
            stack = signatures if len(banded) == len(sizes) == len(long) else np.stack([sketches[i].signature for i in banded])
            table[:, 1:] = band_keys(stack)
        exacts = exact_keys(joined, sizes)
        if len(banded) == len(sizes):  # (the common case: every document has band keys)
            table[:, 0] = exacts
            return [Fingerprint(keys, sk) for keys, sk in zip(table, sketches)]
        out = []
        row = 0
        for i, (sk, exact) in enumerate(zip(sketches, exacts)):
            if row < len(banded) and banded[row] == i:
                table[row, 0] = exact
                out.append(Fingerprint(table[row], sk))
                row += 1
            else:
                out.append(Fingerprint(np.array([exact], dtype=_U64), sk))  # exact copies only
        return out

    def offer(self, doc_id: str, key: np.ndarray, sk: Sketch) -> Match | None:
        """The best earlier match of a document, or None after adding it to the index."""
        return self.offer_fingerprint(doc_id, Fingerprint(self.keys_of(key, sk), sk))

    def offer_fingerprint(self, doc_id: str, fp: "Fingerprint") -> Match | None:
        """:meth:`offer` for a document whose :class:`Fingerprint` was computed elsewhere."""
        keys, sk = fp.keys, fp.sketch
        where = self.table.find(keys)
        bucket, column, found = where
        match = None
        if found.any():  # most documents share no key with a kept one: nothing to verify
            match = self._verify(sk, self.table.values_at(bucket, column, found).tolist())
        if match is None:
            n = self._append(doc_id, sk)
            self.table.store_missing(keys, where, n)
        return match

    def offer_many(self, items: list[tuple[str, "Fingerprint"]]) -> list[Match | None]:
        """:meth:`offer_fingerprint` for each (id, fingerprint) in turn, with the same results
        (same matches, same document numbers), for a fraction of the NumPy calls:

        * the keys of all are looked up in the table at once, and every candidate found there
          is verified on the sketches at once (the candidates in the table do not depend on
          which of ``items`` are kept);
        * a key that is not in the table but that two of ``items`` hold is looked up in a dict
          of the keys stored by earlier ones of ``items``, and such a document is verified on
          its own, as :meth:`offer_fingerprint` does;
        * the new keys go into the table in one pass at the end (so only the table's slot
          layout differs from offering one at a time).

        >>> ix = Index()
        >>> fp = ix.fingerprint(comparison_key("全会充分肯定一年来全区贯彻落实重要讲话精神的工作。"))
        >>> [m and m.id for m in ix.offer_many([("a", fp), ("b", fp)])], [m.id for m in ix.offer_many([("c", fp), ("d", fp)])]
        ([None, 'a'], ['a', 'a'])
        """
        if len(items) <= 1:
            return [self.offer_fingerprint(*item) for item in items]
        table = self.table
        count = len(items)
        lengths = np.array([len(fp.keys) for _, fp in items], dtype=np.intp)
        starts = np.zeros(count, dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        keys = np.concatenate([fp.keys for _, fp in items])
        owner = np.repeat(np.arange(count), lengths)
        bucket, column, found = table.find(keys)
        known = table.values_at(bucket, column, found)
        # Keys missing from the table that two of the items hold: the later one may meet the
        # earlier one through them.
        missing = np.flatnonzero(~found)
        shared = np.zeros(len(keys), dtype=bool)
        lost = np.sort(keys[missing])
        twice = lost[1:][lost[1:] == lost[:-1]]
        if len(twice):  # (rare: most batches hold no key twice)
            shared[missing] = np.isin(keys[missing], twice)
        meets_batch = np.logical_or.reduceat(shared, starts)
        meets_table = np.logical_or.reduceat(found, starts)
        signatures = np.stack([fp.sketch.signature for _, fp in items])
        sizes = np.array([fp.sketch.shingles for _, fp in items], dtype=np.int64)
        # The exact-digest candidates in the table (each document's first key) ...
        exact = known[starts]
        exact_equal = np.zeros(count, dtype=bool)
        has = np.flatnonzero(exact >= 0)
        exact_equal[has] = (self.signatures[exact[has]] == signatures[has]).all(axis=1)
        # ... and the band candidates, each (document, candidate) pair once, in candidate order
        band = found.copy()
        band[starts] = False
        pairs = np.unique((owner[band].astype(np.int64) << 32) | known[band])
        pair_doc, pair_cand = (pairs >> 32).astype(np.intp), (pairs & 0xFFFF_FFFF).astype(np.intp)
        sims = np.count_nonzero(signatures[pair_doc] == self.signatures[pair_cand], axis=1) / BINS
        size = sizes[pair_doc]
        inter = sims * (size + self.sizes[pair_cand].astype(np.int64)) / (1.0 + sims)
        cont = np.minimum(inter / np.maximum(size, 1), 1.0)  # as containment() computes it
        passing: dict[int, list[tuple[int, float, float]]] = {}
        for i in np.flatnonzero((sims >= self.threshold) | (cont >= self.containment_threshold)).tolist():
            passing.setdefault(int(pair_doc[i]), []).append((int(pair_cand[i]), float(sims[i]), float(cont[i])))
        any_batch = bool(meets_batch.any())
        all_keys = keys.tolist() if any_batch else []
        known_list = known.tolist() if any_batch else []
        shared_list = shared.tolist() if any_batch else []
        fresh: dict[int, int] = {}  # shared key → the first of the items stored under it
        number = np.full(count, -1, dtype=np.int64)  # document number of each item kept
        kept: list[int] = []  # items kept, in order; their sketches are stored in bulk
        stored = 0  # how many of them are stored so far
        first_number = len(self.ids)
        matches: list[Match | None] = []
        for d, (doc_id, fp), batch_d, table_d, exact_d in zip(
            range(count), items, meets_batch.tolist(), meets_table.tolist(), exact_equal.tolist()
        ):
            match = None
            if batch_d:
                a, b = starts[d], starts[d] + lengths[d]
                hits = [v if v >= 0 else fresh.get(k, -1) for k, v in zip(all_keys[a:b], known_list[a:b])]
                if max(hits) >= 0:
                    if stored < len(kept):  # a candidate may be an item kept just before
                        self._append_rows(items, kept[stored:])
                        stored = len(kept)
                    match = self._verify(fp.sketch, hits)
            elif table_d:
                if exact_d:
                    n = int(exact[d])
                    match = Match(n, self.ids[n], 1.0, "exact")
                else:
                    match = self._best(passing.get(d, ()))
            if match is None:
                n = first_number + len(kept)
                kept.append(d)
                if batch_d:
                    for k, v, other in zip(all_keys[a:b], hits, shared_list[a:b]):
                        if v < 0 and other:  # another item holds it too (the rest: below)
                            fresh.setdefault(k, n)
            matches.append(match)
        if stored < len(kept):
            self._append_rows(items, kept[stored:])
        number[kept] = np.arange(first_number, first_number + len(kept))
        # New keys of the kept items: those only one item holds, then the shared ones.
        alone = ~found & ~shared & (number[owner] >= 0)
        new_keys = np.concatenate([keys[alone], np.fromiter(fresh.keys(), dtype=_U64, count=len(fresh))])
        new_values = np.concatenate([number[owner[alone]], np.fromiter(fresh.values(), dtype=np.int64, count=len(fresh))])
        if len(new_keys):
            where = (bucket[alone], column[alone]) if not fresh else None
            table.add_new(new_keys, new_values.astype(np.int32), where)
        return matches

    def _best(self, candidates) -> Match | None:
        """The best of (document number, similarity, containment) candidates in number order,
        as :meth:`_verify` picks it."""
        best: Match | None = None
        for n, sim, con in candidates:
            if sim >= self.threshold:
                m = Match(n, self.ids[n], round(sim, 4), "jaccard")
            elif con >= self.containment_threshold:
                m = Match(n, self.ids[n], round(con, 4), "containment")
            else:
                continue
            if best is None or m.similarity > best.similarity:  # ties: the earlier document
                best = m
        return best

    def check(self, key: np.ndarray, sk: Sketch) -> Match | None:
        """The best earlier match of a document (the index is not changed)."""
        return self._verify(sk, self.table.lookup(self.keys_of(key, sk)).tolist())

    def add(self, doc_id: str, key: np.ndarray, sk: Sketch) -> None:
        """Add a document to the index without checking it."""
        self.table.insert(self.keys_of(key, sk), self._append(doc_id, sk))

    def _verify(self, sk: Sketch, hits: list[int]) -> Match | None:
        """Verify the candidates ``hits`` (document numbers or -1: exact digest first, then
        one per band) on the sketches."""
        first = hits[0]
        if first >= 0 and self.signatures[first].tobytes() == sk.signature.tobytes():
            return Match(first, self.ids[first], 1.0, "exact")
        found = {h for h in hits[1:] if h >= 0}
        if not found:
            return None
        cands = np.array(sorted(found), dtype=np.intp)
        sims = jaccard(sk.signature, self.signatures[cands])
        cont = containment(sims, sk.shingles, self.sizes[cands].astype(np.int64))
        return self._best(zip(cands.tolist(), sims.tolist(), cont.tolist()))

    def _append(self, doc_id: str, sk: Sketch) -> int:
        n = len(self.ids)
        self._reserve(n + 1)
        self.signatures[n] = sk.signature
        self.sizes[n] = min(sk.shingles, 0xFFFF_FFFF)
        self.ids.append(doc_id)
        return n

    def _append_rows(self, items: list[tuple[str, "Fingerprint"]], rows: list[int]) -> None:
        """:meth:`_append` of each of ``items[rows]``, in order, the sketches in one go."""
        n = len(self.ids)
        self._reserve(n + len(rows))
        chosen = [items[r][1].sketch for r in rows]
        self.signatures[n : n + len(rows)] = np.stack([sk.signature for sk in chosen])
        self.sizes[n : n + len(rows)] = [min(sk.shingles, 0xFFFF_FFFF) for sk in chosen]
        self.ids.extend(items[r][0] for r in rows)

    def _reserve(self, total: int) -> None:
        """Room for ``total`` documents in the sketch arrays (doubling)."""
        if total <= len(self.signatures):
            return
        n = len(self.ids)
        grown = max(1024, 2 * len(self.signatures), total)
        sigs = np.zeros((grown, BINS), dtype=np.uint16)
        sigs[:n] = self.signatures[:n]
        sizes = np.zeros(grown, dtype=np.uint32)
        sizes[:n] = self.sizes[:n]
        self.signatures, self.sizes = sigs, sizes

    # -- persistence -----------------------------------------------------------------------

    def _params(self) -> np.ndarray:
        return np.array([self.VERSION, NGRAM, BINS, BANDS, SEED], dtype=np.int64)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index atomically (NumPy ``.npz``, with a format header)."""
        from .io import AtomicWriter

        n = len(self.ids)
        blob = "\n".join(i.replace("\n", " ") for i in self.ids).encode("utf-8")
        buf = io.BytesIO()
        np.savez(
            buf,
            magic=np.frombuffer(self.MAGIC, dtype=np.uint8),
            params=self._params(),
            signatures=self.signatures[:n],
            sizes=self.sizes[:n],
            ids=np.frombuffer(blob, dtype=np.uint8),
            table_keys=self.table.keys,
            table_values=self.table.values,
        )
        with AtomicWriter(path) as fh:
            fh.write(buf.getvalue())

    def load(self, path: str | os.PathLike[str]) -> None:
        """Read an index written by :meth:`save`; ValueError with a one-line reason otherwise."""
        try:
            with np.load(path, allow_pickle=False) as data:
                if bytes(data["magic"]) != self.MAGIC:
                    raise ValueError("not a cleancorp dedup index")
                params = data["params"]
                if params.tolist()[1:] == self._params().tolist()[1:] and params[0] < self.VERSION:
                    raise ValueError(
                        f"index format {params[0]} was written by an earlier cleancorp; this one "
                        f"reads format {self.VERSION} (other exact digests): build the index again"
                    )
                if params.tolist() != self._params().tolist():
                    raise ValueError(
                        f"index format/parameters {params.tolist()[:4]} differ from this version's "
                        f"{self._params().tolist()[:4]} (version, n-gram, bins, bands)"
                    )
                signatures = data["signatures"]
                sizes = data["sizes"]
                ids = bytes(data["ids"]).decode("utf-8").split("\n") if len(data["ids"]) else []
                keys = data["table_keys"].reshape(-1)
                values = data["table_values"].reshape(-1)
        except (OSError, KeyError, ValueError, EOFError, struct.error) as exc:
            msg = str(exc) if isinstance(exc, ValueError) and str(exc) else "unreadable"
            raise ValueError(f"dedup index {os.fspath(path)}: {msg}") from None
        except Exception as exc:  # zip/npy parsing errors of a damaged file
            raise ValueError(f"dedup index {os.fspath(path)}: damaged ({type(exc).__name__})") from None
        width = KeyTable.WIDTH
        rows = len(keys) // width
        if (
            len(ids) != len(signatures)
            or len(sizes) != len(signatures)
            or len(keys) != len(values)
            or rows < 16
            or rows & (rows - 1)
            or rows * width != len(keys.reshape(-1))
        ):
            raise ValueError(f"dedup index {os.fspath(path)}: damaged (inconsistent sizes)")
        self.signatures = np.array(signatures, dtype=np.uint16).reshape(-1, BINS)
        self.sizes = np.array(sizes, dtype=np.uint32)
        self.ids = ids
        self.table = KeyTable()
        self.table.keys = np.array(keys, dtype=_U64).reshape(-1, width)
        self.table.values = np.array(values, dtype=np.int32).reshape(self.table.keys.shape)
        self.table.used = int((self.table.keys != 0).sum())


#: Index memory per kept document, in bytes, at most: sketch + shingle count + table slots
#: (1 exact digest + BANDS band keys, 12 bytes a slot, 35–70 % of slots in use, so up to 34
#: bytes each). The id string comes on top (a Python str, about 50 + its length bytes).
BYTES_PER_DOCUMENT = BINS * 2 + 4 + (1 + BANDS) * 34
