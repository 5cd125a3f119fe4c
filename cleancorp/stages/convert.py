"""convert: traditional → simplified Chinese (OpenCC profiles), and script detection.

The output is exactly that of the declared library, opencc-python-reimplemented, computed by
the fast engine in ``cleancorp.opencc_fast``. Only characters covered by the profile's
dictionaries change (Han characters); Latin, digits, punctuation, kana and the rest pass
through untouched.

Every document gets ``script`` in its report: the share of its Han characters that are
traditional-only (``cleancorp/data/traditional_only.txt``) and what that says:
``simplified`` below 0.5 %, ``traditional`` from 5 % on, ``mixed`` between. Traditional prose
scores 0.28–0.35 and any paragraph of it over 20 characters at least 0.05; clean simplified
text scores 0. The profile ``auto`` converts (with t2s) only documents detected as
traditional, and leaves simplified and mixed ones exactly as they are.

>>> from cleancorp.document import Document
>>> doc = Document("a", text="中國共產黨大渡口區委員會")
>>> Convert().apply(doc); doc.text
'中国共产党大渡口区委员会'
>>> doc.log["convert"].info["script"]
{'traditional_share': 0.5, 'detected': 'traditional'}
"""
from __future__ import annotations

import operator
from functools import lru_cache
from importlib import resources

from .. import opencc_fast
from ..document import Document
from ..registry import Stage, register

PROFILES = ("t2s", "tw2s", "hk2s", "tw2sp", "s2t", "auto", "none")

#: Shares of traditional-only characters among Han characters that separate the verdicts.
SIMPLIFIED_BELOW = 0.005
TRADITIONAL_FROM = 0.05
#: The conversion ``auto`` applies to documents detected as traditional.
AUTO_PROFILE = "t2s"



@lru_cache(maxsize=None)
def traditional_only() -> opencc_fast.CharClass:
    """The characters that mark traditional text, loaded once per process."""
    text = resources.files("cleancorp.data").joinpath("traditional_only.txt").read_text(encoding="utf-8")
    return opencc_fast.CharClass(line for line in text.split("\n") if line and not line.startswith("#"))


def detect_script(text: str) -> dict[str, object]:
    """The share of traditional-only characters among the Han characters of ``text``, and the
    verdict it gives.

    >>> detect_script("這是繁體中文。")
    {'traditional_share': 0.333, 'detected': 'traditional'}
    >>> detect_script("这是简体中文。Hello")
    {'traditional_share': 0.0, 'detected': 'simplified'}
    """
    if traditional_only().search(text) is None:
        # The usual case is settled by one scan; counting is only needed when there is a mark.
        return _verdict(0, 0)
    return _verdict(*_count_marked_and_han(text))


def _verdict(marked: int, han: int) -> dict[str, object]:
    """The ``script`` entry of the report for ``marked`` traditional-only characters among
    ``han`` Han characters.

    >>> _verdict(1, 40)
    {'traditional_share': 0.025, 'detected': 'mixed'}
    """
    share = marked / max(1, han)
    if share >= TRADITIONAL_FROM:
        verdict = "traditional"
    elif share < SIMPLIFIED_BELOW:
        verdict = "simplified"
    else:
        verdict = "mixed"
    return {"traditional_share": round(share, 3), "detected": verdict}


@lru_cache(maxsize=None)
def _screen(profile: str | None) -> opencc_fast.CharClass:
    """The traditional-only marks and the trigger characters of ``profile``'s converter in one
    class: on most documents one scan finding none of them settles both questions."""
    chars = set(traditional_only().chars)
    if profile is not None:
        chars.update(opencc_fast.converter(profile).trigger.chars)
    return opencc_fast.CharClass(chars)


def classify(text: str, profile: str | None = None) -> tuple[dict[str, object], bool]:
    """``detect_script(text)``, and whether the converter of ``profile`` could change ``text``
    at all (False when ``profile`` is None).

    Regular-expression scans, not a NumPy lookup per character: their bitmaps are a few KB and
    stay in cache between documents, where a table indexed by code point is evicted by the
    other stages of the chain and costs more than the scans.

    >>> classify("這是繁體中文。", "t2s")
    ({'traditional_share': 0.333, 'detected': 'traditional'}, True)
    >>> classify("这是简体中文。" * 100, "t2s")
    ({'traditional_share': 0.0, 'detected': 'simplified'}, False)
    """
    if _screen(profile).search(text) is None:
        return _verdict(0, 0), False
    return detect_script(text), profile is not None and opencc_fast.converter(profile).triggered_by(text)


@lru_cache(maxsize=None)
def _class_table():
    """Per code point: bit 1 = Han character, bit 2 = traditional-only mark (built once)."""
    import numpy as np

    table = np.zeros(0x110000, dtype=np.uint8)
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF)):
        table[lo : hi + 1] = 1
    marks = [ord(c) for c in traditional_only().chars]
    table[marks] |= 2
    return table


def _code_points(text: str):
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _count_marked_and_han(text: str) -> tuple[int, int]:
    """(traditional-only marks, Han characters) in ``text``, counted in one vectorised pass:
    a regex count of each costs as much as the conversion itself.

    >>> _count_marked_and_han("這是繁體中文。abc")
    (2, 6)
    """
    import numpy as np

    counts = np.bincount(_class_table()[_code_points(text)], minlength=4)
    return int(counts[2] + counts[3]), int(counts[1] + counts[3])


def count_changed(before: str, after: str) -> int:
    """Characters that differ position by position, plus any difference in length.

    >>> count_changed("乾隆年間", "乾隆年间")
    1
    """
    if len(before) != len(after) or len(before) < 256:
        return sum(map(operator.ne, before, after)) + abs(len(before) - len(after))
    # Same length (the common case of t2s): compare code points vectorised.
    import numpy as np

    return int(np.count_nonzero(_code_points(before) != _code_points(after)))


@register
class Convert(Stage):
    """Convert Chinese script with an OpenCC profile (default t2s); other text is untouched.

    ``auto`` converts with t2s only the documents detected as traditional.
    """

    name = "convert"
    summary = "traditional → simplified (OpenCC t2s; also tw2s, hk2s, tw2sp, s2t, auto, none)"

    def __init__(self, profile: str = "t2s") -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
        self.profile = profile

    def _converting_profile(self) -> str | None:
        """The profile whose converter runs (t2s for ``auto``), None for ``none``."""
        return None if self.profile == "none" else AUTO_PROFILE if self.profile == "auto" else self.profile

    def warm_up(self) -> None:
        profile = self._converting_profile()
        _screen(profile)  # builds the converter of the profile too
        _class_table()  # counts the script of pages with traditional characters

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        profile = self._converting_profile()
        if profile is not None:
            # Fetched on every document, converted or not, so that the first one of a run loads
            # the tables (before worker processes fork, when the run warms up on one document).
            converter = opencc_fast.converter(profile)
        script, triggered = classify(text, profile)
        rec = doc.record(self.name)
        rec.info["script"] = script
        if profile is None:
            return
        if self.profile == "auto":
            converted = script["detected"] == "traditional"
            rec.info["converted"] = converted
            if not converted:
                return
        if not triggered:
            return  # none of the characters any change needs: the text stays as it is
        new = converter.convert_triggered(text)
        if new != text:
            rec.chars_changed += count_changed(text, new)
            doc.text = new
