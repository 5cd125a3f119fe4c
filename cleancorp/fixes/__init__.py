"""The repairs the repair stage applies to a line, one module per family of damage.

Every fix is a function ``fix_xxx(line, record=None) -> str`` that returns the line unchanged
when it finds nothing to do (each starts with a cheap precheck of its own), and records every
change it makes with ``record.change(family, before, after, detail)``. The repair stage
(``cleancorp/stages/repair.py``) runs them in a fixed order; each can be switched off by the
stage option of the same name.
"""
from __future__ import annotations

import re

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
    engine skips in C to the next candidate character and only there checks the branches (each
    re-checks its own first character with a look-behind). Same matches, several times faster.

    >>> rx = fast_precheck((("&", "(?:#|[a-z]+;)"), ("[?？]", "")))
    >>> rx.pattern
    '[&?？](?:(?<=&)(?:#|[a-z]+;)|(?<=[?？]))'
    >>> [m.group() for m in rx.finditer("a&amp;b&c？")]
    ['&amp;', '？']
    """
    if not parts:
        return re.compile("(?!)")
    firsts = []
    for first, _ in parts:
        if first.startswith("["):
            if not first.endswith("]") or first.startswith("[^"):
                raise ValueError(f"precheck part must start with a plain character class: {first!r}")
            firsts.append(first[1:-1])
        else:
            firsts.append(first)
    branches = "|".join(f"(?<={first}){rest}" for first, rest in parts)
    return re.compile(f"[{''.join(firsts)}](?:{branches})")


class Budget:
    """Work a fix may still do on one line (candidates compared, search steps). Every fix that
    searches draws from one, sized in proportion to the line, so a line of pathological input
    costs linear time: when it is spent the fix keeps what it has (or leaves the rest as is).

    >>> b = Budget(2); b.left -= 1; b.left
    1
    """

    def __init__(self, amount: int) -> None:
        self.left = amount
