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
import math
from functools import lru_cache
from pathlib import Path

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
        p_b = self.line_end_p if b == LINE_END else math.exp(self.logp(b))
        if not n_pair:
            value = math.log((1 - PAIR_WEIGHT) * p_b)
        else:
            value = math.log(PAIR_WEIGHT * n_pair / self.chars.get(a, n_pair) + (1 - PAIR_WEIGHT) * p_b)
        if len(self._pair_cache) > PAIR_CACHE_SIZE:
            self._pair_cache.clear()  # bounded memory on endless streams of new pairs
        self._pair_cache[key] = value
        return value

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
        values = self.char_logps(text)
        return sum(values) / len(values) if values else 0.0

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
