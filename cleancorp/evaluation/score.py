"""Scoring cleaned text against the answer: character error rate, exact recovery, which labelled
lines survive, and duplicate decisions.

>>> cer("全会由区委常委会主持。", "全会由区委常委会主持。")
0.0
>>> cer("全会由区委常委会主持", "全会由区委常委会主持。")
0.0909
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

_SPACES = re.compile(r"\s+")
# A space only separates words when both neighbours are ASCII letters or digits; next to Han
# characters or punctuation it is layout, and cleaners may fairly keep or drop it.
_LAYOUT_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")


def fold(text: str) -> str:
    """The form texts are compared in: NFKC, whitespace runs to one space between ASCII words
    and to nothing elsewhere, empty lines dropped.

    >>> fold("　全会， 主持 All  Rights。 \\r\\n\\n  第二段  ")
    '全会,主持All Rights。\\n第二段'
    """
    out = []
    for line in unicodedata.normalize("NFKC", text).splitlines():
        line = _LAYOUT_SPACE.sub("", _SPACES.sub(" ", line).strip())
        if line:
            out.append(line)
    return "\n".join(out)


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), bit-parallel over the shorter
    string after trimming the common prefix and suffix: O(len(a) · len(b) / word) time.

    >>> levenshtein("区委常委会", "區(qū)委常委會")
    6
    >>> levenshtein("", "abc"), levenshtein("kitten", "sitting")
    (3, 3)
    """
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    # Myers' algorithm: one bit per character of the shorter string, Python ints as bit vectors.
    peq: dict[str, int] = {}
    for i, ch in enumerate(b):
        peq[ch] = peq.get(ch, 0) | (1 << i)
    mask = (1 << m) - 1
    top = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for ch in a:
        eq = peq.get(ch, 0)
        xv = eq | mv
        xh = ((((eq & pv) + pv) & mask) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


def cer(output: str, answer: str) -> float:
    """Character error rate of ``output``: edit distance to ``answer`` after :func:`fold`, over
    the answer's length, capped at 1 (a page of mojibake counts as all wrong, not more), rounded
    to 4 places."""
    out, ans = fold(output), fold(answer)
    if not ans:
        return 0.0 if not out else 1.0
    return round(min(1.0, levenshtein(out, ans) / len(ans)), 4)


def near(a: str, b: str, tolerance: float = 0.2) -> bool:
    """True when two folded lines differ by at most ``tolerance`` of the longer one's length."""
    longest = max(len(a), len(b))
    if abs(len(a) - len(b)) > tolerance * longest:
        return False
    return levenshtein(a, b) <= tolerance * longest


def line_outcomes(lines: list[tuple[str, str]], output: str) -> dict[str, int]:
    """Match the labelled lines of a page to the lines of its cleaned ``output``: exactly after
    folding first, then lines within 20 % edits, each output line used once. Returns how many
    lines of each label there were and how many survived.

    >>> line_outcomes([("chrome", "首页 | 新闻"), ("content", "全会由区委常委会主持。"),
    ...                ("repeat", "全会由区委常委会主持。")], "全会由区委常委会主持")
    {'content': 1, 'content_kept': 1, 'chrome': 1, 'chrome_kept': 0, 'repeat': 1, 'repeat_kept': 0}
    """
    out_lines = fold(output).split("\n") if fold(output) else []
    pool = Counter(out_lines)
    order = {"content": 0, "repeat": 1, "chrome": 2}
    labelled = sorted(((order.get(label, 3), label, fold(text)) for label, text in lines), key=lambda x: x[0])
    counts: dict[str, int] = {}
    unmatched = []
    for _, label, text in labelled:
        counts[label] = counts.get(label, 0) + 1
        counts.setdefault(label + "_kept", 0)
        if pool[text] > 0:
            pool[text] -= 1
            counts[label + "_kept"] += 1
        else:
            unmatched.append((label, text))
    rest = list(pool.elements())
    for label, text in unmatched:
        for k, candidate in enumerate(rest):
            if near(text, candidate):
                counts[label + "_kept"] += 1
                del rest[k]
                break
    return {k: counts[k] for k in ("content", "content_kept", "chrome", "chrome_kept", "repeat", "repeat_kept") if k in counts}


def ratio(num: float, den: float) -> float | None:
    """``num / den`` rounded to 4 places, None when there is nothing to divide by."""
    return round(num / den, 4) if den else None


def summarise(docs: list[dict]) -> dict:
    """Family-level numbers from per-document results (as made by ``evaluate_document``).

    >>> summarise([{"cer": 0.0, "exact": True, "lines": {"content": 2, "content_kept": 2,
    ...   "chrome": 3, "chrome_kept": 1}, "true_dup": False, "dropped_dup": False, "dup_correct": False},
    ...   {"cer": 0.5, "exact": False, "lines": {"content": 2, "content_kept": 1}, "true_dup": False,
    ...   "dropped_dup": False, "dup_correct": False}])["cer"]
    0.25
    """
    scored = [d for d in docs if not d["true_dup"]]
    lines: Counter = Counter()
    for d in scored:
        lines.update(d["lines"])
    noise = lines["chrome"] + lines["repeat"]
    noise_kept = lines["chrome_kept"] + lines["repeat_kept"]
    dropped = [d for d in docs if d["dropped_dup"]]
    true_dups = [d for d in docs if d["true_dup"]]
    return {
        "docs": len(docs),
        "cer": round(sum(d["cer"] for d in scored) / len(scored), 4) if scored else None,
        "exact": ratio(sum(d["exact"] for d in scored), len(scored)),
        "content_kept": ratio(lines["content_kept"], lines["content"]),
        "chrome_removed": ratio(noise - noise_kept, noise),
        "dup_precision": ratio(sum(d["dup_correct"] for d in dropped), len(dropped)),
        "dup_recall": ratio(sum(d["dup_correct"] for d in true_dups), len(true_dups)),
    }
