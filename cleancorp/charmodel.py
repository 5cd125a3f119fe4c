"""How Chinese a piece of text looks: character and character-pair frequencies of real text.

The repair fixes use this model only to choose between candidate readings of damaged bytes and
to decide whether a span is garbage; every decision they make records the scores that made it.

The counts (``cleancorp/data/charmodel.tsv.gz``, built by ``scripts/build_charmodel.py``) come
from clean prose and from the word-frequency dictionary shipped with jieba, each also converted
to traditional script, so simplified and traditional text score alike.

Only characters from U+2000 up that are not white space are scored (Han, CJK and full-width
punctuation, symbols, kana, …); ASCII, Latin and other alphabetic characters are neutral: they
neither raise nor lower a score and they break the chain of pairs.

>>> m = load()
>>> m.score("重庆日报发布时间") > m.score("閲嶅簡鏃ユ姤鍙戝竷") + 3
True
>>> m.score("abc")
0.0
>>> m.is_common("的"), m.is_common("閲")
(True, False)
"""
from __future__ import annotations

import gzip
import itertools
import math
import operator
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_FILE = Path(__file__).resolve().parent / "data" / "charmodel.tsv.gz"

#: Stands for the end of a paragraph in pairs: ``pair_logp(ch, LINE_END)`` is how likely a
#: paragraph ends after ``ch``.
LINE_END = "\u2029"  # PARAGRAPH SEPARATOR: never a scored character
#: Weight of the pair estimate against the character's own frequency in P(b | a).
PAIR_WEIGHT = 0.9
#: Pair log-probabilities remembered at most (they repeat a lot while candidates are compared).
PAIR_CACHE_SIZE = 500_000
#: A character at or above this log-probability counts as common (about 1 in 100,000).
COMMON_LOGP = math.log(1e-5)
#: Runs of characters the model does not score (see ``is_scored``).
_UNSCORED = re.compile("[\x00-\u200a\u2028\u2029\u202f\u205f\u3000]+")


def is_scored(ch: str) -> bool:
    """Whether the model has an opinion about a character (see the module docstring).

    >>> [is_scored(c) for c in "中，“a é\\u3000"]
    [True, True, True, False, False, False, False]
    """
    return ch >= "\u2000" and not ch.isspace()


class CharModel:
    """Unigram and bigram log-probabilities of characters, with backoff for unseen pairs."""

    def __init__(self, chars: dict[str, int], pairs: dict[str, int]) -> None:
        self.chars = chars
        self.pairs = pairs
        self.total = sum(chars.values()) or 1
        #: log-probability of a character never seen: half a count
        self.floor = math.log(0.5 / self.total)
        self._logp = {ch: math.log(n / self.total) for ch, n in chars.items()}
        self._pair_cache: dict[str, float] = {}
        ends = sum(n for pair, n in pairs.items() if pair[-1] == LINE_END)
        self.line_end_p = max(ends, 1) / self.total
        # log P(b | a) of a pair never seen depends on b alone: worked out once per character.
        self._unseen = {ch: math.log((1 - PAIR_WEIGHT) * math.exp(lp)) for ch, lp in self._logp.items()}
        self._unseen[LINE_END] = math.log((1 - PAIR_WEIGHT) * self.line_end_p)
        self._unseen_floor = math.log((1 - PAIR_WEIGHT) * math.exp(self.floor))
        self._followers: dict[str, frozenset[str]] | None = None
        self._leaders: dict[str, frozenset[str]] | None = None
        self._pair_codes: list | None = None

    def logp(self, ch: str) -> float:
        """Natural-log unigram probability of ``ch`` (``floor`` when unknown).

        >>> m = load()
        >>> m.logp("的") > m.logp("閲") > m.logp("\\U000f0000") == m.floor
        True
        """
        return self._logp.get(ch, self.floor)

    def pair_logp(self, a: str, b: str) -> float:
        """log P(b | a): the pair's relative frequency interpolated with b's own frequency.

        >>> m = load()
        >>> m.pair_logp("重", "庆") > m.logp("庆") > m.pair_logp("鍙", "庆")
        True
        >>> m.pair_logp("。", LINE_END) > m.pair_logp("、", LINE_END)
        True
        """
        key = a + b
        cached = self._pair_cache.get(key)
        if cached is not None:
            return cached
        n_pair = self.pairs.get(key)
        if not n_pair:
            value = self._unseen.get(b, self._unseen_floor)
        else:
            p_b = self.line_end_p if b == LINE_END else math.exp(self.logp(b))
            value = math.log(PAIR_WEIGHT * n_pair / self.chars.get(a, n_pair) + (1 - PAIR_WEIGHT) * p_b)
        if len(self._pair_cache) > PAIR_CACHE_SIZE:
            self._pair_cache.clear()  # bounded memory on endless streams of new pairs
        self._pair_cache[key] = value
        return value

    def pair_logps(self, firsts: list[str], b: str) -> list[float]:
        """``[self.pair_logp(a, b) for a in firsts]``, looked up together: the pairs
        remembered and the pair counts are read in one pass each, and a pair never seen
        (most, when candidates are compared) gets b's backoff value without a call.

        >>> m = load()
        >>> m.pair_logps(["重", "鍙", "重"], "庆") == [m.pair_logp(a, "庆") for a in ("重", "鍙", "重")]
        True
        """
        keys = list(map(operator.add, firsts, itertools.repeat(b, len(firsts))))
        got = list(map(self._pair_cache.get, keys))
        if None not in got:
            return got
        unseen = self._unseen.get(b, self._unseen_floor)
        counts = map(self.pairs.get, keys)
        return [
            value if value is not None else self.pair_logp(a, b) if n_pair else unseen
            for value, n_pair, a in zip(got, counts, firsts)
        ]

    def char_logps(self, text: str) -> list[float]:
        """Per scored character, its log-probability given the character before it (when that
        one is scored too) or on its own.

        >>> [round(x, 1) for x in load().char_logps("a重庆")][:1] == [round(load().logp("重"), 1)]
        True
        """
        out: list[float] = []
        prev = ""
        for ch in text:
            if ch >= "\u2000" and not ch.isspace():
                out.append(self.pair_logp(prev, ch) if prev else self.logp(ch))
                prev = ch
            else:
                prev = ""
        return out

    def score(self, text: str) -> float:
        """Mean log-probability per scored character (0.0 when there is none).

        >>> m = load()
        >>> round(m.score("重庆日报"), 2) == round(sum(m.char_logps("重庆日报")) / 4, 2)
        True
        """
        # ``char_logps`` without a Python step per character: this runs over every span a repair
        # considers. Pairs are looked up a run of scored characters at a time; the few not
        # remembered yet are worked out one by one. The values are summed in the same order.
        values: list[float] = []
        logp = self._logp
        cache = self._pair_cache
        for run in _UNSCORED.split(text) if _UNSCORED.search(text) else (text,):
            if not run:
                continue
            values.append(logp.get(run[0], self.floor))
            if len(run) > 1:
                got = list(map(cache.get, map(operator.add, run, run[1:])))
                if None in got:
                    k = got.index(None)
                    while True:
                        got[k] = self.pair_logp(run[k], run[k + 1])
                        try:
                            k = got.index(None, k + 1)
                        except ValueError:
                            break
                values += got
        return sum(values) / len(values) if values else 0.0

    def followers(self, a: str) -> frozenset[str]:
        """The characters seen right after ``a`` (pairs in the counts): every other character
        ``b`` gets the backoff value in ``pair_logp(a, b)``, which depends on ``b`` alone.

        >>> "庆" in load().followers("重"), "庆" in load().followers("閲")
        (True, False)
        """
        found = self._followers.get(a) if self._followers is not None else None
        if found is None:
            found = self._neighbours(a, 0)
        return found

    def leaders(self, b: str) -> frozenset[str]:
        """The characters seen right before ``b`` (``LINE_END`` too: paragraph ends).

        >>> "重" in load().leaders("庆"), "。" in load().leaders(LINE_END)
        (True, True)
        """
        found = self._leaders.get(b) if self._leaders is not None else None
        if found is None:
            found = self._neighbours(b, 1)
        return found

    def _neighbours(self, ch: str, side: int) -> frozenset[str]:
        """The other characters of the seen pairs whose character ``side`` (0 first, 1 second)
        is ``ch``, looked up in the pairs sorted by that side and remembered per character: the
        few hundred characters a repair asks about cost a binary search each, where indexing
        every pair up front took a third of a second per process."""
        if self._pair_codes is None:
            self._index_pairs()
        by_side, other = self._pair_codes[side]
        code = ord(ch)
        lo, hi = np.searchsorted(by_side, (code, code + 1))
        found = frozenset(map(chr, other[lo:hi].tolist()))
        table = self._followers if side == 0 else self._leaders
        table[ch] = found
        return found

    def _index_pairs(self) -> None:
        seen = [pair for pair, n in self.pairs.items() if n and len(pair) == 2]
        codes = np.frombuffer("".join(seen).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).reshape(-1, 2)
        sides = []
        for side in (0, 1):
            order = np.argsort(codes[:, side], kind="stable")
            sides.append((codes[order, side], codes[order, 1 - side]))
        self._pair_codes = sides
        self._followers, self._leaders = {}, {}

    def is_common(self, ch: str) -> bool:
        """Whether ``ch`` is an everyday character (about one in 100,000 or more often)."""
        return self.logp(ch) >= COMMON_LOGP


def parse(data: str) -> CharModel:
    """Read the counts file: ``U<TAB>char<TAB>count`` and ``P<TAB>pair<TAB>count`` lines.

    >>> parse("U\\t中\\t3\\nU\\t文\\t1\\nP\\t中文\\t1\\n").pairs
    {'中文': 1}
    """
    chars: dict[str, int] = {}
    pairs: dict[str, int] = {}
    for line in data.split("\n"):
        if not line or line[0] == "#":
            continue
        kind, key, count = line.split("\t")
        (chars if kind == "U" else pairs)[key] = int(count)
    return CharModel(chars, pairs)


@lru_cache(maxsize=1)
def load() -> CharModel:
    """The shipped model, read once per process."""
    with gzip.open(DATA_FILE, "rt", encoding="utf-8") as fh:
        return parse(fh.read())
