"""The HTML audit report of a corpus run: one self-contained page (no network requests).

``cleancorp corpus IN OUT --html`` writes ``OUT/_cleancorp/report.html`` at the end of a run;
``cleancorp report OUT/_cleancorp/report.jsonl -o report.html`` builds it for an earlier run.

The page has three views:

* **Overview** — documents in, kept and dropped by reason, bytes in and out, the encodings
  found, the share of traditional documents converted, per-stage time and characters changed,
  as bar charts (inline SVG).
* **Rules** — each repair fix family, boilerplate rule, dedup rule and drop reason: how often
  it fired, in how many documents, and a sample of what it did (span before → after, removed
  lines), so a rule that fires where it should not stands out.
* **Documents** — every document id in a searchable list; a document opens as an inline diff
  of its input (re-read and decoded from IN) and its output (read from OUT): removed lines
  marked with the rule that removed them, repaired spans marked with their fix, converted
  characters, and for a duplicate a link to the document it duplicates.

How it stays bounded on large runs: ``report.jsonl`` is read as a stream, twice. The first
pass counts everything, keeps the list of ids (compact: id, status and encoding codes) and
chooses which documents get an embedded diff — the first few of every rule, fix, drop reason
and encoding (so each is represented), then the rest by a hash of the id (deterministic, spread
over the run) — at most ``MAX_DIFFS``. The second pass keeps the report lines of those
documents only; their texts are then read from IN and OUT. Each embedded text is cut at
``DIFF_SIDE_CHARS`` characters a side, all diffs together at ``DIFF_BUDGET_BYTES``, all rule
samples at ``SAMPLE_BUDGET_BYTES``, so the page is at most :func:`size_bound`: about 6 MB plus
each document's id and a few bytes, whatever the run's size.

Corpus text never becomes markup: all data goes into one ``<script type="application/json">``
block with ``<``, ``>`` and ``&`` written as ``\\u003c``, ``\\u003e`` and ``\\u0026``, and the
page's script puts it on screen with ``textContent`` only.

>>> _json_for_script({"text": "</script><img src=x onerror=alert(1)>"})
'{"text":"\\\\u003c/script\\\\u003e\\\\u003cimg src=x onerror=alert(1)\\\\u003e"}'
"""
from __future__ import annotations

import base64
import difflib
import hashlib
import heapq
import html
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Iterator

# Limits that bound the page whatever the size of the run (the README states the result).
MAX_DIFFS = 200  # documents with an embedded diff
PER_CATEGORY = 2  # documents with a diff for each rule, fix, drop reason and encoding, at least
DIFF_SIDE_CHARS = 8_000  # characters of input and of output embedded per document
DIFF_BUDGET_BYTES = 4_000_000  # bytes of all embedded diffs together, as written in the page
SAMPLE_BUDGET_BYTES = 1_000_000  # bytes of all rule samples together
FIXED_PART_BYTES = 1_000_000  # the page's markup, style, script and overview tables, at most
PER_DOC_BYTES = 32  # the document list: an id's JSON plus at most this much per document
MAX_DIFF_INPUT_BYTES = 16 * 1024 * 1024  # larger inputs are not re-read for a diff
MAX_RULES = 300  # rows of the rules table
SAMPLES_PER_RULE = 6
SAMPLE_CHARS = 160  # characters of a sample's before, after or removed line
ID_CHARS = 120  # characters of an id in the document list
CHAR_DIFF_MAX = 4_000  # longer changed lines are shown whole, not character by character

MAX_EXTERNAL_DUPS = 1_000  # duplicates of documents outside the run named by id
REPEAT_RULE = re.compile(r"-of-line-\d+$")


class ReportError(Exception):
    """A report that cannot be built (missing or unreadable report file)."""


# -- reading the run ------------------------------------------------------------------------


@dataclass
class RunFiles:
    """Where the run's report, summary, inputs and outputs are."""

    report: str
    summary: str | None = None
    in_root: str | None = None
    out_root: str | None = None
    text_field: str = "text"

    @classmethod
    def locate(cls, report: str, summary: str | None = None, in_root: str | None = None, out_root: str | None = None) -> "RunFiles":
        """The files of a corpus run from its ``OUT/_cleancorp/report.jsonl``: the summary
        beside it, OUT two levels up, IN from the summary (all overridable)."""
        if not os.path.isfile(report):
            what = "a directory, not a report file" if os.path.isdir(report) else "no such report file"
            raise ReportError(f"{report}: {what}")
        state_dir = os.path.dirname(os.path.abspath(report))
        if summary is None:
            guess = os.path.join(state_dir, "summary.json")
            summary = guess if os.path.isfile(guess) else None
        if out_root is None and os.path.basename(state_dir) == "_cleancorp":
            out_root = os.path.dirname(state_dir)
        files = cls(report, summary, in_root, out_root)
        if summary is None and files.in_root is None:
            files.in_root = os.getcwd()  # a `cleancorp --report` file names its inputs as given on the command line
        if summary is not None:
            data = read_summary(summary)
            if files.in_root is None and isinstance(data.get("in_root"), str):
                files.in_root = data["in_root"]
            if isinstance(data.get("text_field"), str):
                files.text_field = data["text_field"]
        return files


def read_summary(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: unreadable summary ({exc})") from None
    if not isinstance(data, dict):
        raise ReportError(f"{path}: not a cleancorp summary")
    return data


def iter_report(path: str) -> Iterator[dict[str, Any]]:
    """The report's lines as dicts, in order; a line that is not a JSON object is skipped."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ReportError(f"{path}: {exc.strerror or exc}") from None
    with fh:
        for raw in fh:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and "id" in line:
                yield line


def _cut(text: Any, limit: int = SAMPLE_CHARS) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def drop_category(reason: str) -> str:
    """A drop reason without its per-document detail, for grouping.

    >>> drop_category("binary input (NUL bytes)"), drop_category("not valid JSON: Expecting value")
    ('binary input', 'not valid JSON')
    """
    return reason.split(" (", 1)[0].split(":", 1)[0].strip() or reason


def _stage(line: dict[str, Any], name: str) -> dict[str, Any]:
    stages = line.get("stages")
    rec = stages.get(name) if isinstance(stages, dict) else None
    return rec if isinstance(rec, dict) else {}


# -- first pass: counts, the document list, the choice of diffs --------------------------------


@dataclass
class RuleTally:
    group: str
    name: str
    fired: int = 0
    docs: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)


FLAG_REPAIRED, FLAG_CONVERTED, FLAG_BOILERPLATE, FLAG_REPEATS = 1, 2, 4, 8


@dataclass
class Scan:
    """What the first pass over the report learns."""

    docs: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    bytes_in: int = 0
    encodings: dict[str, int] = field(default_factory=dict)
    traditional: int = 0
    converted: int = 0
    stage_chars: dict[str, int] = field(default_factory=dict)
    stage_docs: dict[str, int] = field(default_factory=dict)
    stage_lines: dict[str, int] = field(default_factory=dict)
    rules: dict[tuple[str, str], RuleTally] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=lambda: ["kept"])
    enc: list[int] = field(default_factory=list)
    enc_names: list[str] = field(default_factory=lambda: [""])
    flags: list[int] = field(default_factory=list)
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    first_index: dict[str, int] = field(default_factory=dict)
    chosen: set[int] = field(default_factory=set)
    category_picks: dict[str, int] = field(default_factory=dict)
    by_hash: list[tuple[int, int]] = field(default_factory=list)  # max-heap by -hash
    kept_ordinal: dict[int, int] = field(default_factory=dict)  # chosen JSONL doc -> place in its output shard
    shard_kept: dict[str, int] = field(default_factory=dict)
    sample_budget: int = SAMPLE_BUDGET_BYTES


def _code(table: list[str], index: dict[str, int], name: str) -> int:
    code = index.get(name)
    if code is None:
        code = index[name] = len(table)
        table.append(name)
    return code


def scan(path: str, max_diffs: int = MAX_DIFFS, wanted: set[str] | None = None) -> Scan:
    """Pass 1: every counter, the compact document list and the documents to diff."""
    s = Scan()
    status_index = {"kept": 0}
    enc_index = {"": 0}
    wanted = wanted or set()
    category_room = max_diffs - max_diffs // 2  # the first of each category take at most half the diffs
    for line in iter_report(path):
        i = s.docs
        s.docs += 1
        doc_id = str(line.get("id"))
        s.ids.append(doc_id[:ID_CHARS])
        s.first_index.setdefault(doc_id, i)
        kept = bool(line.get("kept", True))
        categories: list[str] = []
        if kept:
            s.kept += 1
            s.status.append(0)
        else:
            reason = str(line.get("drop_reason") or "dropped")
            if line.get("rejected"):
                s.rejected += 1
            category = _cut(drop_category(reason), 80)
            if category not in status_index and len(s.statuses) >= MAX_RULES:
                category = "other"  # the page keeps a bounded table of reasons
            s.dropped[category] = s.dropped.get(category, 0) + 1
            s.status.append(_code(s.statuses, status_index, category))
            categories.append("drop:" + category)
            _tally(s, "drop", category, i, 1, [{"text": _cut(reason)}])
        decode = _stage(line, "decode")
        encoding = str(decode.get("encoding") or "")
        if isinstance(decode.get("bytes"), int):
            s.bytes_in += decode["bytes"]
        if encoding:
            s.encodings[encoding] = s.encodings.get(encoding, 0) + 1
            categories.append("enc:" + encoding)
        if encoding not in enc_index and len(s.enc_names) >= MAX_RULES:
            encoding = "other"
        s.enc.append(_code(s.enc_names, enc_index, encoding))
        flags = 0
        for name, rec in (line.get("stages") or {}).items():
            if not isinstance(rec, dict):
                continue
            chars = rec.get("chars_changed", 0)
            if isinstance(chars, int) and chars:
                s.stage_chars[name] = s.stage_chars.get(name, 0) + chars
                s.stage_docs[name] = s.stage_docs.get(name, 0) + 1
            lines = rec.get("lines_removed", 0)
            if isinstance(lines, int) and lines:
                s.stage_lines[name] = s.stage_lines.get(name, 0) + lines
        repair = _stage(line, "repair")
        fixes = repair.get("fixes") if isinstance(repair.get("fixes"), dict) else {}
        if fixes:
            flags |= FLAG_REPAIRED
            changes = repair.get("changes") if isinstance(repair.get("changes"), list) else []
            for fix, count in fixes.items():
                samples = [
                    {"before": _cut(c.get("before")), "after": _cut(c.get("after")), "detail": _cut(c.get("detail"))}
                    for c in changes
                    if isinstance(c, dict) and c.get("fix") == fix
                ][:SAMPLES_PER_RULE]
                _tally(s, "repair", str(fix), i, count if isinstance(count, int) else 1, samples)
                categories.append("fix:" + str(fix))
        convert = _stage(line, "convert")
        script = convert.get("script") if isinstance(convert.get("script"), dict) else {}
        if script.get("detected") == "traditional":
            s.traditional += 1
            categories.append("traditional")
            if convert.get("chars_changed"):
                s.converted += 1
        if convert.get("chars_changed"):
            flags |= FLAG_CONVERTED
        for stage_name, flag in (("boilerplate", FLAG_BOILERPLATE), ("dedup", FLAG_REPEATS)):
            removed = _stage(line, stage_name).get("removed")
            if not isinstance(removed, list) or not removed:
                continue
            flags |= flag
            per_rule: dict[str, list[dict[str, Any]]] = {}
            for r in removed:
                if isinstance(r, dict):
                    rule = REPEAT_RULE.sub("", str(r.get("rule") or "?"))
                    per_rule.setdefault(rule, []).append(r)
            for rule, items in per_rule.items():
                samples = [{"text": _cut(r.get("text")), "line": r.get("line")} for r in items[:SAMPLES_PER_RULE]]
                _tally(s, stage_name, rule, i, len(items), samples)
                categories.append(f"rule:{stage_name}:{rule}")
        dup = _stage(line, "dedup").get("duplicate_of")
        if dup is not None:
            s.duplicates.append((i, str(dup)))
        s.flags.append(flags)
        shard = str(line.get("input") or "")
        if kept and not line.get("rejected") and _is_jsonl_input(shard):
            # The output shard holds the kept records in input order: this one's place in it.
            s.shard_kept[shard] = s.shard_kept.get(shard, 0) + 1
        _choose(s, i, doc_id, line, categories, max_diffs, category_room, wanted)
    return s


def _is_jsonl_input(rel: str) -> bool:
    name = rel
    for suffix in (".gz", ".bz2", ".xz", ".zst"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.endswith((".jsonl", ".ndjson"))


def _tally(s: Scan, group: str, name: str, doc: int, count: int, samples: list[dict[str, Any]]) -> None:
    key = (group, name)
    tally = s.rules.get(key)
    if tally is None:
        if len(s.rules) >= MAX_RULES:
            return
        tally = s.rules[key] = RuleTally(group, _cut(name, 80))
    tally.fired += count
    tally.docs += 1
    for sample in samples:
        if len(tally.samples) >= SAMPLES_PER_RULE:
            break
        size = len(_json_for_script(sample).encode("utf-8")) + 16
        if size > s.sample_budget:
            break
        s.sample_budget -= size
        tally.samples.append({"doc": doc, **sample})


def _id_hash(doc_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def _choose(s: Scan, i: int, doc_id: str, line: dict[str, Any], categories: list[str], max_diffs: int, category_room: int, wanted: set[str]) -> None:
    """Decide, in one pass, whether document ``i`` may get an embedded diff: as one of the
    first of a category (up to half the diffs), or by a small hash of its id (the rest)."""
    size = _stage(line, "decode").get("bytes")
    if isinstance(size, int) and size > MAX_DIFF_INPUT_BYTES:
        return
    if doc_id in wanted:
        s.chosen.add(i)
        _note_ordinal(s, i, line)
        return
    picked = False
    for c in categories:
        n = s.category_picks.get(c, 0)
        if n < PER_CATEGORY and len(s.chosen) < category_room:
            s.category_picks[c] = n + 1
            picked = True
    if picked:
        s.chosen.add(i)
        _note_ordinal(s, i, line)
        return
    # The others compete by a hash of the id: a deterministic sample spread over the whole run.
    # The heap holds the max_diffs smallest hashes; the end fills what the categories left.
    h = _id_hash(doc_id)
    if len(s.by_hash) < max_diffs:
        heapq.heappush(s.by_hash, (-h, i))
        _note_ordinal(s, i, line)
    elif -s.by_hash[0][0] > h:
        _neg, gone = heapq.heapreplace(s.by_hash, (-h, i))
        s.kept_ordinal.pop(gone, None)
        _note_ordinal(s, i, line)


def _note_ordinal(s: Scan, i: int, line: dict[str, Any]) -> None:
    shard = str(line.get("input") or "")
    if line.get("kept", True) and not line.get("rejected") and _is_jsonl_input(shard):
        s.kept_ordinal[i] = s.shard_kept.get(shard, 0) - 1


def chosen_indices(s: Scan, max_diffs: int = MAX_DIFFS) -> list[int]:
    """The documents that get a diff: every category pick (and ``--doc``), then the smallest
    id hashes up to ``max_diffs``."""
    room = max(0, max_diffs - len(s.chosen))
    by_hash = [i for _neg, i in sorted(s.by_hash, reverse=True)][:room]
    return sorted(s.chosen | set(by_hash))


# -- texts and diffs --------------------------------------------------------------------------


def _fold_converter():
    from .opencc_fast import Converter

    return Converter("t2s")


class Folder:
    """Makes input and output lines comparable: NFKC, no white space, simplified script.

    >>> Folder()("  區域 ，")
    '区域,'
    """

    def __init__(self) -> None:
        self._convert = _fold_converter().convert

    def __call__(self, line: str) -> str:
        line = unicodedata.normalize("NFKC", line)
        return "".join(self._convert(line).split())


def load_input(files: RunFiles, line: dict[str, Any]) -> str | None:
    """The document's input text: its file re-read from IN and decoded as in the run, or its
    JSONL record's text field."""
    from .io import InputError, read_bytes
    from .stages.decode import decode_bytes

    rel = str(line.get("input") or line.get("source") or "")
    if not rel or files.in_root is None:
        return None
    path = os.path.join(files.in_root, rel)
    if not os.path.isfile(path) and os.path.isfile("/" + rel):
        path = "/" + rel  # --files-from with absolute paths records them without the leading /
    if not os.path.isfile(path):
        return None
    if _is_jsonl_input(rel):
        source = str(line.get("source") or "")
        line_no = source.rsplit(":", 1)[-1]
        if not line_no.isdigit():
            return None
        record = _jsonl_record(path, int(line_no))
        value = record.get(files.text_field) if record else None
        return value if isinstance(value, str) else None
    try:
        raw = read_bytes(path)
    except InputError:
        return None
    decode = _stage(line, "decode")
    forced = str(decode.get("encoding") or "") if decode.get("method") == "forced" else ""
    try:
        text, _info = decode_bytes(raw, forced=forced)
    except (ValueError, LookupError):
        text, _info = decode_bytes(raw)
    return text


def _jsonl_record(path: str, line_no: int) -> dict[str, Any] | None:
    """Record ``line_no`` (1-based) of a JSONL shard, compressed or not."""
    from .compression import CompressionError, decompress
    from .io import InputError, read_bytes

    try:
        data = decompress(read_bytes(path))
    except (InputError, CompressionError):
        return None
    for n, raw in enumerate(io.BytesIO(data), 1):
        if n == line_no:
            try:
                obj = json.loads(raw)
            except ValueError:
                return None
            return obj if isinstance(obj, dict) else None
    return None


def load_output(files: RunFiles, line: dict[str, Any], ordinal: int | None) -> str | None:
    """The document's cleaned text in OUT: its mirrored file, or its record in the output shard."""
    if not line.get("kept", True) or files.out_root is None:
        return None
    rel = str(line.get("input") or line.get("source") or "")
    for suffix in (".gz", ".bz2", ".xz", ".zst"):
        if rel.endswith(suffix):
            rel = rel[: -len(suffix)]
    path = os.path.join(files.out_root, rel)
    if not rel or not os.path.isfile(path):
        return None
    if _is_jsonl_input(rel):
        if ordinal is None:
            return None
        with open(path, "rb") as fh:
            for n, raw in enumerate(fh):
                if n == ordinal:
                    try:
                        obj = json.loads(raw)
                    except ValueError:
                        return None
                    value = obj.get(files.text_field) if isinstance(obj, dict) else None
                    return value if isinstance(value, str) else None
        return None
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8", "replace")
    return text[:-1] if text.endswith("\n") else text


def _lines(text: str, limit: int) -> tuple[list[str], bool]:
    truncated = len(text) > limit
    text = text[:limit].replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]  # a file's last newline ends its last line; it is not a blank line
    return text.split("\n"), truncated


@dataclass
class DiffContext:
    """What the report says about one document, used to label the lines and spans of its diff."""

    removed: list[tuple[str, str, str]]  # (folded text, rule, stage)
    changes: list[tuple[str, str, str]]  # (before, after, fix)
    dropped: str = ""  # the drop reason of a dropped document: what removed the rest of its lines


def context_of(line: dict[str, Any], fold: Folder) -> DiffContext:
    removed = []
    for stage_name in ("boilerplate", "dedup"):
        items = _stage(line, stage_name).get("removed")
        for r in items if isinstance(items, list) else []:
            if isinstance(r, dict) and isinstance(r.get("text"), str):
                removed.append((fold(r["text"]), str(r.get("rule") or "?"), stage_name))
    changes = []
    items = _stage(line, "repair").get("changes")
    for c in items if isinstance(items, list) else []:
        if isinstance(c, dict):
            changes.append((str(c.get("before") or ""), str(c.get("after") or ""), str(c.get("fix") or "repair")))
    dropped = "" if line.get("kept", True) else "dropped: " + drop_category(str(line.get("drop_reason") or "dropped"))
    return DiffContext(removed, changes, dropped)


def diff_document(input_text: str, output_text: str, ctx: DiffContext, fold: Folder) -> dict[str, Any]:
    """An inline diff of input and output, as rows the page renders.

    Rows: ``["=", line]`` unchanged; ``["-", line, rule]`` removed (by that rule, "" when no
    rule claims it); ``["+", line]`` only in the output; ``["~", segments]`` changed in place,
    where a segment is unchanged text or ``[before, after, label]`` (a repair fix, ``convert``
    or ``normalize``).

    >>> fold = Folder()
    >>> ctx = DiffContext([(fold("首页 | 新闻"), "nav-menu", "boilerplate")], [("????", "", "artefacts")])
    >>> diff_document("首页 | 新闻\\n????區域經濟", "区域经济", ctx, fold)["rows"]
    [['-', '首页 | 新闻', 'boilerplate: nav-menu'], ['~', [['????', '', 'artefacts'], ['區', '区', 'convert'], '域', ['經濟', '经济', 'convert']]]]
    """
    a, a_cut = _lines(input_text, DIFF_SIDE_CHARS)
    b, b_cut = _lines(output_text, DIFF_SIDE_CHARS)
    fa = [fold(x) for x in a]
    fb = [fold(x) for x in b]
    used: set[int] = set()
    rows: list[list[Any]] = []

    def removed_row(k: int) -> list[Any]:
        return ["-", a[k], _rule_for(fa[k], ctx, used)]

    matcher = difflib.SequenceMatcher(None, fa, fb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k, m in zip(range(i1, i2), range(j1, j2)):
                rows.append(["=", a[k]] if a[k] == b[m] else ["~", _char_diff(a[k], b[m], ctx)])
        elif op == "delete":
            rows.extend(removed_row(k) for k in range(i1, i2))
        elif op == "insert":
            rows.extend(["+", b[m]] for m in range(j1, j2))
        else:
            m = j1
            for k in range(i1, i2):
                # A changed line pairs with a similar output line a little further on.
                match = next(
                    (n for n in range(m, min(j2, m + 4)) if _similar(fa[k], fb[n])),
                    None,
                )
                if match is None:
                    rows.append(removed_row(k))
                    continue
                rows.extend(["+", b[n]] for n in range(m, match))
                rows.append(["~", _char_diff(a[k], b[match], ctx)])
                m = match + 1
            rows.extend(["+", b[n]] for n in range(m, j2))
    return {"rows": rows, "truncated": a_cut or b_cut}


def _similar(x: str, y: str) -> bool:
    if not x or not y:
        return False
    return difflib.SequenceMatcher(None, x, y, autojunk=False).quick_ratio() >= 0.6 and difflib.SequenceMatcher(None, x, y, autojunk=False).ratio() >= 0.5


def _rule_for(folded: str, ctx: DiffContext, used: set[int]) -> str:
    """The rule that removed an input line: the removed line of the report it equals after
    folding, else the one most like it."""
    if not folded:
        return "normalize: blank line"
    best, best_ratio = -1, 0.0
    for n, (text, rule, stage_name) in enumerate(ctx.removed):
        if n in used:
            continue
        if text == folded:
            best, best_ratio = n, 1.0
            break
        ratio = difflib.SequenceMatcher(None, text, folded, autojunk=False).ratio()
        if ratio > best_ratio:
            best, best_ratio = n, ratio
    if best < 0 or best_ratio < 0.75:
        return ctx.dropped
    used.add(best)
    _text, rule, stage_name = ctx.removed[best]
    return f"{stage_name}: {rule}"


def _char_diff(a: str, b: str, ctx: DiffContext) -> list[Any]:
    if len(a) > CHAR_DIFF_MAX or len(b) > CHAR_DIFF_MAX:
        return [[a, b, _label(a, b, ctx)]]
    segments: list[Any] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            segments.append(a[i1:i2])
        else:
            segments.extend(_split_fixes(a[i1:i2], b[j1:j2], ctx))
    return segments


def _split_fixes(before: str, after: str, ctx: DiffContext, depth: int = 0) -> list[list[str]]:
    """A changed span, with a repair's own span split off where the character diff glued it to
    a neighbouring change (``????區`` → ``区`` is an indent removed, then a conversion)."""
    if depth < 8:
        for fix_before, fix_after, fix in ctx.changes:
            if not fix_before or fix_before == before or fix_before not in before:
                continue
            if before.startswith(fix_before) and after.startswith(fix_after):
                return [[fix_before, fix_after, fix]] + _split_fixes(before[len(fix_before) :], after[len(fix_after) :], ctx, depth + 1)
            if before.endswith(fix_before) and after.endswith(fix_after):
                head_after = after[: len(after) - len(fix_after)]
                return _split_fixes(before[: -len(fix_before)], head_after, ctx, depth + 1) + [[fix_before, fix_after, fix]]
    if not before and not after:
        return []
    return [[before, after, _label(before, after, ctx)]]


_FOLD_CONVERT = None


def _label(before: str, after: str, ctx: DiffContext) -> str:
    """Which step made a changed span: the repair fix whose change covers it, else convert
    when the span is the traditional form of the output, else normalize."""
    global _FOLD_CONVERT
    for fix_before, fix_after, fix in ctx.changes:
        if before and (before in fix_before or fix_before in before) and fix_before:
            return fix
        if not before and after and after in fix_after:
            return fix
    if _FOLD_CONVERT is None:
        _FOLD_CONVERT = _fold_converter().convert
    if before and _FOLD_CONVERT(before) == after and before != after:
        return "convert"
    return "normalize"


# -- the page ---------------------------------------------------------------------------------


@dataclass
class BuildStats:
    """How much work a build did: lines read, documents diffed, bytes written."""

    lines: int = 0
    diffs: int = 0
    records_held: int = 0
    diff_bytes: int = 0
    bytes: int = 0


def size_bound(doc_ids: list[str] | None = None, *, docs: int = 0, id_bytes: int = 0) -> int:
    """The most bytes the page can have for a run with these document ids (or ``docs``
    documents whose ids take ``id_bytes`` bytes of JSON together).

    >>> size_bound(docs=100_000, id_bytes=100_000 * 32) / 1e6
    12.4
    """
    if doc_ids is not None:
        docs = len(doc_ids)
        id_bytes = sum(len(_json_for_script(d[:ID_CHARS]).encode("utf-8")) for d in doc_ids)
    return DIFF_BUDGET_BYTES + SAMPLE_BUDGET_BYTES + FIXED_PART_BYTES + id_bytes + PER_DOC_BYTES * docs


def build_data(files: RunFiles, max_diffs: int = MAX_DIFFS, wanted: set[str] | None = None, stats: BuildStats | None = None) -> dict[str, Any]:
    """Everything the page shows, as one JSON-ready dict."""
    stats = stats if stats is not None else BuildStats()
    summary = read_summary(files.summary) if files.summary else {}
    s = scan(files.report, max_diffs, wanted)
    stats.lines = s.docs
    chosen = chosen_indices(s, max_diffs)
    want = set(chosen)
    records: dict[int, dict[str, Any]] = {}
    for i, line in enumerate(iter_report(files.report)):
        if i in want:
            records[i] = line
    stats.records_held = len(records)
    fold = Folder()
    diffs: dict[str, Any] = {}
    budget = DIFF_BUDGET_BYTES
    for i in chosen:
        line = records.get(i)
        if line is None:
            continue
        entry: dict[str, Any] = {"input": _cut(line.get("input") or line.get("source"), 300), "stages": _stage_notes(line)}
        input_text = load_input(files, line) if budget > 0 else None
        if budget <= 0:
            entry["note"] = f"diff not embedded: the page's {DIFF_BUDGET_BYTES:,} bytes of diffs are spent"
        elif input_text is None and line.get("rejected"):
            entry["note"] = "rejected input: " + _cut(line.get("drop_reason"))
        elif input_text is None:
            entry["note"] = "input not found (IN: " + _cut(files.in_root or "unknown", 300) + ")"
        else:
            output_text = load_output(files, line, s.kept_ordinal.get(i))
            full = dict(entry, **diff_document(input_text, output_text or "", context_of(line, fold), fold))
            if output_text is None and line.get("kept", True):
                where = f"not found in OUT ({_cut(files.out_root, 300)})" if files.out_root else "unknown: no OUT given (--out DIR)"
                full["note"] = f"the output is {where}: every line shows as removed"
            size = len(_json_for_script(full).encode("utf-8"))
            if size <= budget:
                entry = full
                stats.diffs += 1
            else:
                entry["note"] = f"diff not embedded: the page's {DIFF_BUDGET_BYTES:,} bytes of diffs are spent"
            budget -= size  # once one does not fit, the budget is closed: later choices do not depend on sizes
        stats.diff_bytes += len(_json_for_script(entry).encode("utf-8"))
        diffs[str(i)] = entry
    dup: list[list[Any]] = []
    external = 0
    for i, target in s.duplicates:
        j = s.first_index.get(target)
        if j is None:
            # A copy of a document from an earlier batch (--dedup-index): named, up to a bound.
            external += 1
            dup.append([i, _cut(target, 60) if external <= MAX_EXTERNAL_DUPS else None])
        else:
            dup.append([i, j])
    stages = summary.get("stages") if isinstance(summary.get("stages"), list) else []
    stage_rows = []
    names = [st.get("stage") for st in stages if isinstance(st, dict)] or list(s.stage_chars)
    by_name = {st.get("stage"): st for st in stages if isinstance(st, dict)}
    for name in names:
        st = by_name.get(name, {})
        stage_rows.append(
            {
                "stage": name,
                "seconds": st.get("seconds", 0),
                "chars_changed": st.get("chars_changed", s.stage_chars.get(name, 0)),
                "docs_changed": st.get("docs_changed", s.stage_docs.get(name, 0)),
                "lines_removed": st.get("lines_removed", s.stage_lines.get(name, 0)),
            }
        )
    rules = sorted(s.rules.values(), key=lambda r: (["repair", "boilerplate", "dedup", "drop"].index(r.group) if r.group in ("repair", "boilerplate", "dedup", "drop") else 9, -r.fired, r.name))
    return {
        "title": "cleancorp report",
        "report": _shown_path(files.report),
        "in_root": _shown_path(files.in_root),
        "out_root": _shown_path(files.out_root),
        "overview": {
            "inputs": summary.get("inputs"),
            "docs_in": s.docs,
            "docs_kept": s.kept,
            "dropped": sorted(s.dropped.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_RULES],
            "rejected": s.rejected,
            "bytes_in": summary.get("bytes_in", s.bytes_in),
            "bytes_out": summary.get("bytes_out"),
            "encodings": sorted(s.encodings.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_RULES],
            "traditional": s.traditional,
            "converted": s.converted,
            "stages": stage_rows,
        },
        "rules": [{"group": r.group, "name": r.name, "fired": r.fired, "docs": r.docs, "samples": r.samples} for r in rules],
        "docs": {
            "ids": s.ids,
            "status": s.status,
            "statuses": s.statuses,
            "enc": s.enc,
            "encodings": s.enc_names,
            "flags": s.flags,
            "dup": dup,
        },
        "diffs": diffs,
        "limits": {"max_diffs": max_diffs, "embedded": stats.diffs, "side_chars": DIFF_SIDE_CHARS},
    }


def _shown_path(path: str | None) -> str | None:
    """A path as the page shows it: relative to the current folder when inside it."""
    if path is None:
        return None
    full = os.path.abspath(path)
    rel = os.path.relpath(full)
    return full if rel.startswith("..") else rel


def _stage_notes(line: dict[str, Any]) -> list[str]:
    """One line per stage of what the report says it did to the document."""
    notes = []
    decode = _stage(line, "decode")
    if decode:
        notes.append(f"decode: {decode.get('encoding', '?')} ({decode.get('method', '?')}), {decode.get('bytes', '?')} bytes, {decode.get('replacements', 0)} replacements")
    repair = _stage(line, "repair")
    if repair.get("fixes"):
        fixes = ", ".join(f"{k} ×{v}" for k, v in repair["fixes"].items())
        notes.append(f"repair: {repair.get('chars_changed', 0)} characters changed ({fixes})")
    convert = _stage(line, "convert")
    script = convert.get("script") or {}
    if convert:
        notes.append(f"convert: {convert.get('chars_changed', 0)} characters changed; script {script.get('detected', '?')} (traditional share {script.get('traditional_share', '?')})")
    for name in ("normalize", "boilerplate", "dedup"):
        rec = _stage(line, name)
        if rec.get("chars_changed") or rec.get("lines_removed"):
            notes.append(f"{name}: {rec.get('chars_changed', 0)} characters changed, {rec.get('lines_removed', 0)} lines removed")
    if not line.get("kept", True):
        notes.append(f"dropped: {line.get('drop_reason')} (by {line.get('dropped_by', '?')})")
    return [_cut(n, 300) for n in notes]


def _json_for_script(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` in it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _asset(name: str) -> str:
    return resources.files("cleancorp").joinpath(f"data/{name}").read_text(encoding="utf-8")


def render(data: dict[str, Any]) -> str:
    """The page: static skeleton, inline CSS and script, and the data block. Its
    Content-Security-Policy runs only the page's own script (by its hash: no inline event
    handler, no other script) and allows no request."""
    run_name = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(data["report"]))))
    title = html.escape(f"cleancorp report — {run_name or data['report']}")
    script = "\n" + _asset("report_page.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "<!DOCTYPE html>\n<html lang=\"zh\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{title}</title>\n<style>\n{_asset('report_page.css')}</style>\n</head>\n<body>\n"
        f"{_asset('report_page.html')}"
        f"<script type=\"application/json\" id=\"report-data\">{_json_for_script(data)}</script>\n"
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def write_report(
    report: str,
    html_path: str,
    *,
    summary: str | None = None,
    in_root: str | None = None,
    out_root: str | None = None,
    max_diffs: int = MAX_DIFFS,
    wanted: set[str] | None = None,
    stats: BuildStats | None = None,
) -> BuildStats:
    """Build the page for ``report`` and write it (atomically) to ``html_path``."""
    from .io import write_atomic

    stats = stats if stats is not None else BuildStats()
    files = RunFiles.locate(report, summary, in_root, out_root)
    page = render(build_data(files, max_diffs, wanted, stats)).encode("utf-8")
    stats.bytes = len(page)
    write_atomic(html_path, page)
    return stats


def main(argv: list[str]) -> int:
    """``cleancorp report REPORT -o HTML``."""
    import argparse
    import sys

    p = argparse.ArgumentParser(
        prog="cleancorp report",
        description=(
            "Write the HTML audit report of a corpus run: overview charts, every rule with samples, "
            "and the searchable documents with diffs of input and output. One self-contained file."
        ),
    )
    p.add_argument("report", metavar="REPORT", help="OUT/_cleancorp/report.jsonl of a run")
    p.add_argument("-o", "--output", metavar="HTML", help="the page to write (default: report.html beside REPORT)")
    p.add_argument("--summary", metavar="FILE", help="the run's summary.json (default: beside REPORT)")
    p.add_argument("--in", dest="in_root", metavar="DIR", help="the run's IN, to re-read inputs (default: from the summary)")
    p.add_argument("--out", dest="out_root", metavar="DIR", help="the run's OUT, to read outputs (default: REPORT's OUT)")
    p.add_argument("--max-diffs", type=int, default=MAX_DIFFS, metavar="N", help=f"documents with an embedded diff (default {MAX_DIFFS})")
    p.add_argument("--doc", action="append", default=[], metavar="ID", help="always embed the diff of this document (repeatable)")
    args = p.parse_args(argv)
    if args.max_diffs < 0:
        print("cleancorp: --max-diffs wants a number ≥ 0", file=sys.stderr)
        return 2
    target = args.output or os.path.join(os.path.dirname(os.path.abspath(args.report)), "report.html")
    try:
        stats = write_report(
            args.report, target, summary=args.summary, in_root=args.in_root, out_root=args.out_root,
            max_diffs=args.max_diffs, wanted=set(args.doc),
        )
    except ReportError as exc:
        print(f"cleancorp: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cleancorp: {exc.filename or target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"cleancorp: wrote {target} ({stats.lines:,} documents, {stats.diffs} diffs, {stats.bytes / 1e3:,.0f} KB)", file=sys.stderr)
    return 0
