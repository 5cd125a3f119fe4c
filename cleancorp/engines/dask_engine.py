"""`cleancorp corpus --engine dask`: the same run as the local engine, as tasks of a Dask cluster.

The OUT tree (cleaned files, ``_cleancorp/report.jsonl``, ``manifest.jsonl``, the counters of
``summary.json``) is byte for byte the one ``--engine local`` writes. How a run goes:

1. **Map** (one task per *shard*, a run of consecutive inputs, on the workers): read the files,
   run the per-document stages, and keep the documents *in the worker's memory* (a Dask future
   per shard).
2. For each corpus-level stage, in chain order:

   * **collect** (one task per shard): the per-document half of the stage, its public
     ``prepare``, on every document; the result stays on the worker, and only its compact part
     is what the stage decides on. ``Boilerplate.prepare`` applies the rules and the page
     layout and leaves the page's line-statistics candidates: 8-byte hashes of its short head
     and tail lines. ``Dedup.prepare_many`` removes the repeats inside each page and leaves
     its fingerprint: the 8-byte exact digest and 32 LSH band keys, and the 256-byte MinHash
     sketch (computed for the shard's documents together).
   * **decide**: the client counts the candidate line hashes in input order with the stage's
     own ``count_lines`` (the counts depend on the order, so this part is serial) and sends
     back each line's count. For dedup the workers group the keys (cut by key into one part
     per worker) and report the documents holding a key that another document also holds;
     only those can be duplicates or the first copy of one, so only their fingerprints go to
     the client, which offers them, in input order, to the stage's own index
     (``match_many``, one input file at a time as the local engine does): a document dropped
     as a duplicate never becomes the "first seen" of a later one, as in the streaming stage.
     Every other document is kept without leaving its worker. (Boilerplate with frozen line
     statistics, read from a file, needs no decision: each worker applies it.)
   * **apply** (one task per shard): the decisions go back to the workers, which finish the
     stage (``Boilerplate.remove_counted`` takes the lines the counts condemn out of the page
     as ``prepare`` left it; a duplicate is dropped) and run the per-document stages that
     follow it.

3. **Write** (one task per shard): the worker writes the cleaned files (temporary name, then
   rename) and returns each input's report lines and counters; the client writes the report,
   the manifest and the summary in input order.

Texts never cross to the client except as the report lines (removed lines are in the report);
what else does is listed above. Resuming: a dask run always
starts over (an interrupted run, local or dask, is cleaned again from the first input) and
ends with the same OUT as an uninterrupted one; it writes no checkpoint.
"""
from __future__ import annotations

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

from ..corpus import CorpusError, CorpusRun, Unit, UnitResult, _read_unit, split_chain
from ..document import Document
from ..io import write_atomic
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
    shard.pending = _collect(stages[shard.step], shard.tail_stats[shard.step], docs)
    return shard


def _collect(stage, stats: StageStats, docs: list[Document]) -> dict[int, Any]:
    """The per-document half of a corpus-level stage (its ``prepare``) on every live document
    of a shard: per document number, (text before the stage, seconds so far, the payload the
    ordered half decides on)."""
    live = [(n, doc) for n, doc in enumerate(docs) if doc.dropped is None]
    befores = [_enter(stage, stats, doc)[0] for _, doc in live]
    t0 = time.perf_counter()
    if stage.name == "dedup":
        payloads = stage.prepare_many([doc for _, doc in live])
    else:
        payloads = [stage.prepare(doc) for _, doc in live]
    share = (time.perf_counter() - t0) / max(1, len(live))
    return {n: (before, share, payload) for (n, _), before, payload in zip(live, befores, payloads)}


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


def line_keys(shard: Shard) -> dict[int, list[bytes]]:
    """Task: the hashes of each counted page's candidate lines (what goes to the client for
    boilerplate); a page the statistics do not count is left out."""
    return {n: payload.keys for n, (_, _, payload) in shard.pending.items() if payload is not None}


def dedup_keys(shard: Shard, shard_no: int, parts: int) -> list[np.ndarray]:
    """Task: the dedup keys (exact digest, LSH bands) of the shard's documents as rows
    ``(key, owner)``, owner = shard number << 32 | document number, cut into ``parts`` by key.

    Only the workers see these rows; :func:`shared_owners` groups each part."""
    rows = []
    for n, (_, _, fp) in shard.pending.items():
        if fp is None:
            continue
        # The very keys the index looks a document up by (exact digest, LSH bands), so a
        # document that shares none of them cannot meet another in the index.
        keys = np.unique(fp.keys)
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
    """Task: the documents of the shard that the dedup index would be offered (a fingerprint)."""
    return [n for n, pending in shard.pending.items() if pending[2] is not None]


def shard_fingerprints(shard: Shard, wanted: list[int]) -> list[list[tuple[int, str, Any]]]:
    """Task: (number, id, fingerprint) of the wanted documents, one list per input of the
    shard: the client offers each input's documents together, as the local engine does, so
    that an index saved to a file is the same byte for byte."""
    wanted_set = set(wanted)
    groups = []
    n = 0
    for result in shard.results:
        group = []
        for _ in result.docs:
            if n in wanted_set:
                group.append((n, shard.docs[n].id, shard.pending[n][2]))
            n += 1
        if group:
            groups.append(group)
    return groups


def apply_decisions(shard: Shard, spec, decisions: dict[int, Any]) -> Shard:
    """Task: finish the pending corpus-level stage with the client's decisions, run on."""
    _, tail = _chain(spec)
    stage, stats = tail.stages[shard.step], shard.tail_stats[shard.step]
    docs = shard.docs
    for n, (before, elapsed, payload) in shard.pending.items():
        doc = docs[n]
        t0 = time.perf_counter()
        if stage.name == "boilerplate":
            if payload is not None:
                stage.remove_counted(doc, payload, decisions[n])
        else:
            match = decisions.get(n)
            if match is not None:
                duplicate_of, similarity, measure = match
                doc.drop("duplicate", stage.name, duplicate_of=duplicate_of, similarity=similarity, measure=measure)
        stage_leave(stage, stats, doc, before, elapsed + time.perf_counter() - t0)
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


def _decide_line_stats(stage, collected: list[dict[int, list[bytes]]]) -> list[dict[int, list[int]]]:
    """Count the pages' candidate lines in input order, as the streaming stage does."""
    return [{n: stage.count_lines(per_doc[n]) for n in sorted(per_doc)} for per_doc in collected]


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
                decisions = _decide_duplicates(client, stage, shards, workers)
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


def _decide_duplicates(client, stage, shards, parts: int) -> list[dict[int, Any]]:
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
        tables = [client.submit(dedup_keys, shard, s, parts, pure=False) for s, shard in enumerate(shards)]
        owners = [
            client.submit(shared_owners, *[client.submit(operator.getitem, t, p, pure=False) for t in tables], pure=False)
            for p in range(parts)
        ]
        wanted = [[] for _ in shards]
        found = np.unique(np.concatenate([np.zeros(0, np.uint64), *client.gather(owners)]))
        for owner in found.tolist():
            wanted[owner >> 32].append(owner & 0xFFFF_FFFF)
    fetch = {s: client.submit(shard_fingerprints, shards[s], w, pure=False) for s, w in enumerate(wanted) if w}
    for s in sorted(fetch):
        for group in fetch[s].result():
            matches = stage.match_many([(doc_id, fp) for _, doc_id, fp in group])
            for (n, _, _), match in zip(group, matches):
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
