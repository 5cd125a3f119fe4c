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
are tried. This fix re-encodes the run, puts it back in step, and chooses all missing bytes at
once (for a browser's U+FFFD, only pairs of values the decoder rejects): the reading the
character model likes best over the whole run, a Viterbi search over the characters with lost
bytes. A character that lost both bytes is chosen the same way, among the frequent ones the
rejected pairs around it allow. The repaired span replaces the garbled one only when the model scores
it clearly better than the garble (``MARGIN`` nats per character), so a real `?` before
ordinary text stays. Of several accepted readings, the one that leaves the least garble wins.

Pages are often NFKC-folded after the damage, so a garbled `！` may now read `!` and `⒄` read
`(17)`: a further reading maps such ASCII back to the double-byte character it came from.

>>> fix_phase_shift("会议指出?挛欧⒉蓟嵘\\ufffd,宣布了决定。")
'会议指出新闻发布会上,宣布了决定。'
"""
from __future__ import annotations

from .. import charmodel
from ..charmodel import LINE_END

from ..chars import HAN

import math
import operator
import re
import unicodedata
from functools import lru_cache
from typing import Iterator, NamedTuple

from ..document import StageRecord
from . import Budget, PrecheckParts, fast_precheck

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
# In a line without U+FFFD, the only run there can be: `?`, non-ASCII characters, and an
# ASCII-range trail byte ending them within MAX_RUN (see ``find_runs``). The run is taken whole
# (possessive): a shorter one is followed by a non-ASCII character, never by such a byte, so
# giving characters back one by one could not succeed.
_LOSSLESS_RUN = re.compile(f"\\?(?=[^\\x00-\\x7f\ufffd]{{0,{MAX_RUN - 1}}}+[\\x40-\\x7e])")
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
    # An ASCII-range byte after the run may be the trail byte of the last character, the
    # U+FFFD before it a rejected pair: both readings are offered.
    if k < len(line) and 0x40 <= ord(line[k]) <= 0x7E:
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


#: Candidates kept for a character that lost both bytes, the most frequent first: it could be
#: any of thousands, and a rare one would not win between its neighbours anyway.
MAX_BOTH_LOST = 300
#: Best partial readings kept after each character with lost bytes (a beam): enough that the
#: right one survives, few enough that a long run costs a bounded amount per character.
BEAM = 64
#: Candidate pairs compared for one line, in all: at least this many, or so many per character
#: of the line (bounded work on pathological lines; runs beyond it are left as they are).
STEP_BUDGET = 400_000
STEPS_PER_CHAR = 60
_ANY_LEAD = tuple(range(0x81, 0xFF))


class Option(NamedTuple):
    """One reading of a character with lost bytes (or of a stretch of whole characters):
    its text and, for a character, its lead and trail byte."""

    text: str
    lead: int
    trail: int


def _decode(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


@lru_cache(maxsize=1024)
def _lost_trails(codec: str, following: int) -> tuple[int, ...]:
    """The values a single byte shown as U+FFFD can have: not ASCII, and (when the next byte is
    known) no valid pair with it, since the decoder would otherwise have paired them.

    >>> 0xAF in _lost_trails("gbk", 0xD3), 0xB0 in _lost_trails("gbk", 0xD3)
    (True, False)
    """
    return tuple(
        t for t in range(0x80, 0xFF) if following < 0 or _decode(bytes([t, following]), codec) is None
    )


@lru_cache(maxsize=8)
def _rejected_pairs(codec: str) -> dict[int, frozenset[int]]:
    """Byte pairs (first ≥ 0x81, second ≥ 0x80) that ``codec`` cannot decode, by first byte:
    what a browser shows as one U+FFFD while it reads out of step.

    >>> 0xD3 in _rejected_pairs("gbk")[0xAF], 0xD3 in _rejected_pairs("gbk")[0xB0]
    (True, False)
    """
    table: dict[int, frozenset[int]] = {}
    for first in range(0x81, 0xFF):
        seconds = frozenset(b for b in range(0x80, 0x100) if _decode(bytes([first, b]), codec) is None)
        if seconds:
            table[first] = seconds
    return table


@lru_cache(maxsize=8192)
def _options(codec: str, lead: int | None, trail: int | None, trails: tuple[int, ...] = _ANY_LEAD) -> tuple[Option, ...]:
    """Every character of ``codec`` with the known lead and/or trail byte (None: lost; a lost
    lead is any lead byte, a lost trail one of ``trails``), the most frequent first.

    >>> [o.text for o in _options("gbk", None, 0xA3)][:3]
    ['。', '保', '常']
    """
    model = _model()
    out = []
    for lo in _ANY_LEAD if lead is None else (lead,):
        for tr in trails if trail is None else (trail,):
            ch = _decode(bytes((lo, tr)), codec)
            if ch is not None and len(ch) == 1 and ord(ch) >= 0x80 and not "\ue000" <= ch <= "\uf8ff":
                out.append(Option(ch, lo, tr))
    out.sort(key=lambda o: -model.logp(o.text))
    return tuple(out)


def _step(model, a: str, b: str) -> float:
    """log P(b | a) for choosing ``b`` after ``a`` (unigram when ``a`` is not scored; the
    floor for a ``b`` the model has no opinion about, so that no path prefers such a one)."""
    if not charmodel.is_scored(b):
        return model.floor
    if a and charmodel.is_scored(a):
        return model.pair_logp(a, b)
    return model.logp(b)


def _steps_to(model, lasts: list[str], scored: bool, b: str) -> list[float]:
    """``[_step(model, a, b) for a in lasts]``; ``scored``: whether the model scores every
    one of ``lasts`` (then their pairs with ``b`` are looked up all at once).

    >>> m = _model()
    >>> _steps_to(m, ["重", "", "a"], False, "庆") == [_step(m, a, "庆") for a in ("重", "", "a")]
    True
    >>> _steps_to(m, ["重", "日"], True, "庆") == [_step(m, a, "庆") for a in ("重", "日")]
    True
    """
    if not charmodel.is_scored(b):
        return [model.floor] * len(lasts)
    if not scored or not hasattr(model, "pair_logps"):
        return [_step(model, a, b) for a in lasts]
    return model.pair_logps(lasts, b)


def rebuild(data: list[int | None], pairs: frozenset[int], tail_trails: tuple[int, ...], codec: str,
            before: str, after: str, model, budget: Budget) -> str | None:
    """Read the bytes ``data`` in step, as characters of ``codec``, choosing every lost byte
    (None) at once: the reading the character model likes best between ``before`` and
    ``after`` (a Viterbi search over the characters with lost bytes).

    ``pairs`` holds the characters ``k`` whose trail byte and the next character's lead byte
    were one pair the decoder rejected (one U+FFFD while out of step); ``tail_trails`` the
    values a lost last byte can have. A character that lost both bytes is chosen too, among
    the frequent ones those constraints allow. None when the bytes cannot be ``codec`` text.

    `深化与发展` in GBK, the lead byte of `化` lost: the decoder, out of step, rejected the pair
    of `化`'s trail byte and `与`'s lead byte (one U+FFFD), so `化` lost both bytes:

    >>> m = _model()
    >>> rebuild([None, None, None, 0xEB, 0xB7, 0xA2], frozenset({0}), (), "gbk", "深", "展", m, Budget(10**6))
    '化与发'
    >>> rebuild([None, 0xAF, 0xD3], frozenset(), (), "gbk", "深", "", m, Budget(10**6)) is None  # odd
    True
    """
    if len(data) % 2 or all(b is None for b in data):
        return None
    count = len(data) // 2
    layers: list[tuple[int, tuple[Option, ...]]] = []  # (character index, options)
    k = 0
    while k < count:
        lead, trail = data[2 * k], data[2 * k + 1]
        if lead is not None and trail is not None:
            j = k
            while j < count and data[2 * j] is not None and data[2 * j + 1] is not None:
                j += 1
            text = _decode(bytes(data[2 * k : 2 * j]), codec)  # type: ignore[arg-type]
            if text is None or len(text) != j - k:
                return None
            layers.append((k, (Option(text, -1, -1),)))
            k = j
            continue
        trails = tail_trails if trail is None and k == count - 1 and k not in pairs else _ANY_LEAD
        options = _options(codec, lead, trail, trails)
        if not options:
            return None
        layers.append((k, options))
        k += 1
    rejected = _rejected_pairs(codec)
    # Keep only options that can meet a neighbour across a rejected pair (forward, then
    # backward): the beam below then never keeps a reading that dead-ends next door.
    for order in (range(1, len(layers)), range(len(layers) - 2, -1, -1)):
        for i in order:
            k, options = layers[i]
            if order.step == 1:
                pk, prev = layers[i - 1]
                if pk + 1 != k or pk not in pairs:
                    continue
                fits = set().union(*(rejected.get(o.trail, ()) for o in prev))
                kept = tuple(o for o in options if o.lead in fits)
            else:
                nk, nxt = layers[i + 1]
                if k + 1 != nk or k not in pairs:
                    continue
                leads = {o.lead for o in nxt}
                kept = tuple(o for o in options if not leads.isdisjoint(rejected.get(o.trail, ())))
            if not kept:
                return None
            layers[i] = (k, kept)
    # A character that lost both bytes: the most frequent of those that fit.
    layers = [(k, options[:MAX_BOTH_LOST]) for k, options in layers]
    # Viterbi over the layers, a beam of the best partial readings after each.
    beam: list[tuple[float, int, Option]] = [(0.0, -1, Option(before, -1, -1))]
    history: list[list[tuple[float, int, Option]]] = []
    prev_k = -2
    for k, options in layers:
        constrained = prev_k + 1 == k and prev_k in pairs
        best: dict[int, tuple[float, int]] = {}
        if constrained:
            by_lead: dict[int, list[int]] = {}
            for ib, o in enumerate(options):
                by_lead.setdefault(o.lead, []).append(ib)
            steps = 0
            for ia, (score, _, a) in enumerate(beam):
                last = a.text[-1:]
                for lo in rejected.get(a.trail, ()):
                    for ib in by_lead.get(lo, ()):
                        steps += 1
                        s = score + _step(model, last, options[ib].text[0])
                        if ib not in best or s > best[ib][0]:
                            best[ib] = (s, ia)
        else:
            steps = len(beam) * len(options)
            scores = [score for score, _, _ in beam]
            lasts = [a.text[-1:] for _, _, a in beam]
            scored = all(last and charmodel.is_scored(last) for last in lasts)
            positions = range(len(beam))
            for ib, o in enumerate(options):
                # max((score + _step(model, last, first), ia)) over the beam, the steps of one
                # option worked out together (the same sums, compared the same way).
                s, ia = max(zip(map(operator.add, scores, _steps_to(model, lasts, scored, o.text[0])), positions))
                best[ib] = (s, ia)
        budget.left -= steps
        if not best or budget.left < 0:
            return None
        history.append(beam)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])[:BEAM]
        beam = [(s, ia, options[ib]) for ib, (s, ia) in ranked]
        prev_k = k if len(options) > 1 or options[0].lead >= 0 else -2
    def closing(option: Option) -> float:
        # How well the reading meets what follows the run: the next character, or the end
        # of the paragraph.
        last = option.text[-1]
        if not after:
            return model.pair_logp(last, LINE_END) if charmodel.is_scored(last) else 0.0
        return _step(model, last, after) if charmodel.is_scored(after) else 0.0

    final = max(range(len(beam)), key=lambda i: beam[i][0] + closing(beam[i][2]))
    out: list[str] = []
    i = final
    for layer in reversed(history + [beam]):
        score, back, option = layer[i]
        out.append(option.text)
        i = back
    return "".join(reversed(out[:-1]))


def repair_run(run: Run, codec: str, before: str, after: str, model, budget: Budget | None = None) -> str | None:
    """Put one run back in step in ``codec``: the repaired text, or None when the run cannot be
    text of that codec.

    ``before``/``after`` are the characters around the run (for choosing the missing bytes);
    ``after`` must be the first character after the run as it appears in the line. Each
    U+FFFD inside the body stands for a pair of bytes the decoder rejected (the trail byte of
    one character and the lead byte of the next); a character that lost both bytes is chosen
    by its neighbours too. Here two U+FFFDs in a row took all of `，`:

    >>> fix_phase_shift("新的一年?\ufffd\ufffd艚粑\ufffd频澈凸\ufffd夜ぷ鞔缶郑\ufffd忧拷ㄉ琛\ufffd")
    '新的一年，要紧紧围绕党和国家工作大局，加强建设。'
    """
    data: list[int | None] = [None]  # the lead byte lost to the marker
    pairs: set[int] = set()
    for ch in run.body:
        if ch == "\ufffd":
            pairs.add((len(data) - 1) // 2)
            data += [None, None]
            continue
        try:
            enc = ch.encode(codec)
        except UnicodeEncodeError:
            return None
        if len(enc) != 2:
            return None
        data += enc
    tail_trails: tuple[int, ...] = ()
    if run.tail == "\ufffd":
        data.append(None)
        following = -1
        if after:
            try:
                following = after.encode(codec)[0]
            except UnicodeEncodeError:
                pass
        tail_trails = _lost_trails(codec, following)
    else:
        data.append(ord(run.tail))
    if budget is None:
        budget = Budget(STEP_BUDGET)
    return rebuild(data, frozenset(pairs), tail_trails, codec, before, after, model, budget)


def _looks_like_question(line: str, pos: int) -> bool:
    from .artefacts import is_question

    return is_question(line, pos)


def may_act_on(text: str) -> bool:
    """Whether ``fix_phase_shift`` may change any line of ``text`` (lines split at ``\\n``):
    False when the text has no U+FFFD and no `?` before a run that an ASCII-range trail byte
    ends, which is the first thing the fix asks of each line (such a run never crosses a line
    break). One scan of a page instead of one per line that has a `?` in it.

    >>> may_act_on("????全会由区委常委会主持。\\n????会议指出"), may_act_on("全会\\n会议指出?挛欧G")
    (False, True)
    """
    return "\ufffd" in text or _LOSSLESS_RUN.search(text) is not None


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
    lossy = "\ufffd" in line
    if not lossy and not _LOSSLESS_RUN.search(line):
        return line  # no run can end: a `?` before text that no ASCII-range trail byte ends
    model = _model()
    budget = Budget(max(STEP_BUDGET, STEPS_PER_CHAR * len(line)))
    out: list[str] = []
    pos = 0
    for m in _START.finditer(line):
        s = m.start()
        if s < pos:
            continue
        before = line[s - 1] if s > 0 else ""
        best = _best_repair(line, s, before, model, lossy, budget)
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


def _best_repair(line: str, s: int, before: str, model, lossy: bool, budget: Budget) -> tuple[float, Run, str, str, float] | None:
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
        best = _repair_in_context(before, garbled, run, after, has_han, model, budget)
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


_pair_ceilings: dict[int, float] = {}


def _pair_ceiling(model) -> float:
    """The highest log P(b | a) the model gives any pair (0 for counts where no pair outnumbers
    its first character; computed once per model, on the first line that needs it: a few
    hundredths of a second that a run without such lines never spends)."""
    key = id(model)
    if key not in _pair_ceilings:
        ratio = max((n / model.chars.get(pair[0], n) for pair, n in model.pairs.items()), default=1.0)
        _pair_ceilings[key] = max(0.0, math.log(charmodel.PAIR_WEIGHT * max(ratio, 1.0) + 1 - charmodel.PAIR_WEIGHT))
    return _pair_ceilings[key]


def warm_up() -> None:
    """Compute now what the fix otherwise computes on the first line that needs it."""
    _pair_ceiling(_model())


def _score_ceiling(run: Run, codec: str, before: str, after: str, model) -> tuple[float, int, int] | None:
    """For a run whose only lost byte is the marker's (no U+FFFD in it, a trail byte from the
    ASCII range at its end: the form a `?` before clean text takes), the highest score any
    repair in ``codec`` could get, and the search steps ``rebuild`` would spend on it (on its
    first character, then on the rest). Every character but the first is fixed by the bytes;
    the first, and the pair it starts, are counted at the best score the model gives anything.
    (-inf, 0, 0) when the run cannot be ``codec`` text; None when the run is not of this form.

    >>> m = _model()
    >>> _score_ceiling(Run(0, 5, "指出新", "Q", False), "gbk", "", "", m)[0] < -9
    True
    """
    if run.tail == "\ufffd" or "\ufffd" in run.body or not run.tail.isascii():
        return None
    try:
        data = run.body.encode(codec)
    except UnicodeEncodeError:
        return (float("-inf"), 0, 0)
    if len(data) != 2 * len(run.body):
        return (float("-inf"), 0, 0)
    data += run.tail.encode("ascii")
    options = _options(codec, None, data[0], _ANY_LEAD)[:MAX_BOTH_LOST]
    rest = _decode(data[1:], codec) if len(data) > 2 else ""
    if not options or rest is None or len(rest) != len(run.body):
        return (float("-inf"), 0, 0)
    # The characters of the repair after the first, and what follows the run: their scores
    # are fixed, but for the one right after the first character, which pairs with it.
    fixed = rest + after
    terms = model.char_logps(fixed)
    if fixed and charmodel.is_scored(fixed[0]):
        terms[0] = _pair_ceiling(model)
    known = model.char_logps(before) + terms
    # The first character scored at the best a character can score, or not scored at all.
    ceiling = max((sum(known) + _pair_ceiling(model)) / (len(known) + 1), sum(known) / len(known) if known else 0.0)
    return ceiling, len(options), min(BEAM, len(options)) if rest else 0


_decisions: dict[tuple, tuple[float, str, str, float] | None] = {}


def _repair_in_context(before: str, garbled: str, run: Run, after: str, has_han: bool, model, budget: Budget):
    """Score every codec's repair of one run against the garble: (score, text, codec, garble's
    score) of the best accepted one. Memoised, so a page that repeats a garble pays once."""
    key = (id(model), before, garbled, run.body, run.tail, after)
    if key in _decisions:
        return _decisions[key]
    best = None
    old = None
    for codec in CODECS:
        ceiling = _score_ceiling(run, codec, before, after, model)
        if ceiling is not None:
            if ceiling[0] == float("-inf"):
                continue  # not text of this codec: the search would stop before it begins
            if old is None:
                old = model.score(before + _MARKS.sub("", garbled) + after) if has_han else 0.0
            if ceiling[0] < FLOOR or has_han and ceiling[0] - old < MARGIN:
                # No choice of the lost byte can make this reading pass: skip the search, but
                # draw what it would have drawn from the line's budget.
                budget.left -= ceiling[1]
                if budget.left >= 0:
                    budget.left -= ceiling[2]
                continue
        text = repair_run(run, codec, before, after, model, budget)
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
