"""`cleancorp corpus --engine dask`: the same run as the local engine, as tasks of a Dask cluster.

The OUT tree (cleaned files, ``_cleancorp/report.jsonl``, ``manifest.jsonl``, the counters of
``summary.json``) is byte for byte the one ``--engine local`` writes. How a run goes:

1. **Map** (one task per *shard*, a run of consecutive inputs, on the workers): read the files,
   run the per-document stages, and keep the documents *in the worker's memory* (a Dask future
   per shard).
2. For each corpus-level stage, in chain order:

   * **collect** (one task per shard): the compact per-document keys the stage decides on. For
     ``boilerplate`` with line statistics: the 8-byte hashes of the candidate lines of each
     page's head and tail. For ``dedup``: the document's paragraph-level repeats are removed
     right there (they concern one document), then its 8-byte exact digest and 32 LSH band keys.
   * **decide**: the client replays the count-min sketch of boilerplate over the candidate
     line hashes, in input order, exactly as the streaming stage counts them, and sends back
     each line's count. For dedup the workers group the keys (cut by key into one part per
     worker) and report the documents holding a key that another document also holds; only
     those can be duplicates or the first copy of one, so only their MinHash sketches (256
     bytes) and key digests go to the client, which offers them, in input order, to the stage's
     own index: a document dropped as a duplicate never becomes the "first seen" of a later
     one, as in the streaming stage. Every other document is kept without leaving its worker.
     (Boilerplate with frozen line statistics, read from a file, needs no decision: the
     workers apply it.)
   * **apply** (one task per shard): the decisions go back to the workers, which finish the
     stage and run the per-document stages that follow it.

3. **Write** (one task per shard): the worker writes the cleaned files (temporary name, then
   rename) and returns each input's report lines and counters; the client writes the report,
   the manifest and the summary in input order.

Texts never cross to the client except as the report lines (removed lines are in the report);
what else does is listed above. Resuming: a dask run always
starts over (an interrupted run, local or dask, is cleaned again from the first input) and
ends with the same OUT as an uninterrupted one; it writes no checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import logging
import operator
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from .. import minhash
from ..corpus import CorpusError, CorpusRun, Unit, UnitResult, _read_unit, split_chain
from ..document import Document
from ..io import write_atomic
from ..linestats import LineStats
from ..pipeline import Pipeline, StageStats, _decode_plain, stage_enter, stage_leave

#: Corpus-level stages this engine knows how to split into collect / decide / apply.
SUPPORTED = ("boilerplate", "dedup")


class EngineError(CorpusError):
    """The dask engine cannot run (not installed, no cluster, an unsupported stage)."""


# -- worker side ----------------------------------------------------------------------------

_LOCAL = threading.local()


def _chain(spec: tuple[str, list[str], dict[str, Any]]) -> tuple[Pipeline | None, Pipeline]:
    """The head and tail pipelines of a run, built once per worker thread (stages hold tables
    that take time to load; a thread of its own keeps their scratch state private)."""
    fingerprint, chain, options = spec
    cached = getattr(_LOCAL, "chain", None)
    if cached is None or cached[0] != fingerprint:
        if options.get("dedup", {}).get("index"):
            # The index file is the client's: it decides every cross-document duplicate.
            options = {**options, "dedup": {k: v for k, v in options["dedup"].items() if k != "index"}}
        _LOCAL.chain = (fingerprint, split_chain(chain, options))
    return _LOCAL.chain[1]


def needs_decision(stage) -> bool:
    """Whether a stage needs the run's earlier documents: a corpus-level stage, except the
    boilerplate stage with frozen line statistics (read from a file, never updated), which each
    worker applies alone."""
    return stage.corpus_level and not (stage.name == "boilerplate" and stage.stats_frozen)


@dataclass
class Shard:
    """A run of consecutive inputs on a worker: their documents (``docs`` numbers them across
    the shard), the tail's counters, how far the tail has run, and what the corpus-level stage
    being decided left pending (per document number)."""

    results: list[UnitResult]
    tail_stats: list[StageStats]
    step: int = 0
    pending: dict[int, Any] = field(default_factory=dict)
    docs: list[Document] = field(default_factory=list)


class _LineRecorder:
    """Stands in for the line-statistics sketch while a page is classified on a worker: records
    whether the page would be counted and which line hashes it asks about (the same lines it
    adds), and answers "seen often" so every candidate line shows up in the verdict."""

    def __init__(self, answer: int) -> None:
        self.answer = answer
        self.counted = False
        self.asked: list[bytes] = []

    def add_document(self, keys) -> None:
        self.counted = True

    def count(self, key: bytes) -> int:
        self.asked.append(key)
        return self.answer


class _LineReplay:
    """Stands in for the sketch when the page is cleaned: gives the counts the client decided,
    in the order the stage asks for them."""

    def __init__(self, counts: list[int]) -> None:
        self._counts = iter(counts)

    def add_document(self, keys) -> None:
        pass  # the client has counted the page already

    def count(self, key: bytes) -> int:
        return next(self._counts)


def _enter(stage, stats: StageStats, doc: Document) -> tuple[str | None, float]:
    """Book-keeping before a stage runs on a document (as Pipeline.process does it)."""
    return stage_enter(stage, stats, doc), time.perf_counter()


def _advance(shard: Shard, tail: Pipeline) -> Shard:
    """Run the tail's per-document stages from ``shard.step`` up to the next corpus-level stage,
    collect that stage's keys, and stop there (or finish the tail: the empty-document drop)."""
    stages = tail.stages
    docs = shard.docs
    while shard.step < len(stages) and not needs_decision(stages[shard.step]):
        stage, stats = stages[shard.step], shard.tail_stats[shard.step]
        for doc in docs:
            if doc.dropped is None:
                before, t0 = _enter(stage, stats, doc)
                stage.apply(doc)
                stage_leave(stage, stats, doc, before, time.perf_counter() - t0)
        shard.step += 1
    if shard.step == len(stages):
        for doc in docs:
            if doc.dropped is None:
                if doc.text is None:
                    _decode_plain(doc)
                if tail.drop_empty and not doc.text.strip():
                    doc.drop("empty", "pipeline")
        return shard
    stage = stages[shard.step]
    shard.pending = {}
    for n, doc in enumerate(docs):
        if doc.dropped is None:
            shard.pending[n] = _collect(stage, shard.tail_stats[shard.step], doc)
    return shard


def _collect(stage, stats: StageStats, doc: Document) -> Any:
    if stage.name == "boilerplate":
        if doc.text is None and not stage.needs_bytes:
            _decode_plain(doc)
        if not doc.text:
            return None  # the stage returns at once: the page is not counted
        recorder = _LineRecorder(stage.stats_min_docs)
        saved = stage._stats
        stage._stats = recorder
        try:
            stage.classify(doc.text.split("\n"))
        finally:
            stage._stats = saved
        return (recorder.counted, recorder.asked)
    # dedup: the paragraph repeats inside the page now; the cross-document decision later
    before, t0 = _enter(stage, stats, doc)
    across = stage.across
    stage.across = False
    try:
        stage.apply(doc)
    finally:
        stage.across = across
    elapsed = time.perf_counter() - t0
    key = None
    if across and doc.text:
        mapped = minhash.mapped_codes(doc.text)
        key = mapped[mapped != 0]
        if len(key) == 0:
            key = None
    return (before, elapsed, key, None if key is None else minhash.sketch(key))


def map_inputs(units: list[Unit], spec, text_field: str, id_field: str) -> Shard:
    """Task: read a shard's inputs, run the per-document stages, go on to the first
    corpus-level stage."""
    head, tail = _chain(spec)
    shard = Shard([], [StageStats(s.name) for s in tail.stages])
    for unit in units:
        docs, errors, size = _read_unit(unit, text_field, id_field)
        result = UnitResult(unit, errors=errors, bytes_in=size)
        if head is not None:
            for doc in docs:
                head.process(doc)
            result.stats = head.take_stats()
        result.docs = docs
        shard.results.append(result)
        shard.docs.extend(docs)
    return _advance(shard, tail)


def line_keys(shard: Shard) -> dict[int, Any]:
    """Task: per page, whether the line statistics count it and the hashes of its candidate
    lines (what goes to the client for boilerplate)."""
    return shard.pending


def dedup_keys(shard: Shard, spec, shard_no: int, parts: int) -> list[np.ndarray]:
    """Task: the dedup keys (exact digest, LSH bands) of the shard's documents as rows
    ``(key, owner)``, owner = shard number << 32 | document number, cut into ``parts`` by key.

    Only the workers see these rows; :func:`shared_owners` groups each part."""
    _, tail = _chain(spec)
    stage = tail.stages[shard.step]
    rows = []
    for n, (_, _, key, sk) in shard.pending.items():
        if key is None:
            continue
        # The very keys the index looks a document up by (exact digest, LSH bands), so a
        # document that shares none of them cannot meet another in the index.
        keys = np.unique(stage.index._keys(key, sk).astype(np.uint64))
        owner = np.full(len(keys), (shard_no << 32) | n, dtype=np.uint64)
        rows.append(np.stack([keys, owner], axis=1))
    table = np.concatenate(rows) if rows else np.zeros((0, 2), dtype=np.uint64)
    part = table[:, 0] % np.uint64(parts)
    return [table[part == p] for p in range(parts)]


def shared_owners(*pieces: np.ndarray) -> np.ndarray:
    """Task: of one part of the keys, the owners of every key that two or more documents hold.

    >>> rows = np.array([[7, 1], [9, 1], [7, 2], [8, 3]], dtype=np.uint64)
    >>> shared_owners(rows[:2], rows[2:]).tolist()
    [1, 2]
    """
    table = np.concatenate(pieces) if pieces else np.zeros((0, 2), dtype=np.uint64)
    if len(table) == 0:
        return np.zeros(0, dtype=np.uint64)
    keys, counts = np.unique(table[:, 0], return_counts=True)
    shared = keys[counts > 1]  # every document lists a key once: two rows are two documents
    return np.unique(table[np.isin(table[:, 0], shared), 1])


def offered(shard: Shard) -> list[int]:
    """Task: the documents of the shard that the dedup index would be offered (a nonempty key)."""
    return [n for n, pending in shard.pending.items() if pending[2] is not None]


class KeyDigest:
    """A comparison key's 32-byte digest, standing in for the key where the dedup index only
    hashes the key's bytes (its exact-copy test): 32 bytes cross the network instead of four
    per character. Equal keys give equal digests, so the index decides as with the keys.

    >>> a, b = (KeyDigest.of(minhash.comparison_key(t)) for t in ("全會強調", "全会强调。"))
    >>> a.tobytes() == b.tobytes(), len(a.tobytes())
    (True, 32)
    """

    __slots__ = ("digest",)

    def __init__(self, digest: bytes) -> None:
        self.digest = digest

    @classmethod
    def of(cls, key: np.ndarray) -> "KeyDigest":
        return cls(hashlib.blake2b(key.tobytes(), digest_size=32).digest())

    def tobytes(self) -> bytes:
        return self.digest


def shard_sketches(shard: Shard, wanted: list[int], whole_keys: bool) -> list[tuple[int, str, Any, Any]]:
    """Task: the sketch and the key digest (``whole_keys``: the key itself, for an index kept
    in a file, whose exact-copy entries hash whole keys) of the documents that share a key
    with another one."""
    docs = shard.docs
    out = []
    for n in wanted:
        key, sk = shard.pending[n][2], shard.pending[n][3]
        out.append((n, docs[n].id, key if whole_keys else KeyDigest.of(key), sk))
    return out


def apply_decisions(shard: Shard, spec, decisions: dict[int, Any]) -> Shard:
    """Task: finish the pending corpus-level stage with the client's decisions, run on."""
    _, tail = _chain(spec)
    stage, stats = tail.stages[shard.step], shard.tail_stats[shard.step]
    docs = shard.docs
    for n, pending in shard.pending.items():
        doc = docs[n]
        if stage.name == "boilerplate":
            before, t0 = _enter(stage, stats, doc)
            saved = stage._stats
            stage._stats = _LineReplay(decisions.get(n, []))
            try:
                stage.apply(doc)
            finally:
                stage._stats = saved
            stage_leave(stage, stats, doc, before, time.perf_counter() - t0)
        else:
            before, elapsed, _, _ = pending
            match = decisions.get(n)
            if match is not None:
                duplicate_of, similarity, measure = match
                doc.drop("duplicate", stage.name, duplicate_of=duplicate_of, similarity=similarity, measure=measure)
            stage_leave(stage, stats, doc, before, elapsed)
    shard.pending = {}
    shard.step += 1
    return _advance(shard, tail)


def write_outputs(shard: Shard, out: str, text_field: str, keep_meta: bool) -> list[dict[str, Any]]:
    """Task: write the shard's cleaned files; return, per input, its report lines, counters
    and messages (the tail's counters go with the first input)."""
    done = [_write_output(result, out, text_field, keep_meta) for result in shard.results]
    if done:
        done[0]["stats"].extend(shard.tail_stats)
    return done


def _write_output(result: UnitResult, out: str, text_field: str, keep_meta: bool) -> dict[str, Any]:
    run = CorpusRun.__new__(CorpusRun)  # only the per-input writing of the local engine is used
    run.args = SimpleNamespace(quiet=True, text_field=text_field, keep_meta=keep_meta)
    run.out = out
    run.stats = {}
    run.counts = {"docs_in": 0, "docs_out": 0, "bytes_in": 0, "bytes_out": 0, "dropped": {}, "rejected": {}}
    run.tail = SimpleNamespace(process=lambda doc: doc, take_stats=lambda: [])  # the tail has run
    messages = [f"{where}: {reason}" for where, reason in result.errors]
    messages += [f"{d.metadata.get('source', d.id)}: {d.dropped}" for d in result.docs if d.rejected]

    class Buffer(list):
        write = list.append

    report = Buffer()
    run._finish_unit(result, report)
    return {
        "report": b"".join(report),
        "counts": run.counts,
        "stats": list(result.stats),
        "messages": messages,
        "bytes_in": result.bytes_in,
    }


# -- client side ----------------------------------------------------------------------------


def _decide_line_stats(stage, collected: list[dict[int, Any]]) -> list[dict[int, list[int]]]:
    """Count the pages' candidate lines in input order, as the streaming stage does."""
    rs = stage.ruleset
    if stage._stats is None:
        stage._stats = LineStats(rs.stats.get("width", 1 << 20), rs.stats.get("depth", 4))
    stats = stage._stats
    decisions = []
    for per_doc in collected:
        shard_dec: dict[int, list[int]] = {}
        for n in sorted(per_doc):
            item = per_doc[n]
            if item is None:
                continue
            counted, asked = item
            if counted and not stage.stats_frozen:
                stats.add_document(asked)
            shard_dec[n] = [stats.count(k) for k in asked]
        decisions.append(shard_dec)
    return decisions


def _open_client(address: str | None, jobs: int):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise EngineError("--engine dask needs Dask: pip install 'cleancorp[dask]'") from None
    import dask

    # Problems reach the user as one line (EngineError); the cluster's own log records, and the
    # noise of its event loop when a run is interrupted, stay out of the terminal.
    for name in ("distributed", "asyncio", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if address == "auto":
        address = dask.config.get("scheduler-address", None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
        if not address:
            raise EngineError("--address auto: no scheduler address configured (set DASK_SCHEDULER_ADDRESS)")
    if address:
        try:
            return Client(address, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as exc:
            raise EngineError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        cluster = LocalCluster(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        )
    except Exception as exc:  # a worker that cannot start: the reason in one line
        raise EngineError(f"cannot start a local Dask cluster: {type(exc).__name__}: {exc}") from None
    return Client(cluster), cluster


def execute(run: CorpusRun, chain: list[str], options: dict[str, dict[str, Any]]) -> int:
    """Run ``run`` (built as for the local engine) on a Dask cluster; same OUT, same exit status."""
    for stage in run.tail.stages:
        if stage.corpus_level and stage.name not in SUPPORTED:
            raise EngineError(f"--engine dask cannot split the corpus-level stage {stage.name!r}; use --engine local")
    args = run.args
    os.makedirs(run.state_dir, exist_ok=True)
    # A dask run starts over: no checkpoint is restored, and none is left to mislead a local run.
    for name in ("checkpoint.pickle", "report.jsonl", "manifest.jsonl"):
        path = os.path.join(run.state_dir, name)
        if os.path.exists(path):
            os.unlink(path)
    spec = (run.fingerprint, chain, options)
    client, cluster = _open_client(args.address, max(1, args.jobs))
    try:
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        groups = shard_units(run.units, workers)
        shards = [
            client.submit(map_inputs, group, spec, args.text_field, args.id_field, pure=False) for group in groups
        ]
        for stage in run.tail.stages:
            if not needs_decision(stage):
                continue
            if stage.name == "boilerplate":
                keys = client.gather([client.submit(line_keys, shard, pure=False) for shard in shards])
                decisions = _decide_line_stats(stage, keys)
            else:
                decisions = _decide_duplicates(client, stage, shards, spec, workers)
            shards = [
                client.submit(apply_decisions, shard, spec, dec, pure=False) for shard, dec in zip(shards, decisions)
            ]
        outputs = [
            client.submit(write_outputs, shard, run.out, args.text_field, args.keep_meta, pure=False) for shard in shards
        ]
        del shards  # the documents leave the workers' memory as soon as their files are written
        report = open(os.path.join(run.state_dir, "report.jsonl"), "wb")
        manifest = open(os.path.join(run.state_dir, "manifest.jsonl"), "wb")
        try:
            # Shards are taken in input order; later ones finish meanwhile on the workers.
            for group, future in zip(groups, outputs):
                for unit, res in zip(group, future.result()):
                    report.write(res["report"])
                    line = {"input": unit.rel, "bytes": res["bytes_in"]}
                    manifest.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
                    _merge(run, res)
                    if not args.quiet:
                        for msg in res["messages"]:
                            print(f"cleancorp: {msg}", file=sys.stderr)
                future.release()
        finally:
            report.close()
            manifest.close()
    except CorpusError:
        raise
    except Exception as exc:  # a failed task or a lost cluster: one line, not a remote traceback
        raise EngineError(f"the Dask run failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    run.tail.close()
    summary = run.summary()
    write_atomic(os.path.join(run.state_dir, "summary.json"), json.dumps(summary, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    if not args.quiet:
        from ..corpus import format_summary

        print(format_summary(summary), file=sys.stderr)
    return 1 if run.counts["rejected"] else 0


#: A shard (one task's share of the inputs) holds about this many input bytes at most, and the
#: inputs are cut into at least four shards per worker when there is enough input: few tasks
#: (the scheduler's cost per task is about a millisecond), yet every worker stays busy.
SHARD_BYTES = 16 << 20


def shard_units(units: list[Unit], workers: int, shard_bytes: int = SHARD_BYTES) -> list[list[Unit]]:
    """Cut the inputs, in their order, into runs of consecutive inputs of similar byte size.

    >>> [len(g) for g in shard_units([Unit("/nonexistent", str(i), False) for i in range(10)], 2)]
    [2, 2, 2, 2, 2]
    """
    sizes = []
    for unit in units:
        try:
            sizes.append(max(1, os.path.getsize(unit.path)))
        except OSError:
            sizes.append(1)  # the worker reports the error
    total = sum(sizes)
    target = max(1, min(shard_bytes, -(-total // (4 * workers))))
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    filled = 0
    for unit, size in zip(units, sizes):
        if current and filled + size > target:
            groups.append(current)
            current, filled = [], 0
        current.append(unit)
        filled += size
    if current:
        groups.append(current)
    return groups


def _decide_duplicates(client, stage, shards, spec, parts: int) -> list[dict[int, Any]]:
    """The documents dropped as duplicates, by the stage's own index, in input order."""
    decisions: list[dict[int, Any]] = [{} for _ in shards]
    if not stage.across:
        return decisions
    persistent = bool(stage.index_path) or len(stage.index) > 0
    if persistent:
        # A loaded index (--dedup-index) may match any document, and is saved with every kept
        # one: all are offered.
        wanted = client.gather([client.submit(offered, shard, pure=False) for shard in shards])
    else:
        # A document with no key in common with any other is kept and matches nothing later:
        # only the rest are offered. The keys are grouped on the workers, one part each.
        tables = [client.submit(dedup_keys, shard, spec, s, parts, pure=False) for s, shard in enumerate(shards)]
        owners = [
            client.submit(shared_owners, *[client.submit(operator.getitem, t, p, pure=False) for t in tables], pure=False)
            for p in range(parts)
        ]
        wanted = [[] for _ in shards]
        found = np.unique(np.concatenate([np.zeros(0, np.uint64), *client.gather(owners)]))
        for owner in found.tolist():
            wanted[owner >> 32].append(owner & 0xFFFF_FFFF)
    fetch = {s: client.submit(shard_sketches, shards[s], w, persistent, pure=False) for s, w in enumerate(wanted) if w}
    for s in sorted(fetch):
        for n, doc_id, key, sk in fetch[s].result():
            match = stage.index.offer(doc_id, key, sk)
            if match is not None:
                decisions[s][n] = (match.id, match.similarity, match.measure)
    return decisions


def _merge(run: CorpusRun, res: dict[str, Any]) -> None:
    counts = run.counts
    part = res["counts"]
    for key in ("docs_in", "docs_out", "bytes_in", "bytes_out"):
        counts[key] += part[key]
    for key in ("dropped", "rejected"):
        for k, v in part[key].items():
            counts[key][k] = counts[key].get(k, 0) + v if key == "dropped" else v
    run._add_stats(res["stats"])
