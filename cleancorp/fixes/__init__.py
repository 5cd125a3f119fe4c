"""The repairs the repair stage applies to a line, one module per family of damage.

Every fix is a function ``fix_xxx(line, record=None) -> str`` that returns the line unchanged
when it finds nothing to do (each starts with a cheap precheck of its own), and records every
change it makes with ``record.change(family, before, after, detail)``. The repair stage
(``cleancorp/stages/repair.py``) runs them in a fixed order; each can be switched off by the
stage option of the same name.
"""
from __future__ import annotations

import re
try:  # the regex module's own parser (3.11+); without it first characters are found by a scan
    import re._constants
    import re._parser
except ImportError:  # pragma: no cover - a Python whose re module is laid out otherwise
    pass
from bisect import bisect_right
from functools import lru_cache

#: How a fix says what a line must contain for it to act: alternatives, each a single-character
#: regex (a literal or a ``[...]`` class) followed by the rest of the alternative.
PrecheckParts = tuple[tuple[str, str], ...]


def precheck_pattern(parts: PrecheckParts) -> str:
    """The plain regex for a fix's precheck: its alternatives, one after the other.

    >>> precheck_pattern((("&", "(?:#|[a-z]+;)"), ("[?？]", "")))
    '&(?:#|[a-z]+;)|[?？]'
    """
    return "|".join(first + rest for first, rest in parts)


def fast_precheck(parts: PrecheckParts) -> re.Pattern[str]:
    """One regex matching where any of ``parts`` matches, written so that it scans fast.

    An alternation whose branches start with character classes is tried branch by branch at
    every position of the text. Led instead by ONE class of all first characters, the regex
    engine skips in C to the next candidate character and only there decides what follows.
    The first characters are sorted into groups by what may follow them (the rests of all
    parts they start); an atomic group picks the one group the character is in (a look-behind
    per group up to it, the groups of common punctuation first), and a conditional then tries
    that group's rests alone. A stop at a ``“`` before Chinese text so costs one look-behind and
    one character test instead of a look-behind per part. Same matches as the plain alternation.

    >>> rx = fast_precheck((("&", "(?:#|[a-z]+;)"), ("[?？]", "")))
    >>> rx.pattern
    '[&?？](?>(?<=[?？])(?P<g0>)|(?<=[&])(?P<g1>))(?(g0)|(?:#|[a-z]+;))'
    >>> [m.group() for m in rx.finditer("a&amp;b&c？")]
    ['&amp;', '？']
    """
    return _grouped_precheck(parts, by_parts=False)[0]


def part_finder(parts: PrecheckParts) -> tuple[re.Pattern[str], dict[str, frozenset[int]]]:
    """Every place where one of ``parts`` may match, and which ones: a regex built like
    ``fast_precheck``'s that matches the first character only (so that ``finditer`` also finds
    the places inside another part's match), and for the name of each group (a match's
    ``lastgroup``) the indices of the parts its characters start. A place matches exactly
    where ``fast_precheck(parts)`` would start a match; the parts named with it include every
    part that matches there (and may name one whose rest does not).

    >>> rx, starts = part_finder((("&", "(?:#|[a-z]+;)"), ("[?？]", ""), ("\\\\?", "x")))
    >>> [(m.start(), sorted(starts[m.lastgroup])) for m in rx.finditer("a&amp;b?x&c？")]
    [(1, [0]), (7, [1, 2]), (11, [1])]
    """
    return _grouped_precheck(parts, by_parts=True)


@lru_cache(maxsize=256)
def _grouped_precheck(parts: PrecheckParts, by_parts: bool) -> tuple[re.Pattern[str], dict[str, frozenset[int]]]:
    """The regex of ``fast_precheck`` (``by_parts`` False) or of ``part_finder`` (True: one
    group per set of parts a character starts, and rests that only look ahead)."""
    if not parts:
        return re.compile("(?!)"), {}
    firsts = [_first_ranges(first) for first, _ in parts]
    for _, rest in parts:
        if re.compile(rest).groups:
            raise ValueError(f"precheck part must not capture a group: {rest!r}")
    # Cut the code points at every end of every part's first-character ranges: within a piece,
    # every character starts the same parts.
    cuts = sorted({lo for ranges in firsts for lo, _ in ranges} | {hi + 1 for ranges in firsts for _, hi in ranges})
    groups: dict[tuple, tuple[tuple[str, ...], list[tuple[int, int]], set[int]]] = {}
    # Each part's ranges, merged and sorted, as the starts and ends bisect looks a piece up in.
    bounds = []
    for ranges in firsts:
        merged: list[list[int]] = []
        for a, b in sorted(ranges):
            if merged and a <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        bounds.append(([a for a, _ in merged], [b for _, b in merged]))
    for lo, next_lo in zip(cuts, cuts[1:]):
        starts = []
        for i, (los, his) in enumerate(bounds):
            k = bisect_right(los, lo) - 1
            if k >= 0 and lo <= his[k]:
                starts.append(i)
        if not starts:
            continue
        rests: list[str] = []
        for i in starts:
            if parts[i][1] not in rests:
                rests.append(parts[i][1])
        # The rests are tried in the parts' order, as the plain alternation would (the match
        # ends where it would); none is tried after one that needs nothing.
        key_rests = tuple(rests[: rests.index("") + 1]) if "" in rests else tuple(rests)
        key = (key_rests, tuple(starts)) if by_parts else key_rests
        groups.setdefault(key, (key_rests, [], set()))
        groups[key][1].append((lo, next_lo - 1))
        groups[key][2].update(starts)
    ordered = sorted(groups.values(), key=lambda group: _stop_rank(group[1]))
    lead = _lead_class(sorted(r for ranges in firsts for r in ranges))
    pick = "|".join(f"(?<=[{_class_text(ranges)}])(?P<g{i}>)" for i, (_, ranges, _) in enumerate(ordered))
    tail = ""
    for i in range(len(ordered) - 1, -1, -1):
        rests = ordered[i][0]
        body = rests[0] if len(rests) == 1 else "(?:" + "|".join(rests) + ")"
        if by_parts:
            # Only where the match starts counts: a rest that needs nothing is left out, the
            # others only look ahead.
            body = "" if "" in rests else f"(?={body})"
        # The last group needs no test: the atomic group picked one of them.
        tail = body if i == len(ordered) - 1 else f"(?(g{i}){body}|{tail})"
    return re.compile(f"{lead}(?>{pick}){tail}"), {f"g{i}": frozenset(group[2]) for i, group in enumerate(ordered)}


def _lead_class(ranges: list[tuple[int, int]]) -> str:
    """A ``[...]`` class of the characters in ``ranges``, written as the engine tests it fastest.

    The engine tests a character against a table for the BMP and then, one by one, against
    every range beyond it. A class that reaches beyond the BMP (the private-use planes) is
    written as NOT its complement: nearly every character of a text is in the complement's
    table, and that answer needs no range test at all.

    >>> lead = _lead_class([(0x3F, 0x3F), (0xF0000, 0x10FFFF)]); lead[:2]
    '[^'
    >>> [bool(re.match(lead, char)) for char in "?a\\U000F0000"]
    [True, False, True]
    """
    if max(hi for _, hi in ranges) <= 0xFFFF:
        return f"[{_class_text(ranges)}]"
    complement = []
    next_lo = 0
    for lo, hi in ranges:
        if lo > next_lo:
            complement.append((next_lo, lo - 1))
        next_lo = max(next_lo, hi + 1)
    if next_lo <= 0x10FFFF:
        complement.append((next_lo, 0x10FFFF))
    return f"[^{_class_text(complement)}]"


#: The characters the lead class stops at most often in clean text, most frequent first: the
#: groups that hold them are picked first.
COMMON_STOPS = "“”？（…·—©‘’"


def _stop_rank(ranges: list[tuple[int, int]]) -> int:
    ranks = [i for i, char in enumerate(COMMON_STOPS) if any(lo <= ord(char) <= hi for lo, hi in ranges)]
    return min(ranks) if ranks else len(COMMON_STOPS) + ranges[0][0]


def _first_ranges(first: str) -> list[tuple[int, int]]:
    """The code point ranges a part's first character (a literal or a plain ``[...]`` class) can be in."""
    if first.startswith("[") and (not first.endswith("]") or first.startswith("[^")):
        raise ValueError(f"precheck part must start with a plain character class: {first!r}")
    if not hasattr(re, "_parser"):
        return _first_ranges_by_scan(first)
    parsed = list(re._parser.parse(first))  # the regex module's own reading of the class
    if len(parsed) != 1:
        raise ValueError(f"precheck part must start with a single character: {first!r}")
    op, arg = parsed[0]
    items = arg if op is re._constants.IN else [(op, arg)]
    ranges = []
    for item_op, item_arg in items:
        if item_op is re._constants.LITERAL:
            ranges.append((item_arg, item_arg))
        elif item_op is re._constants.RANGE:
            ranges.append(item_arg)
        else:
            raise ValueError(f"precheck part must start with literals and ranges only: {first!r}")
    return ranges


def _first_ranges_by_scan(first: str) -> list[tuple[int, int]]:
    """``_first_ranges`` without the regex parser: every code point ``first`` matches, found by
    scanning all of them (a few tenths of a second, once).

    >>> _first_ranges_by_scan("[a-cx]")
    [(97, 99), (120, 120)]
    """
    rx = re.compile(first)
    ranges: list[tuple[int, int]] = []
    for base in range(0, 0x110000, 0x10000):
        chunk = "".join(map(chr, range(base, base + 0x10000)))
        for m in rx.finditer(chunk):
            code = base + m.start()
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return ranges


def _class_text(ranges: list[tuple[int, int]]) -> str:
    """The inside of a ``[...]`` class for code point ranges."""
    def char(c: int) -> str:
        return "\\" + chr(c) if chr(c) in "\\]^-[" else chr(c)

    return "".join(char(lo) if lo == hi else f"{char(lo)}-{char(hi)}" for lo, hi in ranges)


class Budget:
    """Work a fix may still do on one line (candidates compared, search steps). Every fix that
    searches draws from one, sized in proportion to the line, so a line of pathological input
    costs linear time: when it is spent the fix keeps what it has (or leaves the rest as is).

    >>> b = Budget(2); b.left -= 1; b.left
    1
    """

    def __init__(self, amount: int) -> None:
        self.left = amount
