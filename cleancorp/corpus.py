"""`cleancorp corpus IN OUT`: clean a whole tree in parallel, resumably, with a report.

How a run works:

* Inputs are the files under IN (or listed by ``--files-from``, or matched by a glob), taken in
  a stable order: sorted by their relative path (Unicode code-point order of the POSIX form).
  That order decides which copy of a duplicate is kept, whatever ``-j`` is.
* Per-document stages (decode, repair, convert, normalize) run in ``-j`` worker processes, one
  input file per task. Corpus-level stages (those that keep state across documents:
  boilerplate statistics, cross-document dedup) run in the main process, over the documents in
  input order, so the result is identical for every ``-j``.
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
from .pipeline import Pipeline, StageStats
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
    """What a worker sends back for one input: its documents after the per-document stages,
    the errors met while reading it, and the per-stage counters of that work."""

    unit: Unit
    docs: list[Document] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (doc id / location, reason)
    stats: list[StageStats] = field(default_factory=list)
    bytes_in: int = 0


_WORKER: dict[str, Any] = {}


def _init_worker(pipeline: Pipeline | None, text_field: str, id_field: str) -> None:
    _WORKER["pipeline"] = pipeline
    _WORKER["text_field"] = text_field
    _WORKER["id_field"] = id_field


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
        for doc in docs:
            pipeline.process(doc)
        result.stats = pipeline.take_stats()  # this unit's counters; the main process adds them up
    result.docs = docs
    return result


# -- main side ------------------------------------------------------------------------------


def split_chain(chain: list[str], options: dict[str, dict[str, Any]]) -> tuple[Pipeline | None, Pipeline]:
    """Per-document stages (run in workers) and the rest from the first corpus-level stage
    on (run in the main process, in input order)."""
    full = Pipeline(chain, options)
    cut = next((i for i, s in enumerate(full.stages) if s.corpus_level), len(full.stages))
    head = Pipeline(full.stages[:cut], drop_empty=True) if cut else None
    tail = Pipeline(full.stages[cut:])
    return head, tail


class CorpusRun:
    """One `cleancorp corpus` invocation."""

    def __init__(self, args: argparse.Namespace, chain: list[str], options: dict[str, dict[str, Any]]) -> None:
        self.args = args
        self.out = args.out
        self.state_dir = os.path.join(self.out, STATE_DIR)
        self.units = discover(args.input, self.out, args.files_from, args.include)
        self.head, self.tail = split_chain(chain, options)
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
            _init_worker(self.head, text_field, id_field)
            for unit in todo:
                yield _work(unit)
            return
        if self.head is not None:
            # Load dictionaries and tables once, before forking: workers share them.
            self.head.process(Document("warm-up", text="預熱 warm-up"))
            self.head.take_stats()  # the warm-up is not part of the run's counters
            self.head.docs_in = self.head.docs_out = 0
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(self.head, text_field, id_field)) as pool:
            # imap keeps input order: the main process sees documents exactly as with -j 1.
            yield from pool.imap(_work, todo, chunksize=1)

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
        kept: list[Document] = []
        for doc in result.docs:
            counts["docs_in"] += 1
            if doc.dropped is None:
                self.tail.process(doc)
            if doc.dropped is not None:
                counts["dropped"][doc.dropped] = counts["dropped"].get(doc.dropped, 0) + 1
                if doc.rejected:
                    counts["rejected"][doc.metadata.get("source", doc.id)] = doc.dropped
                    if not self.args.quiet:
                        print(f"cleancorp: {doc.metadata.get('source', doc.id)}: {doc.dropped}", file=sys.stderr)
            else:
                kept.append(doc)
            line = doc.report()
            line["input"] = unit.rel
            report.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
        self._add_stats(self.tail.take_stats())
        counts["docs_out"] += len(kept)
        target = os.path.join(self.out, unit.output_rel)
        if unit.jsonl:
            data = b"".join(jsonl_line(d, self.args.text_field, self.args.keep_meta) for d in kept)
            if kept or result.docs:
                write_atomic(target, data)
        elif kept:
            data = (kept[0].text or "").encode("utf-8") + b"\n"
            write_atomic(target, data)
        else:
            data = b""
            if os.path.exists(target):  # left by an earlier run with other input: never stale
                os.unlink(target)
        counts["bytes_out"] += len(data)

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
        }


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

            return dask_engine.execute(run, chain, options)
        return run.execute()
    except CorpusError as exc:
        print(f"cleancorp: {exc}", file=sys.stderr)
        return 2
