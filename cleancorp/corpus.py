"""`cleancorp corpus IN OUT`: clean a whole tree in parallel, resumably, with a report.

How a run works:

* Inputs are the files under IN (or listed by ``--files-from``, or matched by a glob), taken in
  a stable order: sorted by their relative path (Unicode code-point order of the POSIX form).
  That order decides which copy of a duplicate is kept, whatever ``-j`` is.
* ``-j`` worker processes take one input file per task and run on its documents everything
  that looks at one document at a time: the per-document stages (decode, repair, convert,
  normalize), then the per-document halves of the corpus-level stages (``prepare``):
  boilerplate's rules and page layout, and the page's line-statistics candidates (8-byte
  hashes of its short head and tail lines); dedup's repeats inside the page, and the MinHash
  sketch and LSH keys of what is left (computed for the file's documents together). A worker
  holds only the stage tables; no state of the run.
* The main process takes the files' results in input order and runs the ordered halves
  (``decide``), which need the documents before: it counts the candidates in the
  line-statistics sketch and offers the fingerprints to the dedup index, and holds that state
  (the 8 MiB sketch, the index). A document these decisions leave as the worker left it (most
  of them) is written from the report line and output bytes the worker made; one they change
  is finished here: a duplicate is dropped; when the statistics remove a line the worker kept,
  the line goes and dedup's half runs again on the new text. So the result is the one of the
  stages run one after the other (``cleancorp`` as a filter) and identical for every ``-j``.
  A chain whose corpus-level part is not boilerplate and dedup runs that part whole in the
  main process.
* OUT mirrors IN: a kept text document goes to the same relative path (a compression suffix
  such as ``.gz`` is dropped: the output is plain UTF-8); a JSONL shard becomes a cleaned shard
  of the same name holding its kept records; a dropped document writes nothing. Every file is
  written under a temporary name and renamed into place.
* ``OUT/_cleancorp/report.jsonl`` has one line per document (input path, encoding, per-stage
  changes, drop reason, ``duplicate_of``); ``OUT/_cleancorp/summary.json`` the totals.
* Resumable: after every few finished inputs the run writes a checkpoint (the state of the
  corpus-level stages, counters, and how much of the report and the manifest of finished
  inputs it covers). A run started again with the same command restores the last checkpoint,
  cuts the report and manifest back to it, and goes on from there; the inputs finished after
  the checkpoint are cleaned again and give the same bytes, so the final OUT equals the one of an
  uninterrupted run.
* ``--engine dask`` runs the same stages as tasks of a Dask cluster and writes the same OUT
  (see :mod:`cleancorp.engines.dask_engine`).
"""
from __future__ import annotations

import argparse
import fnmatch
import glob
import hashlib
import json
import multiprocessing
import os
import pickle
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator

from .document import Document
from .io import InputError, document_from_record, iter_jsonl, jsonl_line, read_bytes, write_atomic
from .pipeline import BATCH_BYTES, BATCH_DOCS, Pipeline, StageStats, _decode_plain, batched, document_weight, stage_enter, stage_leave
from .registry import OptionError

STATE_DIR = "_cleancorp"
CHECKPOINT_VERSION = 1
_COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")
_JSONL_SUFFIXES = (".jsonl", ".ndjson")


class CorpusError(Exception):
    """A problem with the run as a whole (bad IN/OUT, a checkpoint from other options)."""


# -- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One input file: where it is, its path relative to IN, and whether it is JSONL."""

    path: str
    rel: str
    jsonl: bool

    @property
    def output_rel(self) -> str:
        rel = self.rel
        for suffix in _COMPRESSED_SUFFIXES:
            if rel.endswith(suffix):
                return rel[: -len(suffix)]
        return rel


def _is_jsonl(rel: str) -> bool:
    name = rel
    for suffix in _COMPRESSED_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name.endswith(_JSONL_SUFFIXES)


def discover(source: str, out_dir: str, files_from: str | None = None, include: str = "*") -> list[Unit]:
    """The inputs of a run, in the documented stable order."""
    out_real = os.path.realpath(out_dir)
    units: list[Unit] = []
    if files_from is not None:
        stream = sys.stdin if files_from == "-" else open(files_from, encoding="utf-8")
        try:
            paths = [line.rstrip("\n") for line in stream if line.strip()]
        finally:
            if stream is not sys.stdin:
                stream.close()
        base = source or os.getcwd()
        for p in paths:
            full = p if os.path.isabs(p) else os.path.join(base, p)
            rel = os.path.relpath(full, base) if not os.path.isabs(p) else p.lstrip("/")
            if rel.startswith(".."):
                rel = os.path.basename(full)
            units.append(Unit(full, rel.replace(os.sep, "/"), _is_jsonl(rel)))
    elif os.path.isdir(source):
        root = os.path.realpath(source)
        if out_real == root or out_real.startswith(root + os.sep):
            raise CorpusError(f"OUT {out_dir} is inside IN {source}: choose another OUT")
        for dirpath, dirnames, filenames in os.walk(source):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and os.path.realpath(os.path.join(dirpath, d)) != out_real]
            for name in filenames:
                if name.startswith(".") or not fnmatch.fnmatch(name, include):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, source).replace(os.sep, "/")
                units.append(Unit(full, rel, _is_jsonl(rel)))
    elif any(ch in source for ch in "*?["):
        base = _glob_base(source)
        for full in glob.glob(source, recursive=True):
            if os.path.isfile(full):
                rel = os.path.relpath(full, base).replace(os.sep, "/")
                units.append(Unit(full, rel, _is_jsonl(rel)))
    elif os.path.isfile(source):
        rel = os.path.basename(source)
        units.append(Unit(source, rel, _is_jsonl(rel)))
    else:
        raise CorpusError(f"IN {source}: no such file, directory or matching glob")
    for u in units:
        if os.path.realpath(u.path).startswith(out_real + os.sep):
            raise CorpusError(f"input {u.path} is inside OUT {out_dir}")
    units.sort(key=lambda u: u.rel)
    seen: set[str] = set()
    for u in units:
        if u.output_rel in seen:
            raise CorpusError(f"two inputs would be written to {u.output_rel}")
        seen.add(u.output_rel)
    return units


def _glob_base(pattern: str) -> str:
    parts = pattern.split(os.sep)
    base: list[str] = []
    for part in parts:
        if any(ch in part for ch in "*?["):
            break
        base.append(part)
    return os.sep.join(base) or "."


# -- worker side ----------------------------------------------------------------------------


@dataclass
class UnitResult:
    """What a worker sends back for one input: its documents after the per-document stages
    (``docs``; or, when the corpus-level stages are split, ``prepared``: each document after
    their per-document halves too), the errors met while reading it, and the per-stage
    counters of that work."""

    unit: Unit
    docs: list[Document] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (doc id / location, reason)
    stats: list[StageStats] = field(default_factory=list)
    bytes_in: int = 0
    prepared: list["Prepared"] | None = None


class Prepared:
    """One document after the per-document work of a worker: every per-document stage, then
    the per-document halves of the corpus-level stages (``Boilerplate.prepare``: rules and
    layout; ``Dedup.prepare``: repeats inside the page, then its MinHash fingerprint). What the
    ordered half in the main process needs travels beside it: the page's line-statistics
    candidates (``lines``), its ``fingerprint``, the text the boilerplate half left when dedup
    changed it afterwards (``bp_text``: the line statistics may still remove a line from it),
    and, from a worker process, the document's report line and output bytes as they are if
    the ordered half changes nothing (the common case: the main process then only writes
    them; a duplicate's report line is derived from the first, see :func:`duplicate_line`).
    The document itself crosses, as one pickled
    blob, only when the main process may have to finish it: when the line statistics may
    remove one of its lines, or when the worker could not write its report (a dropped or
    empty document)."""

    __slots__ = ("_doc", "_blob", "doc_id", "lines", "fingerprint", "bp_text", "report", "output")

    def __init__(self, doc: Document) -> None:
        self._doc: Document | None = doc
        self._blob: bytes | None = None
        self.doc_id = doc.id
        self.lines: Any = None
        self.fingerprint: Any = None
        self.bp_text: str | None = None
        self.report: bytes | None = None
        self.output: bytes | None = None

    @property
    def doc(self) -> Document:
        if self._doc is None:
            if self._blob is None:
                raise RuntimeError(f"document {self.doc_id} was not sent by its worker")
            self._doc = pickle.loads(self._blob)
            self._blob = None
        return self._doc

    def detach(self) -> None:
        """Let the document go: everything the main process can need of it is here."""
        self._doc = self._blob = None

    def __reduce__(self):
        blob = self._blob if self._doc is None else pickle.dumps(self._doc, protocol=pickle.HIGHEST_PROTOCOL)
        return (_unpickle_prepared, (blob, self.doc_id, self.lines, self.fingerprint, self.bp_text, self.report,
                                     self.output))


def _unpickle_prepared(blob: bytes | None, doc_id: str, lines: Any, fingerprint: Any, bp_text: str | None,
                       report: bytes | None, output: bytes | None) -> Prepared:
    item = Prepared.__new__(Prepared)
    item._doc, item._blob, item.doc_id = None, blob, doc_id
    item.lines, item.fingerprint, item.bp_text = lines, fingerprint, bp_text
    item.report, item.output = report, output
    return item


def duplicate_line(report: bytes, stage: str, duplicate_of: str, similarity: float, measure: str) -> bytes:
    """The report line of a document whose report line as kept is ``report``, had ``stage``
    dropped it as a duplicate of ``duplicate_of``: what :func:`report_line` writes after
    ``doc.drop("duplicate", stage, duplicate_of=…, similarity=…, measure=…)``. Workers write
    only the kept line; the few documents the index finds to be copies get theirs here.

    >>> doc = Document("b", text="正文。")
    >>> unit = Unit("in/s.jsonl", "s.jsonl", True)
    >>> line = duplicate_line(report_line(doc, unit), "dedup", "a", 0.9231, "jaccard")
    >>> doc.drop("duplicate", "dedup", duplicate_of="a", similarity=0.9231, measure="jaccard")
    >>> line == report_line(doc, unit)
    True
    """
    line: dict[str, Any] = {}
    for key, value in json.loads(report).items():
        if key == "kept":
            line.update(kept=False, drop_reason="duplicate", dropped_by=stage)
        elif key == "stages":
            # The stage's entry holds its counters, its own values, then the values of the
            # drop, then its lists (StageRecord.to_json); a stage that recorded nothing gets
            # an entry after the others (its record is made when it drops the document).
            entry = value.pop(stage, {})
            values = {k: v for k, v in entry.items() if k not in ("removed", "changes")}
            values.update(duplicate_of=duplicate_of, similarity=similarity, measure=measure)
            values.update((k, entry[k]) for k in ("removed", "changes") if k in entry)
            value[stage] = values
            line["stages"] = value
        elif key == "chars_out":
            line["chars_out"] = 0
        else:
            line[key] = value
    return json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n"


_WORKER: dict[str, Any] = {}


def _init_worker(pipeline: Pipeline | None, text_field: str, id_field: str, split: "tuple[Any, Any] | None" = None,
                 keep_meta: bool = False, serialize: bool = False) -> None:
    _WORKER["pipeline"] = pipeline
    _WORKER["text_field"] = text_field
    _WORKER["id_field"] = id_field
    _WORKER["split"] = split
    _WORKER["keep_meta"] = keep_meta
    _WORKER["serialize"] = serialize


def _read_unit(unit: Unit, text_field: str, id_field: str) -> tuple[list[Document], list[tuple[str, str]], int]:
    docs: list[Document] = []
    errors: list[tuple[str, str]] = []
    try:
        raw = read_bytes(unit.path)
    except InputError as exc:
        return docs, [(unit.rel, str(exc).split(": ", 1)[-1])], 0
    size = len(raw)
    if not unit.jsonl:
        docs.append(Document(unit.rel, raw=raw, metadata={"source": unit.rel}))
        return docs, errors, size
    import io as _io

    from .compression import CompressionError, decompress

    try:
        stream = _io.BytesIO(decompress(raw))  # `.jsonl.gz` and friends, by magic bytes
        for rec in iter_jsonl(stream, unit.rel):
            if rec.obj is None:
                errors.append((f"{unit.rel}:{rec.line_no}", rec.error.split(": ", 1)[-1]))
                continue
            try:
                docs.append(document_from_record(rec, unit.rel, text_field, id_field))
            except InputError as exc:
                errors.append((f"{unit.rel}:{rec.line_no}", str(exc).split(": ", 1)[-1]))
    except CompressionError as exc:
        errors.append((unit.rel, str(exc)))
    return docs, errors, size


def _work(unit: Unit) -> UnitResult:
    pipeline: Pipeline | None = _WORKER["pipeline"]
    docs, errors, size = _read_unit(unit, _WORKER["text_field"], _WORKER["id_field"])
    result = UnitResult(unit, errors=errors, bytes_in=size)
    if pipeline is not None:
        # In batches, as Pipeline.run does: the same documents and counters as one at a time,
        # for fewer calls into the stages (a shard of short records is mostly per-call cost).
        for batch in batched(docs, document_weight, BATCH_DOCS, BATCH_BYTES):
            pipeline.process_batch(batch)
        result.stats = pipeline.take_stats()  # this unit's counters; the main process adds them up
    split = _WORKER["split"]
    if split is None:
        result.docs = docs
        return result
    stats = [StageStats(stage.name) for stage in split if stage is not None]
    result.prepared = _prepare(docs, unit, split, stats)
    result.stats += stats
    return result


def _prepare(docs: list[Document], unit: Unit, split: tuple[Any, Any], stats: list[StageStats]) -> list[Prepared]:
    """The per-document halves of the corpus-level stages on the documents of one input (see
    Prepared); dedup's fingerprints are computed for all of them together."""
    items = [Prepared(doc) for doc in docs]
    live = [(item, doc) for item, doc in zip(items, docs) if doc.dropped is None]
    boilerplate, dedup = split
    clock = time.perf_counter
    counters = iter(stats)
    if boilerplate is not None:
        st = next(counters)
        for item, doc in live:
            before = stage_enter(boilerplate, st, doc)
            t0 = clock()
            item.lines = boilerplate.prepare(doc)
            stage_leave(boilerplate, st, doc, before, clock() - t0)
    if dedup is not None and live:
        st = next(counters)
        befores = [stage_enter(dedup, st, doc) for _, doc in live]
        t0 = clock()
        fingerprints = dedup.prepare_many([doc for _, doc in live])
        st.seconds += clock() - t0
        for (item, doc), before, fp in zip(live, befores, fingerprints):
            item.fingerprint = fp
            stage_leave(dedup, st, doc, before, 0.0)
            if item.lines is not None and item.lines.keys and doc.text is not before:
                item.bp_text = before  # what the line statistics would remove a line from
    if _WORKER["serialize"]:
        text_field, keep_meta = _WORKER["text_field"], _WORKER["keep_meta"]
        for item, doc in live:
            if not doc.text or doc.text.isspace():
                if (item.lines is None or not item.lines.keys) and item.fingerprint is None:
                    # Nothing is left to compare or to remove: dropped whatever the decisions.
                    doc.drop("empty", "pipeline")
                    item.report = report_line(doc, unit)
                    item.detach()
                continue
            # Written as they are unless the ordered half changes the document.
            item.report = report_line(doc, unit)
            item.output = output_bytes(doc, unit, text_field, keep_meta)
            if item.lines is None or not item.lines.keys:
                item.detach()  # the statistics cannot change it: the main process needs no more
    return items


def report_line(doc: Document, unit: Unit) -> bytes:
    """The line of ``_cleancorp/report.jsonl`` for one document of ``unit``."""
    line = doc.report()
    line["input"] = unit.rel
    return json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n"


def output_bytes(doc: Document, unit: Unit, text_field: str, keep_meta: bool) -> bytes:
    """A kept document as its output holds it: a JSONL record, or the text and a newline."""
    if unit.jsonl:
        return jsonl_line(doc, text_field, keep_meta)
    return (doc.text or "").encode("utf-8") + b"\n"


# -- main side ------------------------------------------------------------------------------


def split_chain(chain: list[str], options: dict[str, dict[str, Any]]) -> tuple[Pipeline | None, Pipeline]:
    """Per-document stages (run in workers) and the rest from the first corpus-level stage
    on (run in the main process, in input order)."""
    full = Pipeline(chain, options)
    cut = next((i for i, s in enumerate(full.stages) if s.corpus_level), len(full.stages))
    head = Pipeline(full.stages[:cut], drop_empty=True) if cut else None
    tail = Pipeline(full.stages[cut:])
    return head, tail


#: Tails (corpus-level part of the chain) whose stages run split: the per-document halves in
#: the workers, the ordered halves in the main process.
SPLIT_TAILS = (("boilerplate", "dedup"), ("boilerplate",), ("dedup",))


def split_tail(tail: Pipeline) -> tuple[Any, Any] | None:
    """(boilerplate stage or None, dedup stage or None) when the tail is one the workers can
    share (see :data:`SPLIT_TAILS`); None for any other tail, which then runs whole in the main
    process, in input order."""
    names = tuple(tail.stage_names)
    if names not in SPLIT_TAILS:
        return None
    stages = dict(zip(names, tail.stages))
    return stages.get("boilerplate"), stages.get("dedup")


class CorpusRun:
    """One `cleancorp corpus` invocation."""

    def __init__(self, args: argparse.Namespace, chain: list[str], options: dict[str, dict[str, Any]]) -> None:
        self.args = args
        self.out = args.out
        self.state_dir = os.path.join(self.out, STATE_DIR)
        self.units = discover(args.input, self.out, args.files_from, args.include)
        self.head, self.tail = split_chain(chain, options)
        self.split = split_tail(self.tail)
        self.fingerprint = self._fingerprint(chain, options)
        self.stats: dict[str, StageStats] = {}
        self.counts: dict[str, Any] = {"docs_in": 0, "docs_out": 0, "bytes_in": 0, "bytes_out": 0, "dropped": {}, "rejected": {}}
        self.done = 0
        self.report_bytes = 0
        self.manifest_bytes = 0

    def _fingerprint(self, chain: list[str], options: dict[str, Any]) -> str:
        data = json.dumps(
            {
                "chain": chain,
                "options": options,
                "inputs": [u.rel for u in self.units],
                "text_field": self.args.text_field,
                "id_field": self.args.id_field,
                "keep_meta": self.args.keep_meta,
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,
        )
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    # -- checkpoints ----------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> str:
        return os.path.join(self.state_dir, "checkpoint.pickle")

    def save_checkpoint(self) -> None:
        state = {
            "version": CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            "done": self.done,
            "report_bytes": self.report_bytes,
            "manifest_bytes": self.manifest_bytes,
            "counts": self.counts,
            "stats": self.stats,
            "tail": [s.__dict__ for s in self.tail.stages],
        }
        write_atomic(self.checkpoint_path, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))

    def restore(self) -> None:
        """Go back to the last checkpoint of an interrupted run in OUT, if there is one."""
        if not os.path.exists(self.checkpoint_path):
            for name in ("report.jsonl", "manifest.jsonl"):
                path = os.path.join(self.state_dir, name)
                if os.path.exists(path):
                    os.unlink(path)
            return
        try:
            with open(self.checkpoint_path, "rb") as fh:
                state = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
            raise CorpusError(f"{self.checkpoint_path}: unreadable checkpoint ({exc}); use --restart") from None
        if state.get("version") != CHECKPOINT_VERSION or state.get("fingerprint") != self.fingerprint:
            raise CorpusError(
                f"{self.out} holds a run with other inputs or options; use another OUT or --restart"
            )
        self.done = state["done"]
        self.report_bytes = state["report_bytes"]
        self.manifest_bytes = state["manifest_bytes"]
        self.counts = state["counts"]
        self.stats = state["stats"]
        for stage, saved in zip(self.tail.stages, state["tail"]):
            stage.__dict__.update(saved)
        for name, size in (("report.jsonl", self.report_bytes), ("manifest.jsonl", self.manifest_bytes)):
            path = os.path.join(self.state_dir, name)
            if os.path.exists(path):
                with open(path, "r+b") as fh:
                    fh.truncate(size)

    # -- running --------------------------------------------------------------------------

    def results(self, todo: list[Unit]) -> Iterator[UnitResult]:
        jobs = max(1, self.args.jobs)
        text_field, id_field = self.args.text_field, self.args.id_field
        if jobs == 1 or len(todo) <= 1:
            # In this process the documents need no serialising: the ordered half writes them.
            _init_worker(self.head, text_field, id_field, self.split, self.args.keep_meta, False)
            for unit in todo:
                yield _work(unit)
            return
        self._warm_up()
        ctx = multiprocessing.get_context("fork")
        initargs = (self.head, text_field, id_field, self.split, self.args.keep_meta, True)
        with ctx.Pool(jobs, initializer=_init_worker, initargs=initargs) as pool:
            # imap keeps input order: the main process sees documents exactly as with -j 1.
            yield from pool.imap(_work, todo, chunksize=1)

    def _warm_up(self) -> None:
        """Load dictionaries and tables once, before forking: workers share them."""
        if self.head is not None:
            self.head.warm_up()
            self.head.process(Document("warm-up", text="預熱 warm-up"))
            self.head.take_stats()  # the warm-up is not part of the run's counters
            self.head.docs_in = self.head.docs_out = 0
        if self.split is not None:
            for stage in self.split:
                if stage is not None:
                    stage.warm_up()
                    # The per-document halves only: nothing is counted or indexed.
                    stage.prepare(Document("warm-up", text="預熱\n首页 | 新闻 | 视听 | 评论\n预热正文。"))

    def execute(self) -> int:
        os.makedirs(self.state_dir, exist_ok=True)
        remove_partial_files(self.out)
        if self.args.restart and os.path.exists(self.checkpoint_path):
            os.unlink(self.checkpoint_path)
        self.restore()
        todo = self.units[self.done :]
        report = open(os.path.join(self.state_dir, "report.jsonl"), "ab")
        manifest = open(os.path.join(self.state_dir, "manifest.jsonl"), "ab")
        progress = self._progress(todo)
        last_checkpoint = time.monotonic()
        try:
            for result in self.results(todo):
                self._finish_unit(result, report)
                manifest.write(json.dumps({"input": result.unit.rel, "bytes": result.bytes_in}, ensure_ascii=False).encode("utf-8") + b"\n")
                report.flush()
                manifest.flush()
                self.done += 1
                self.report_bytes = report.tell()
                self.manifest_bytes = manifest.tell()
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix_str(f"{self.counts['bytes_in'] / 1e6:.1f} MB", refresh=False)
                if time.monotonic() - last_checkpoint >= self.args.checkpoint_seconds:
                    self.save_checkpoint()
                    last_checkpoint = time.monotonic()
            self.tail.close()
            self.save_checkpoint()
        finally:
            report.close()
            manifest.close()
            if progress is not None:
                progress.close()
        summary = self.summary()
        write_atomic(os.path.join(self.state_dir, "summary.json"), json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        if not self.args.quiet:
            print(format_summary(summary), file=sys.stderr)
        return 1 if self.counts["rejected"] else 0

    def _progress(self, todo: list[Unit]):
        if self.args.quiet or not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        return tqdm(total=len(todo), unit="file", desc="cleaning", dynamic_ncols=True)

    def _add_stats(self, stats: Iterable[StageStats]) -> None:
        for s in stats:
            total = self.stats.setdefault(s.name, StageStats(s.name))
            total.docs_in += s.docs_in
            total.docs_out += s.docs_out
            total.docs_changed += s.docs_changed
            total.chars_changed += s.chars_changed
            total.lines_removed += s.lines_removed
            total.seconds += s.seconds

    def _finish_unit(self, result: UnitResult, report: IO[bytes]) -> None:
        unit = result.unit
        counts = self.counts
        counts["bytes_in"] += result.bytes_in
        self._add_stats(result.stats)
        for where, reason in result.errors:
            counts["rejected"][where] = reason
            counts["docs_in"] += 1
            line = {"id": where, "input": unit.rel, "kept": False, "drop_reason": reason, "rejected": True, "stages": {}}
            report.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
            if not self.args.quiet:
                print(f"cleancorp: {where}: {reason}", file=sys.stderr)
        if result.prepared is not None:
            kept_out = self._decide_unit(result, report)
        else:
            kept_out = []
            for doc in result.docs:
                if doc.dropped is None:
                    self.tail.process(doc)
                self._count_document(doc)
                if doc.dropped is None:
                    kept_out.append(output_bytes(doc, unit, self.args.text_field, self.args.keep_meta))
                report.write(report_line(doc, unit))
            self._add_stats(self.tail.take_stats())
        counts["docs_out"] += len(kept_out)
        target = os.path.join(self.out, unit.output_rel)
        if unit.jsonl:
            data = b"".join(kept_out)
            if kept_out or result.docs or result.prepared:
                write_atomic(target, data)
        elif kept_out:
            data = kept_out[0]
            write_atomic(target, data)
        else:
            data = b""
            if os.path.exists(target):  # left by an earlier run with other input: never stale
                os.unlink(target)
        counts["bytes_out"] += len(data)

    def _count_document(self, doc: Document) -> None:
        """The run's counters for one document whose cleaning is finished."""
        counts = self.counts
        counts["docs_in"] += 1
        if doc.dropped is None:
            return
        counts["dropped"][doc.dropped] = counts["dropped"].get(doc.dropped, 0) + 1
        if doc.rejected:
            where = doc.metadata.get("source", doc.id)
            counts["rejected"][where] = doc.dropped
            if not self.args.quiet:
                print(f"cleancorp: {where}: {doc.dropped}", file=sys.stderr)

    def _decide_unit(self, result: UnitResult, report: IO[bytes]) -> list[bytes]:
        """The ordered halves of the corpus-level stages over one input's prepared documents;
        returns the output bytes of the kept ones. A document the decisions leave as the worker
        left it is written from the bytes the worker made; only one they change (a line the
        statistics remove, a duplicate) is unpacked and finished here."""
        unit = result.unit
        boilerplate, dedup = self.split
        fixes = [StageStats(stage.name) for stage in self.split if stage is not None]
        bp_fix = fixes[0] if boilerplate is not None else None
        dd_fix = fixes[-1] if dedup is not None else None
        clock = time.perf_counter
        kept_out: list[bytes] = []
        lines: list[bytes] = []  # of the report, written together
        items = result.prepared or []
        changed = [False] * len(items)
        duplicates: dict[int, bytes] = {}  # report lines of duplicates the workers left as kept
        if boilerplate is not None:
            # Line statistics first, for the whole input: their counts do not depend on which
            # documents dedup drops, and a line they remove changes the text dedup compares.
            t0 = clock()
            for n, item in enumerate(items):
                if item.lines is not None:
                    seen = boilerplate.count_lines(item.lines.keys)
                    if item.lines.keys and max(seen) >= boilerplate.stats_min_docs:
                        self._recount(item, seen, fixes)
                        changed[n] = True
            bp_fix.seconds += clock() - t0
        if dedup is not None:
            t0 = clock()
            offered = [n for n, item in enumerate(items) if item.fingerprint is not None]
            matches = dedup.match_many([(items[n].doc_id, items[n].fingerprint) for n in offered])
            for n, match in zip(offered, matches):
                if match is None:
                    continue
                dd_fix.docs_out -= 1
                item = items[n]
                if not changed[n] and item.report is not None and item.output is not None:
                    # The worker wrote the document as kept: its report line says the rest.
                    duplicates[n] = duplicate_line(item.report, dedup.name, match.id, match.similarity, match.measure)
                else:
                    item.doc.drop("duplicate", dedup.name, duplicate_of=match.id, similarity=match.similarity, measure=match.measure)
                    changed[n] = True
            dd_fix.seconds += clock() - t0
        for n, (item, redo) in enumerate(zip(items, changed)):
            if n in duplicates:
                self.counts["docs_in"] += 1
                self.counts["dropped"]["duplicate"] = self.counts["dropped"].get("duplicate", 0) + 1
                lines.append(duplicates[n])
            elif redo or item.report is None:
                doc = item.doc
                if doc.dropped is None:
                    if doc.text is None:
                        _decode_plain(doc)
                    if self.tail.drop_empty and (not doc.text or doc.text.isspace()):
                        doc.drop("empty", "pipeline")  # nothing left to keep: a page of chrome only
                self._count_document(doc)
                lines.append(report_line(doc, unit))
                if doc.dropped is None:
                    kept_out.append(output_bytes(doc, unit, self.args.text_field, self.args.keep_meta))
            else:
                self.counts["docs_in"] += 1
                lines.append(item.report)
                if item.output is None:  # left empty by the stages before: the worker dropped it
                    self.counts["dropped"]["empty"] = self.counts["dropped"].get("empty", 0) + 1
                else:
                    kept_out.append(item.output)
        report.write(b"".join(lines))
        self._add_stats(fixes)
        return kept_out

    def _recount(self, item: Prepared, seen: list[int], fixes: list[StageStats]) -> None:
        """The line statistics remove a line the worker kept: remove it from the text the
        boilerplate half left, and run the dedup half again on the new text (the worker's ran
        on the old one). The counters move from the old outcome to the new one."""
        boilerplate, dedup = self.split
        doc = item.doc
        bp_fix, dd_fix = fixes[0], fixes[-1]
        if dedup is not None:
            if item.bp_text is not None:
                doc.text = item.bp_text
            old = doc.log.pop(dedup.name, None)
            if old is not None:  # the worker's dedup half had removed repeats
                dd_fix.docs_changed -= 1
                dd_fix.chars_changed -= old.chars_changed
                dd_fix.lines_removed -= old.lines_removed
        old = doc.log.get(boilerplate.name)
        if old is not None:
            bp_fix.docs_changed -= 1
            bp_fix.chars_changed -= old.chars_changed
            bp_fix.lines_removed -= old.lines_removed
        boilerplate.remove_counted(doc, item.lines, seen)
        new = doc.log[boilerplate.name]
        bp_fix.docs_changed += 1
        bp_fix.chars_changed += new.chars_changed
        bp_fix.lines_removed += new.lines_removed
        if dedup is not None:
            t0 = time.perf_counter()
            item.fingerprint = dedup.prepare(doc)
            elapsed = time.perf_counter() - t0
            dd_fix.seconds += elapsed
            bp_fix.seconds -= elapsed  # the caller times this call as boilerplate's
            rec = doc.log.get(dedup.name)
            if rec is not None:
                dd_fix.docs_changed += 1
                dd_fix.chars_changed += rec.chars_changed
                dd_fix.lines_removed += rec.lines_removed

    def summary(self) -> dict[str, Any]:
        c = self.counts
        stats = [self.stats[s.name].to_json() for s in ([*(self.head.stages if self.head else []), *self.tail.stages]) if s.name in self.stats]
        total = sum(s["seconds"] for s in stats) or 1e-12
        for s in stats:
            s["time_share"] = round(s["seconds"] / total, 4)
        return {
            "inputs": len(self.units),
            "docs_in": c["docs_in"],
            "docs_kept": c["docs_out"],
            "dropped": dict(sorted(c["dropped"].items())),
            "rejected": dict(sorted(c["rejected"].items())),
            "bytes_in": c["bytes_in"],
            "bytes_out": c["bytes_out"],
            "stages": stats,
            # Where the report's relative `input` paths start, for tools that re-read inputs
            # (the HTML report's diffs), and the JSONL text field of the run.
            "in_root": input_root(self.args.input, self.args.files_from),
            "text_field": self.args.text_field,
        }


def input_root(source: str, files_from: str | None) -> str:
    """The absolute folder the inputs' relative paths (``Unit.rel``) are relative to.

    >>> input_root("/data/dump/**/*.jsonl", None), input_root("/data/page.txt", None)
    ('/data/dump', '/data')
    """
    if files_from is not None:
        base = source or os.getcwd()
    elif os.path.isdir(source):
        base = source
    elif any(ch in source for ch in "*?["):
        base = _glob_base(source)
    else:
        base = os.path.dirname(source) or "."
    return os.path.abspath(base)


def write_html_report(out: str, quiet: bool) -> int:
    """``--html``: the audit page of the finished run, ``OUT/_cleancorp/report.html``."""
    from .report_html import ReportError, write_report

    state_dir = os.path.join(out, STATE_DIR)
    target = os.path.join(state_dir, "report.html")
    try:
        stats = write_report(os.path.join(state_dir, "report.jsonl"), target)
    except (ReportError, OSError) as exc:
        print(f"cleancorp: HTML report not written: {exc}", file=sys.stderr)
        return 1
    if not quiet:
        print(f"HTML report: {target} ({stats.diffs} documents with a diff, {stats.bytes / 1e3:,.0f} KB)", file=sys.stderr)
    return 0


def remove_partial_files(out: str) -> None:
    """Delete the temporary files a killed run left in OUT (a write in progress at the kill);
    finished files were renamed into place and are never named like this."""
    for dirpath, _dirs, files in os.walk(out):
        for name in files:
            if name.startswith(".cleancorp-") and name.endswith(".tmp"):
                try:
                    os.unlink(os.path.join(dirpath, name))
                except FileNotFoundError:
                    pass


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"documents: {summary['docs_in']} in, {summary['docs_kept']} kept"
        f" ({summary['inputs']} input files)",
    ]
    dropped = summary["dropped"]
    if dropped:
        lines.append("dropped: " + ", ".join(f"{k}: {v}" for k, v in dropped.items()))
    if summary["rejected"]:
        lines.append(f"rejected inputs: {len(summary['rejected'])} (reasons in _cleancorp/report.jsonl)")
    lines.append(f"bytes: {summary['bytes_in']:,} in, {summary['bytes_out']:,} out")
    rows = [("stage", "in", "out", "changed", "chars", "lines-", "time share")]
    for s in summary["stages"]:
        rows.append((s["stage"], str(s["docs_in"]), str(s["docs_out"]), str(s["docs_changed"]), str(s["chars_changed"]), str(s["lines_removed"]), f"{100 * s['time_share']:.1f}%"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cleancorp corpus",
        description=(
            "Clean a whole tree: IN is a directory, a glob (quote it) or, with --files-from, a base "
            "folder for the listed paths. OUT mirrors IN's relative paths; the report and summary "
            "go to OUT/_cleancorp/. Running the same command again after an interruption resumes."
        ),
    )
    p.add_argument("input", metavar="IN")
    p.add_argument("out", metavar="OUT")
    p.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    p.add_argument("--files-from", metavar="LIST", help="read input paths from LIST (- for stdin), relative to IN")
    p.add_argument("--include", default="*", metavar="GLOB", help="only files whose name matches (default: all)")
    p.add_argument("--restart", action="store_true", help="ignore a checkpoint left in OUT and start over")
    p.add_argument("--checkpoint-seconds", type=float, default=10.0, metavar="S", help="checkpoint at most this often")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--html", action="store_true", help="also write the HTML audit report OUT/_cleancorp/report.html")
    p.add_argument(
        "--engine", choices=("local", "dask"), default="local",
        help="local: -j processes of this machine; dask: tasks of a Dask cluster (pip install 'cleancorp[dask]'), same OUT",
    )
    p.add_argument(
        "--address", metavar="ADDR",
        help="with --engine dask: join the cluster whose scheduler is ADDR (or auto: DASK_SCHEDULER_ADDRESS); default: start a local one with -j workers",
    )
    return p


def main(argv: list[str]) -> int:
    from .cli import add_chain_options, build_chain_spec, UsageError

    parser = build_parser()
    add_chain_options(parser)
    try:
        args = parser.parse_args(argv)
        if args.jobs < 1:
            raise UsageError("-j wants a positive number")
        if args.address and args.engine != "dask":
            raise UsageError("--address needs --engine dask")
        chain, options = build_chain_spec(args)
        run = CorpusRun(args, chain, options)
    except (UsageError, OptionError, CorpusError) as exc:
        print(f"cleancorp: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cleancorp: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        if args.engine == "dask":
            from .engines import dask_engine

            status = dask_engine.execute(run, chain, options)
        else:
            status = run.execute()
        if args.html:
            status = write_html_report(args.out, args.quiet) or status
        return status
    except CorpusError as exc:
        print(f"cleancorp: {exc}", file=sys.stderr)
        return 2
