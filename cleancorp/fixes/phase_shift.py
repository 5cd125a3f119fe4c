"""Family 4, phase shift: double-byte text decoded one byte out of step after a lost lead byte.

When the lead byte of a GBK or Big5 character is lost (or replaced by `?`), the decoder pairs
every trail byte with the next lead byte and prints a run of rare characters until a byte that
cannot start a pair resyncs it: an ASCII byte, or an impossible pair that comes out as U+FFFD.

    >>> b = "新闻发布会上,".encode("gbk")
    >>> (b"?" + b[1:]).decode("gbk", "replace")
    '?挛欧⒉蓟嵘\\ufffd,'

The run still holds every byte but a few: the lost lead byte (where the `?` is) and the trail
byte the decoder gave up on (the U+FFFD, or an ASCII letter when a Big5 trail byte falls in the
ASCII range). Browsers go on out of step after an impossible pair, printing one U+FFFD for both
of its bytes, so there a run goes on through U+FFFDs up to the next ASCII byte; both readings
are tried. This fix re-encodes the run, puts it back in step, tries every value for each
missing byte (for a browser's U+FFFD, every pair of values the decoder rejects), and keeps the
values whose characters the character model likes best in their context; a character that lost
both bytes is left out. The repaired span replaces the garbled one only when the model scores
it clearly better than the garble (``MARGIN`` nats per character), so a real `?` before
ordinary text stays. Of several accepted readings, the one that leaves the least garble wins.

Pages are often NFKC-folded after the damage, so a garbled `！` may now read `!` and `⒄` read
`(17)`: a further reading maps such ASCII back to the double-byte character it came from.

>>> fix_phase_shift("会议指出?挛欧⒉蓟嵘\\ufffd,宣布了决定。")
'会议指出新闻发布会上,宣布了决定。'
"""
from __future__ import annotations

from .. import charmodel

from ..chars import HAN

import re
import unicodedata
from functools import lru_cache
from typing import Iterator, NamedTuple

from ..document import StageRecord
from . import PrecheckParts, fast_precheck

FIX_NAME = "phase_shift"

#: Codecs whose text can slip out of phase, tried in order; the better-scoring repair wins.
CODECS = ("gbk", "big5")
#: How much better (mean natural-log probability per character) a repair must score.
MARGIN = 2.0
#: The lowest mean score a repair may have at all (ordinary text scores well above it).
FLOOR = -9.0
#: The longest garbled run looked at (real runs end at the first ASCII byte or impossible pair,
#: mostly within a few characters); keeps the work per marker bounded.
MAX_RUN = 200
#: The same for the browser reading, where a run goes on through U+FFFDs to the next ASCII byte
#: (a whole paragraph of Chinese text can be one run); runs from `?` markers never overlap.
MAX_LONG_RUN = 5000
#: Where a lost lead byte shows: any U+FFFD, or `?` before a non-ASCII character (or before an
#: ASCII-range Big5 trail byte and a non-ASCII character).
PRECHECK_PARTS: PrecheckParts = (("\ufffd", ""), ("\\?", "(?=[^\\x00-\\x7f]|[\\x40-\\x7e][^\\x00-\\x7f])"))
PRECHECK = fast_precheck(PRECHECK_PARTS)
# A marker that can start a run: `?` or U+FFFD before a character that could be garble.
_START = re.compile("\\?(?=[^\\x00-\\x7f]|[\\x40-\\x7e])|\ufffd(?=[^\\x00-\\x7f\ufffd]|[\\x40-\\x7e])")
_FOLDED_RUN = re.compile("[^\\x00-\\x20\\x7f\ufffd]*")
# The body of a run: non-ASCII characters up to the first U+FFFD (a regex scans it fast).
_NON_ASCII_RUN = re.compile("[^\\x00-\\x7f\ufffd]*")
_MARKS = re.compile("[?\ufffd]")
_LEAD_BYTES = tuple(range(0x81, 0xFF))
_HIGH_BYTES = tuple(range(0x80, 0xFF))
_HAN = re.compile(f"[{HAN}]")
# ASCII that NFKC folding made from a full-width character (U+FF01–FF5E).
_FOLDABLE = frozenset(chr(c) for c in range(0x21, 0x7F))


_model = charmodel.load  # read once per process, on first use


class Run(NamedTuple):
    """A garbled span: ``line[start:end]`` (marker included); the characters between the marker
    and the end token as they are to be re-encoded (a U+FFFD inside stands for two lost bytes);
    the end token (U+FFFD for one lost byte, or an ASCII-range Big5 trail byte); and whether
    folded ASCII was mapped back to get the body."""

    start: int
    end: int
    body: str
    tail: str
    folded: bool


def find_runs(line: str, start: int, lossy: bool = True) -> Iterator[Run]:
    """The readings of the garbled run after the marker at ``line[start]``: one that stops at the
    first ASCII character, and (when different) one that reads ASCII punctuation as folded
    full-width garble and stops at U+FFFD. ``lossy=False`` says the line has no U+FFFD, so
    only a run ended by an ASCII-range trail byte is possible.

    >>> [tuple(r) for r in find_runs("?挛欧⒉蓟嵘\\ufffd,", 0)]
    [(0, 7, '挛欧⒉蓟嵘', '\\ufffd', False)]
    >>> [r.body for r in find_runs("?挛欧!蓟嵘希\\ufffd记者", 0)]
    ['挛欧！蓟嵘希']
    """
    n = min(len(line), start + 1 + MAX_RUN)
    j = _NON_ASCII_RUN.match(line, start + 1, n).end()
    body = line[start + 1 : j]
    if j < n and line[j] == "\ufffd":
        if body:  # a lone `?` + U+FFFD lost both bytes of one character: nothing to repair
            yield Run(start, j + 1, body, "\ufffd", False)
        if line[start] == "?":
            yield from _long_run(line, start, j)
            yield from _long_folded_runs(line, start)
        return
    if j < n and 0x40 <= ord(line[j]) <= 0x7E:
        yield Run(start, j + 1, body, line[j], False)
    if not lossy:
        return
    if line[start] == "?":
        yield from _long_folded_runs(line, start)
    if j < n and line[j] in _FOLDABLE:
        k = line.find("\ufffd", j, n)
        if k > 0 and _FOLDED_RUN.fullmatch(line, j, k):
            unfolded = "".join(chr(ord(c) + 0xFEE0) if c in _FOLDABLE else c for c in line[start + 1 : k])
            yield Run(start, k + 1, unfolded, "\ufffd", True)


def _long_run(line: str, start: int, j: int) -> Iterator[Run]:
    """The run read the way browsers decode: an impossible pair becomes one U+FFFD for both of
    its bytes and the decoder stays out of step, so the run goes on through U+FFFDs up to the
    first ASCII byte (the last U+FFFD before it stands for one byte).

    >>> [tuple(r) for r in find_runs("?荒辏\ufffd\ufffd艚粑\ufffd.", 0)][-1]
    (0, 8, '荒辏\ufffd\ufffd艚粑', '\ufffd', False)
    """
    n = min(len(line), start + 1 + MAX_LONG_RUN)
    k = j
    while k < n and ord(line[k]) >= 0x80:
        k += 1
    region = line[start + 1 : k]
    if k == j + 1 and line[j] == "\ufffd":
        return  # no U+FFFD inside the run: the first reading covers it
    if region.endswith("\ufffd") and (k == len(line) or ord(line[k]) < 0x80):
        yield Run(start, k, region[:-1], "\ufffd", False)
    elif k < len(line) and 0x40 <= ord(line[k]) <= 0x7E:
        yield Run(start, k + 1, region, line[k], False)


@lru_cache(maxsize=1)
def _unfold_table() -> tuple[dict[str, str], int]:
    """ASCII text that NFKC makes of a double-byte character → that character (`(4)` → `⑷`,
    `!` → `！`), over GBK and Big5, and the longest such text."""
    table: dict[str, str] = {}
    for codec in CODECS:
        for lead in range(0x81, 0xFF):
            for trail in range(0x40, 0xFF):
                ch = _decode(bytes([lead, trail]), codec)
                if ch is None or len(ch) != 1:
                    continue
                folded = unicodedata.normalize("NFKC", ch)
                # `?` is left out: it starts a run of its own, so scans from two `?` never overlap.
                if folded != ch and folded.isascii() and folded.strip() == folded and folded and "?" not in folded:
                    # Prefer the full-width form of a single ASCII character (U+FF01–FF5E).
                    if folded not in table or 0xFF01 <= ord(ch) <= 0xFF5E:
                        table[folded] = ch
    return table, max(map(len, table))


def _long_folded_runs(line: str, start: int) -> Iterator[Run]:
    """The browser reading of a run in a page NFKC-folded afterwards: garbled characters may now
    read as ASCII (`⒄` as `(17)`, `！` as `!`); they are mapped back, and the run may end at any
    U+FFFD followed by ASCII (up to three such ends are offered).

    >>> [r.body for r in _long_folded_runs("?笆\ufffd晃濉(17)沟\ufffd,", 0)]
    ['笆\ufffd晃濉⒄沟']
    """
    table, longest = _unfold_table()
    limit = min(len(line), start + 1 + MAX_LONG_RUN)
    body: list[str] = []
    k = start + 1
    folds = ends = 0
    while k < limit:
        ch = line[k]
        if ord(ch) >= 0x80:
            body.append(ch)
            k += 1
            if ch == "\ufffd" and (k == len(line) or ord(line[k]) < 0x80) and folds:
                yield Run(start, k, "".join(body[:-1]), "\ufffd", True)
                ends += 1
                if ends == 3:
                    return
            continue
        for size in range(min(longest, limit - k), 0, -1):
            original = table.get(line[k : k + size])
            if original is not None:
                break
        else:
            return
        body.append(original)
        folds += 1
        k += size


def _decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


class Repair(NamedTuple):
    text: str
    codec: str
    score: float


def _fit(model, before: str, ch: str, after: str) -> float:
    """How well ``ch`` fits between its neighbours: log P(ch | before) + log P(after | ch),
    with unigram backoff where a neighbour is not a Han character."""
    ch_han = bool(_HAN.match(ch))
    if ch_han and before and _HAN.match(before):
        score = model.pair_logp(before, ch)
    else:
        score = model.logp(ch)
    if after and ord(after) >= 0x80:
        score += model.pair_logp(ch, after) if ch_han else model.logp(after)
    return score


@lru_cache(maxsize=4096)
def _pairs_with(codec: str, known: int, known_is_lead: bool, allowed: tuple[int, ...] | None) -> tuple[str, ...]:
    """Every character of ``codec`` whose lead (or trail) byte is ``known``: the candidates for
    a character one of whose bytes was lost. ``allowed`` limits the lost byte's values."""
    out = []
    for byte in allowed if allowed is not None else range(0x40, 0xFF):
        data = bytes([known, byte]) if known_is_lead else bytes([byte, known])
        ch = _decode(data, codec)
        if ch is not None and len(ch) == 1 and ord(ch) >= 0x80:
            out.append(ch)
    return tuple(out)


@lru_cache(maxsize=1024)
def _lost_trails(codec: str, following: int) -> tuple[int, ...]:
    """The values a byte shown as U+FFFD can have: not ASCII, and (when the next byte is known)
    no valid pair with it, since the decoder would otherwise have paired them."""
    return tuple(
        t for t in range(0x80, 0xFF) if following < 0 or _decode(bytes([t, following]), codec) is None
    )


@lru_cache(maxsize=8)
def _rejected_pairs(codec: str) -> dict[int, tuple[int, ...]]:
    """Byte pairs (first ≥ 0x81, second ≥ 0x80) that ``codec`` cannot decode, by first byte:
    what a browser shows as one U+FFFD while it reads out of step."""
    table: dict[int, tuple[int, ...]] = {}
    for first in range(0x81, 0xFF):
        seconds = tuple(b for b in range(0x80, 0x100) if _decode(bytes([first, b]), codec) is None)
        if seconds:
            table[first] = seconds
    return table


@lru_cache(maxsize=4096)
def _with_bytes(codec: str, known: int, known_is_lead: bool) -> tuple[tuple[int, str], ...]:
    """(missing byte, character) for every character of ``codec`` with ``known`` as its lead
    (or trail) byte and a missing byte ≥ 0x81."""
    out = []
    for byte in range(0x81, 0xFF):
        data = bytes([known, byte]) if known_is_lead else bytes([byte, known])
        ch = _decode(data, codec)
        if ch is not None and len(ch) == 1 and ord(ch) >= 0x80:
            out.append((byte, ch))
    return tuple(out)


def _best_rejected_pair(model, codec: str, lead: int, trail: int, before: str, after: str) -> str | None:
    """Two characters ``(lead, ?)`` and ``(?, trail)`` whose missing bytes form a pair the decoder
    rejects (it printed one U+FFFD for them): the best-scoring such two, or None."""
    key = ("pair", id(model), codec, lead, trail, before, after)
    if key in _cache:
        return _cache[key]
    rejected = _rejected_pairs(codec)
    seconds = {byte: ch for byte, ch in _with_bytes(codec, trail, False)}
    best, best_score = None, float("-inf")
    for t, a in _with_bytes(codec, lead, True):
        options = [seconds[b] for b in rejected.get(t, ()) if b in seconds]
        if not options:
            continue
        left = _fit(model, before, a, "")
        for b in options:
            score = left + _fit(model, a, b, after)
            if score > best_score:
                best, best_score = a + b, score
    if len(_cache) > 65536:
        _cache.clear()
    _cache[key] = best
    return best


_cache: dict[tuple, str | None] = {}


def _best_char(model, candidates: tuple[str, ...], before: str, after: str) -> str | None:
    """The candidate that fits best between its neighbours (memoised: garbled pages repeat)."""
    key = (id(model), candidates, before, after)
    if key in _cache:
        return _cache[key]
    best, best_score = None, float("-inf")
    for ch in candidates:
        score = _fit(model, before, ch, after)
        if score > best_score:
            best, best_score = ch, score
    if len(_cache) > 65536:
        _cache.clear()
    _cache[key] = best
    return best


def repair_run(run: Run, codec: str, before: str, after: str, model) -> str | None:
    """Put one run back in step in ``codec``: the repaired text, or None when the run cannot be
    text of that codec.

    ``before``/``after`` are the characters around the run (for choosing the missing bytes);
    ``after`` must be the first character after the run as it appears in the line.
    """
    if "\ufffd" in run.body:
        return _repair_tokens(run, codec, before, after, model)
    try:
        body = run.body.encode(codec)
    except UnicodeEncodeError:
        return None
    if len(body) != 2 * len(run.body):
        return None
    if run.tail == "\ufffd":
        following = -1
        if after and ord(after) >= 0x80:
            try:
                following = after.encode(codec)[0]
            except UnicodeEncodeError:
                pass
        tails: tuple[int, ...] | None = _lost_trails(codec, following)
    else:
        tails = (ord(run.tail),)
    if not body:
        if tails is None or len(tails) != 1:
            return None
        return _best_char(model, _pairs_with(codec, tails[0], False, _LEAD_BYTES), before, after)
    middle = _decode(body[1:-1], codec) if len(body) > 2 else ""
    if middle is None:
        return None
    first = _best_char(model, _pairs_with(codec, body[0], False, _LEAD_BYTES), before, middle[:1] or after)
    if first is None:
        return None
    last = _best_char(model, _pairs_with(codec, body[-1], True, tails), (middle or first)[-1], after)
    if last is None:
        return None
    return first + middle + last


def _repair_tokens(run: Run, codec: str, before: str, after: str, model) -> str | None:
    """``repair_run`` for a run with U+FFFDs inside (each two lost bytes): rebuild the byte
    stream with holes, pair it in step, and fill each character's one missing byte with the
    best candidate; a character that lost both bytes is left out.

    Here two U+FFFDs in a row took all of `要` (four bytes lost, one whole character):

    >>> fix_phase_shift("新的?荒辏\ufffd\ufffd艚粑\ufffd频澈凸\ufffd夜ぷ鞔缶郑\ufffd")
    '新的一年，紧紧围绕党和国家工作大局，'
    """
    data: list[int | None] = [None]
    for ch in run.body:
        if ch == "\ufffd":
            data += [None, None]
            continue
        try:
            enc = ch.encode(codec)
        except UnicodeEncodeError:
            return None
        if len(enc) != 2:
            return None
        data += enc
    data.append(None if run.tail == "\ufffd" else ord(run.tail))
    if len(data) % 2:
        return None
    out: list[str] = []
    count = len(data) // 2
    i = 0
    while i < count:
        lead, trail = data[2 * i], data[2 * i + 1]
        if lead is not None and trail is not None:
            # A stretch of whole characters: decode it in one go.
            k = i
            while k < count and data[2 * k] is not None and data[2 * k + 1] is not None:
                k += 1
            text = _decode(bytes(data[2 * i : 2 * k]), codec)
            if text is None:
                return None
            out.append(text)
            i = k
            continue
        if lead is None and trail is None:
            i += 1  # both bytes lost: nothing to choose from
            continue
        prev = out[-1][-1] if out and out[-1] else before
        if trail is None and i + 1 < count and data[2 * i + 2] is None and data[2 * i + 3] is not None:
            # One U+FFFD for an impossible pair: this character's trail byte and the next one's
            # lead byte. Choose both at once, among the byte pairs the decoder rejects.
            after_pair = data[2 * i + 4 : 2 * i + 6]
            if len(after_pair) == 2 and None not in after_pair:
                nxt = _decode(bytes(after_pair), codec) or ""
            else:
                nxt = after if i + 2 >= count else ""
            pair = _best_rejected_pair(model, codec, lead, data[2 * i + 3], prev, nxt)
            if pair is None:
                return None
            out.append(pair)
            i += 2
            continue
        if i + 1 < count and data[2 * i + 2] is not None and data[2 * i + 3] is not None:
            nxt = _decode(bytes(data[2 * i + 2 : 2 * i + 4]), codec) or ""
        elif i + 1 < count:
            nxt = ""
        else:
            nxt = after
        if lead is None:
            cands = _pairs_with(codec, trail, False, _LEAD_BYTES)
        else:
            # A lost trail byte printed U+FFFD, so it was not in the ASCII range.
            cands = _pairs_with(codec, lead, True, _HIGH_BYTES)
        ch = _best_char(model, cands, prev, nxt)
        if ch is None:
            return None
        out.append(ch)
        i += 1
    return "".join(out)


def _looks_like_question(line: str, pos: int) -> bool:
    from .artefacts import is_question

    return is_question(line, pos)


def fix_phase_shift(line: str, record: StageRecord | None = None) -> str:
    """Repair runs of characters decoded one byte out of phase after a lost lead byte.

    >>> b = "新聞發佈會上，記者表示。".encode("big5")
    >>> garbled = "會議?" + (b[1:]).decode("big5", "replace")
    >>> garbled
    '會議?s聞發佈會上，記者表示。'
    >>> fix_phase_shift(garbled)
    '會議新聞發佈會上，記者表示。'
    >>> fix_phase_shift("何以如此神速高效?这得益于江北区公安分局。")
    '何以如此神速高效?这得益于江北区公安分局。'
    """
    if not PRECHECK.search(line):
        return line
    model = _model()
    out: list[str] = []
    pos = 0
    lossy = "\ufffd" in line
    for m in _START.finditer(line):
        s = m.start()
        if s < pos:
            continue
        before = line[s - 1] if s > 0 else ""
        best = _best_repair(line, s, before, model, lossy)
        if best is None:
            continue
        new, run, text, codec, old = best
        out.append(line[pos:s])
        out.append(text)
        if record is not None:
            record.change(FIX_NAME, line[s : run.end], text, detail=f"{codec}: score {new:.2f} vs {old:.2f}")
        pos = run.end
    if not out:
        return line
    out.append(line[pos:])
    return "".join(out)


def _best_repair(line: str, s: int, before: str, model, lossy: bool) -> tuple[float, Run, str, str, float] | None:
    """The best accepted repair of the run after the marker at ``line[s]``, or None.

    The readings of a run end at different places; each accepted one is scored over the same
    window (up to the end of the longest), with the text it leaves alone as it stands, so a
    short reading that leaves garble behind loses to a long one that repairs it.
    """
    n = len(line)
    found: list[tuple[float, Run, str, str, float]] = []
    for run in find_runs(line, s, lossy):
        after = line[run.end] if run.end < n else ""
        garbled = line[s : run.end]
        has_han = bool(_HAN.search(garbled))
        best = _repair_in_context(before, garbled, run, after, has_han, model)
        if best is None:
            continue
        if not has_han and line[s] == "?" and _looks_like_question(line, s):
            # `?` and a letter after a question reads as a question and a Latin word too; only
            # a punctuation mark (Big5 row A1 has ASCII-range trail bytes) is taken then.
            if _HAN.search(best[1]):
                continue
        found.append((best[0], run, best[1], best[2], best[3]))
    if len(found) < 2:
        return found[0] if found else None
    end = max(f[1].end for f in found)
    tail = line[end : end + 1]

    def window_score(f: tuple[float, Run, str, str, float]) -> float:
        return model.score(before + f[2] + line[f[1].end : end] + tail)

    return max(found, key=window_score)


_decisions: dict[tuple, tuple[float, str, str, float] | None] = {}


def _repair_in_context(before: str, garbled: str, run: Run, after: str, has_han: bool, model):
    """Score every codec's repair of one run against the garble: (score, text, codec, garble's
    score) of the best accepted one. Memoised, so a page that repeats a garble pays once."""
    key = (id(model), before, garbled, run.body, run.tail, after)
    if key in _decisions:
        return _decisions[key]
    best = None
    old = None
    for codec in CODECS:
        text = repair_run(run, codec, before, after, model)
        if not text:
            continue
        new = model.score(before + text + after)
        if new < FLOOR:
            continue
        if old is None:
            old = model.score(before + _MARKS.sub("", garbled) + after) if has_han else 0.0
        if has_han and new - old < MARGIN:
            continue
        if best is None or new > best[0]:
            best = (new, text, codec, old)
    if len(_decisions) > 65536:
        _decisions.clear()
    _decisions[key] = best
    return best
