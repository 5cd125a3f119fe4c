"""`make bench`: throughput (MB/s of input) and peak memory of cleancorp, beside a naive chain.

    python -m bench.run                   # 50 MB corpus, 200 MB stdin document, 200k dedup docs
    python -m bench.run --mb 5 --stream-mb 20 --dedup-docs 100000   # a quick look

Rows: each default stage alone (over documents already prepared to its input), decode beside a
bare ``bytes.decode('utf-8')`` loop, convert beside OpenCC's own ``t2s``, the default chain in one
process and in one process per core, the real CLI (``cleancorp -o DIR files…``), the naive chain
(charset-normalizer → ftfy.fix_text → OpenCC t2s) on a sample of the same corpus, one huge
document streamed through stdin, and cross-document dedup on many short documents.
The benchmark reports; it never fails on a number. Results: a table on stdout, then where the
time of the one-process chain goes (per stage, and the chain's own bookkeeping) and how the rows
are measured; everything also in ``bench/results.json``.

>>> format_mbps(12.3456)
'12.3'
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from bench.corpus import ROOT, WORK, build_corpus, clean_paragraphs, load_manifest
from cleancorp.pipeline import BATCH_BYTES, BATCH_DOCS

MB = 1024 * 1024

#: Targets the project tracks (reported beside the numbers, never enforced).
TARGET_CHAIN_MBPS = 20.0
TARGET_CHAIN_VS_NAIVE = 25.0
TARGET_DECODE_VS_UTF8 = 2.0
TARGET_CONVERT_VS_OPENCC = 20.0


def format_mbps(value: float) -> str:
    """MB/s with one decimal (three significant digits for slow rows)."""
    return f"{value:.1f}" if value >= 1 else f"{value:.3g}"


def _maxrss_mb(usage: resource.struct_rusage) -> float:
    # Linux reports ru_maxrss in KiB.
    return round(usage.ru_maxrss / 1024, 1)


def _own_peak_rss_mb() -> float:
    """Peak RSS of this process since it started its program. Not ru_maxrss: Linux carries that
    over from the parent across fork and exec, so a child of the (large) benchmark process would
    report the parent's peak."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return _maxrss_mb(resource.getrusage(resource.RUSAGE_SELF))


#: Runs a command and writes its peak RSS (KiB) to a file. Being a small fresh process, its
#: child inherits no large ru_maxrss, so RUSAGE_CHILDREN is the command's own peak.
PEAK_PROBE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as fh:
    fh.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def _probe(command: list[str], rss_file: Path, **popen: Any) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", PEAK_PROBE, str(rss_file), *command], **popen)


def _probed_rss_mb(rss_file: Path) -> float:
    try:
        return round(int(rss_file.read_text()) / 1024, 1)
    finally:
        rss_file.unlink(missing_ok=True)


def _row(label: str, nbytes: int, seconds: float, **extra: Any) -> dict[str, Any]:
    seconds = max(seconds, 1e-9)
    row = {"label": label, "bytes": nbytes, "seconds": round(seconds, 4), "mb_per_s": round(nbytes / MB / seconds, 3)}
    row.update(extra)
    return row


# -- the corpus ----------------------------------------------------------------------------


def load_pages(folder: Path) -> list[tuple[str, str, bytes]]:
    """(file name, kind, bytes) of every page of a built corpus."""
    manifest = load_manifest(folder)
    return [(p["file"], p["kind"], (folder / p["file"]).read_bytes()) for p in manifest["pages"]]


# -- in-process rows -----------------------------------------------------------------------


def _warm(name: str, samples: list[str | bytes] = ()) -> None:
    """Load what a stage loads lazily (tables, converters, models) on a throwaway instance, so
    the timed run measures cleaning, not start-up. ``samples``: one document of each kind, so
    tables loaded only for dirty text are loaded too."""
    from cleancorp.document import Document
    from cleancorp.registry import create_stage

    stage = create_stage(name)
    sample = "中國共產黨大渡口區委員會。\n首页 | 新闻\n全会充分肯定一年来的工作。"
    for item in [sample, *samples]:
        if stage.needs_bytes:
            doc = Document("warm", raw=item if isinstance(item, bytes) else item.encode("utf-8"))
        else:
            doc = Document("warm", text=item if isinstance(item, str) else item.decode("utf-8", "replace"))
        stage.apply(doc)


def first_of_each_kind(kinds: list[str]) -> list[int]:
    """Index of the first page of every kind.

    >>> first_of_each_kind(["clean", "gbk", "clean", "mojibake"])
    [0, 1, 3]
    """
    seen: dict[str, int] = {}
    for i, kind in enumerate(kinds):
        seen.setdefault(kind, i)
    return sorted(seen.values())


def stage_rows(pages: list[tuple[str, str, bytes]]) -> dict[str, dict[str, Any]]:
    """Each default-chain stage alone: documents are prepared to the stage's input by the stages
    before it (untimed); only ``stage.apply`` is timed, document by document, and each document
    is let go once the stage has seen it (only its text is kept, as the next stage's input), as
    in a streaming run. MB/s is of the corpus input bytes."""
    from cleancorp.document import Document
    from cleancorp.pipeline import DEFAULT_CHAIN
    from cleancorp.registry import create_stage

    total = sum(len(raw) for _, _, raw in pages)
    rows: dict[str, dict[str, Any]] = {}
    inputs: list[str | bytes] = [raw for _, _, raw in pages]
    kinds = [kind for _, kind, _ in pages]
    clock = time.perf_counter
    for name in DEFAULT_CHAIN:
        warm_idx = first_of_each_kind(kinds)
        _warm(name, [inputs[i] for i in warm_idx])
        stage = create_stage(name)
        apply = stage.apply
        seconds = 0.0
        touched = 0
        next_inputs: list[str | bytes] = []
        next_kinds: list[str] = []
        for i, item in enumerate(inputs):
            doc = Document(f"d{i}", raw=item) if stage.needs_bytes else Document(f"d{i}", text=item)
            t0 = clock()
            apply(doc)
            seconds += clock() - t0
            rec = doc.log.get(name)
            touched += rec is not None and not rec.is_empty()
            if doc.dropped is None:
                next_inputs.append(doc.text or "")
                next_kinds.append(kinds[i])
        rows[f"stage:{name}"] = _row(f"{name} alone", total, seconds, docs=len(inputs), docs_touched=touched)
        inputs, kinds = next_inputs, next_kinds
    return rows


def decode_vs_utf8(pages: list[tuple[str, str, bytes]], repeats: int = 5) -> dict[str, Any]:
    """The decode stage on the UTF-8 pages beside a bare ``bytes.decode('utf-8')`` loop over the
    same documents, in the same process and the same way: document by document, the stage
    (``apply`` on a fresh ``Document``, made untimed) and the bare decode each timed on their own,
    taking turns at going first, and let go before the next document, so neither keeps its output
    and a change of machine load hits both alike. Best total of ``repeats``.
    ratio = stage time / bare time."""
    from cleancorp.document import Document
    from cleancorp.registry import create_stage

    raws = [raw for _, kind, raw in pages if kind != "gbk" and kind != "big5-traditional"]
    total = sum(map(len, raws))
    _warm("decode", raws[:1])
    clock = time.perf_counter
    best_stage = best_bare = float("inf")
    for _ in range(repeats):
        apply = create_stage("decode").apply
        stage_seconds = bare_seconds = 0.0
        for i, raw in enumerate(raws):
            doc = Document("d", raw=raw)
            if i % 2:
                t0 = clock()
                text = raw.decode("utf-8")
                t1 = clock()
                apply(doc)
                t2 = clock()
                bare_seconds += t1 - t0
                stage_seconds += t2 - t1
            else:
                t0 = clock()
                apply(doc)
                t1 = clock()
                text = raw.decode("utf-8")
                t2 = clock()
                stage_seconds += t1 - t0
                bare_seconds += t2 - t1
            del doc, text
        best_stage = min(best_stage, stage_seconds)
        best_bare = min(best_bare, bare_seconds)
    ratio = best_stage / max(best_bare, 1e-9)
    return _row(
        "decode vs bare utf-8", total, best_stage, ratio=round(ratio, 2), ratio_means="stage time / bytes.decode time",
        target=f"<= {TARGET_DECODE_VS_UTF8:g}x", bare_mb_per_s=round(total / MB / max(best_bare, 1e-9), 1),
        docs=len(raws),
    )


def convert_vs_opencc(pages: list[tuple[str, str, bytes]], max_mb: float) -> dict[str, Any]:
    """The convert stage beside opencc-python-reimplemented's ``OpenCC('t2s').convert`` on the
    same traditional pages (up to ``max_mb`` of them). ratio = stage MB/s / OpenCC MB/s."""
    from opencc import OpenCC

    from cleancorp.document import Document
    from cleancorp.registry import create_stage
    from cleancorp.stages.decode import decode_bytes

    texts: list[str] = []
    size = 0
    for _, kind, raw in pages:
        if kind in ("traditional", "big5-traditional"):
            text = decode_bytes(raw)[0] or ""
            texts.append(text)
            size += len(text.encode("utf-8"))
            if size >= max_mb * MB:
                break
    _warm("convert", texts[:1])
    apply = create_stage("convert").apply
    clock = time.perf_counter
    stage_seconds = 0.0
    for text in texts:
        doc = Document("t", text=text)
        t0 = clock()
        apply(doc)
        stage_seconds += clock() - t0
    reference = OpenCC("t2s")
    t0 = clock()
    for text in texts:
        reference.convert(text)
    ref_seconds = clock() - t0
    ratio = ref_seconds / max(stage_seconds, 1e-9)
    return _row(
        "convert vs OpenCC t2s", size, stage_seconds, ratio=round(ratio, 1), ratio_means="stage MB/s / OpenCC MB/s",
        target=f">= {TARGET_CONVERT_VS_OPENCC:g}x", opencc_mb_per_s=round(size / MB / max(ref_seconds, 1e-9), 3),
        docs=len(texts),
    )


def naive_chain(pages: list[tuple[str, str, bytes]], max_mb: float) -> dict[str, Any]:
    """charset-normalizer → ftfy.fix_text (defaults) → OpenCC('t2s').convert on an evenly spread
    sample of the corpus (about ``max_mb``), as the design's packages give it."""
    import charset_normalizer
    import ftfy
    from opencc import OpenCC

    total = sum(len(raw) for _, _, raw in pages)
    step = max(1, int(total / (max_mb * MB)))
    sample = [raw for _, _, raw in pages[::step]]
    converter = OpenCC("t2s")
    clock = time.perf_counter
    t0 = clock()
    for raw in sample:
        best = charset_normalizer.from_bytes(raw).best()
        text = str(best) if best is not None else raw.decode("utf-8", "replace")
        converter.convert(ftfy.fix_text(text))
    seconds = clock() - t0
    return _row("naive chain", sum(map(len, sample)), seconds, docs=len(sample))


# -- rows in child processes (peak RSS of their own) ----------------------------------------


def _chain_worker(folder: str, files: list[str], warm_files: list[str], barrier: Any, results: Any) -> None:
    """Run the default chain over ``files``, after every worker is ready, through
    ``Pipeline.run`` on the pages as they are read (in batches, as the JSONL CLI and the Python
    API run it); time only processing: reading the files is timed apart and left out (lazily
    loaded tables are loaded first, on ``warm_files`` through a throwaway pipeline)."""
    from cleancorp.pipeline import Pipeline

    warm = Pipeline()
    for name in warm_files:
        warm.process((Path(folder) / name).read_bytes())
    pipeline = Pipeline()
    barrier.wait()
    clock = time.perf_counter
    reading = 0.0
    nbytes = 0

    def pages():
        nonlocal reading, nbytes
        for name in files:
            t0 = clock()
            with open(os.path.join(folder, name), "rb") as fh:
                raw = fh.read()
            reading += clock() - t0
            nbytes += len(raw)
            yield raw

    kept = 0
    t0 = clock()
    for _ in pipeline.run(pages()):
        kept += 1
    seconds = clock() - t0 - reading
    pipeline.close()
    stages = {s.name: round(s.seconds, 4) for s in pipeline.stats}
    results.put({"bytes": nbytes, "seconds": seconds, "kept": kept, "docs": len(files), "stages": stages,
                 "peak_rss_mb": _own_peak_rss_mb()})


def _collect(procs: list[Any], results: Any) -> list[dict[str, Any]]:
    """One result per child; a child that died without one is an error, not a hang."""
    import queue

    got: list[dict[str, Any]] = []
    while len(got) < len(procs):
        try:
            got.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead or all(p.exitcode is not None for p in procs) and results.empty():
                for p in procs:
                    p.kill()
                raise RuntimeError(f"a benchmark process failed (exit code {dead[0].exitcode if dead else 0})")
    for p in procs:
        p.join()
    return got


def chain_processes(folder: Path, files: list[str], workers: int, warm_files: list[str] = ()) -> dict[str, Any]:
    """The default chain through ``Pipeline.run`` on raw bytes, in ``workers`` fresh
    processes over interleaved shards; MB/s = all bytes / the slowest worker's time."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    shards = [files[i::workers] for i in range(workers)]
    procs = [ctx.Process(target=_chain_worker, args=(str(folder), shard, list(warm_files) or shard[:1], barrier, results)) for shard in shards]
    for p in procs:
        p.start()
    got = _collect(procs, results)
    nbytes = sum(g["bytes"] for g in got)
    seconds = max(g["seconds"] for g in got)
    label = "default chain, 1 process" if workers == 1 else f"default chain, {workers} processes"
    stages: dict[str, float] = {}
    for g in got:
        for name, value in g["stages"].items():
            stages[name] = round(stages.get(name, 0.0) + value, 4)
    return _row(
        label, nbytes, seconds, workers=workers, docs=sum(g["docs"] for g in got), kept=sum(g["kept"] for g in got),
        peak_rss_mb=max(g["peak_rss_mb"] for g in got), stage_seconds=stages,
        process_seconds=round(sum(g["seconds"] for g in got), 4),
    )


def cli_end_to_end(folder: Path, files: list[str], work: Path) -> dict[str, Any]:
    """`cleancorp -q -o DIR files…` as a user runs it: start-up, reading, writing included."""
    out = work / "cli-out"
    shutil.rmtree(out, ignore_errors=True)
    nbytes = sum((folder / f).stat().st_size for f in files)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rss_file = work / "cli.rss"
    t0 = time.perf_counter()
    proc = _probe([sys.executable, "-m", "cleancorp", "-q", "-o", str(out), *files], rss_file,
                  cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err_bytes = proc.communicate()
    code = proc.returncode
    seconds = time.perf_counter() - t0
    err = err_bytes.decode("utf-8", "replace")
    written = len(os.listdir(out)) if out.is_dir() else 0
    shutil.rmtree(out, ignore_errors=True)
    return _row("CLI end-to-end (-o DIR)", nbytes, seconds, exit_code=code, files_in=len(files),
                files_out=written, peak_rss_mb=_probed_rss_mb(rss_file), stderr_tail=err[-300:])


def stream_document(total_mb: float, work: Path, *options: str) -> dict[str, Any]:
    """One document of ``total_mb`` MB generated on the fly and piped through `cleancorp` on
    stdin (with ``options``); the output is counted and discarded. Reports MB/s and the
    child's peak RSS."""
    paras = clean_paragraphs()
    target = int(total_mb * MB)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    work.mkdir(parents=True, exist_ok=True)
    rss_file = work / "stream.rss"
    t0 = time.perf_counter()
    proc = _probe([sys.executable, "-m", "cleancorp", "-q", *options], rss_file, cwd=ROOT, env=env,
                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    counted = {"out": 0, "err": b""}

    def drain_out() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1 << 20):
            counted["out"] += len(chunk)

    def drain_err() -> None:
        assert proc.stderr is not None
        counted["err"] = proc.stderr.read()

    threads = [threading.Thread(target=drain_out), threading.Thread(target=drain_err)]
    for t in threads:
        t.start()
    sent = 0
    number = 0
    assert proc.stdin is not None
    try:
        while sent < target:
            # Paragraphs numbered so that the document does not repeat itself.
            block = []
            for _ in range(200):
                para = paras[number % len(paras)]
                block.append(f"{para}（{number}）\n")
                number += 1
            data = "".join(block).encode("utf-8")[: target - sent]
            proc.stdin.write(data)
            sent += len(data)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    for t in threads:
        t.join()
    code = proc.wait()
    seconds = time.perf_counter() - t0
    label = f"{total_mb:g} MB document via stdin" + (f" ({' '.join(options)})" if options else "")
    return _row(label, sent, seconds, exit_code=code, bytes_out=counted["out"],
                peak_rss_mb=_probed_rss_mb(rss_file), stderr_tail=counted["err"].decode("utf-8", "replace")[-300:])


def _resident_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _dedup_worker(count: int, results: Any) -> None:
    """Cross-document dedup over ``count`` short generated documents (one in ten repeats an
    earlier one); reports time of ``apply`` and resident bytes gained per document."""
    import gc
    import random

    from cleancorp.document import Document
    from cleancorp.registry import create_stage

    paras = [p for p in clean_paragraphs() if len(p) >= 12]
    rng = random.Random(7)
    stage = create_stage("dedup")
    _warm("dedup")
    gc.collect()
    before = _resident_bytes()
    clock = time.perf_counter
    seconds = 0.0
    nbytes = dropped = 0
    batch = 10_000
    for start in range(0, count, batch):
        texts = []
        for n in range(start, min(count, start + batch)):
            k = rng.randrange(n) if n and n % 10 == 0 else n
            texts.append(f"{paras[k % len(paras)][:40]}（编号{k}）")
        docs = [Document(f"d{start + i}", text=t) for i, t in enumerate(texts)]
        nbytes += sum(len(t.encode("utf-8")) for t in texts)
        t0 = clock()
        for doc in docs:
            stage.apply(doc)
        seconds += clock() - t0
        dropped += sum(1 for d in docs if d.dropped is not None)
        del docs, texts
    gc.collect()
    grown = _resident_bytes() - before
    results.put({"bytes": nbytes, "seconds": seconds, "dropped": dropped, "bytes_per_doc": round(grown / count, 1),
                 "peak_rss_mb": _own_peak_rss_mb()})


def dedup_many(count: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=_dedup_worker, args=(count, results))
    proc.start()
    got = _collect([proc], results)[0]
    return _row(f"dedup, {count:,} short docs", got["bytes"], got["seconds"], docs=count, dropped=got["dropped"],
                bytes_per_doc=got["bytes_per_doc"], peak_rss_mb=got["peak_rss_mb"])


# -- the whole run --------------------------------------------------------------------------


def corpus_shards(pages: list[tuple[str, str, bytes]], docs: int, work: Path, shard_docs: int = 1000) -> Path:
    """``docs`` short documents (a few paragraphs of the benchmark pages each, chrome and dirt
    included) in JSONL shards of ``shard_docs``, written once and cached under ``work``."""
    import json as _json

    from cleancorp.stages.decode import decode_bytes

    folder = work / f"corpus-jsonl-{docs}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts = [decode_bytes(raw)[0] or "" for _, _, raw in pages]
    n = 0
    shard = 0
    while n < docs:
        lines = []
        for _ in range(min(shard_docs, docs - n)):
            page = texts[n % len(texts)].split("\n")
            start = (n // len(texts)) * 3 % max(1, len(page))
            body = "\n".join(page[start : start + 4]) or texts[n % len(texts)]
            lines.append(_json.dumps({"id": f"d{n}", "text": body}, ensure_ascii=False))
            n += 1
        (folder / f"shard-{shard:05d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        shard += 1
    done.write_text("ok\n")
    return folder


def corpus_command(folder: Path, jobs: int, work: Path) -> dict[str, Any]:
    """`cleancorp corpus IN OUT -q -j N` over the JSONL shards, start-up and writing included."""
    out = work / f"corpus-out-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    nbytes = sum(f.stat().st_size for f in folder.glob("*.jsonl"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rss_file = work / f"corpus-{jobs}.rss"
    t0 = time.perf_counter()
    proc = _probe([sys.executable, "-m", "cleancorp", "corpus", str(folder), str(out), "-q", "-j", str(jobs)], rss_file,
                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err_bytes = proc.communicate()
    seconds = time.perf_counter() - t0
    summary = json.loads((out / "_cleancorp" / "summary.json").read_text(encoding="utf-8")) if proc.returncode == 0 else {}
    shutil.rmtree(out, ignore_errors=True)
    return _row(f"corpus command, -j {jobs}", nbytes, seconds, exit_code=proc.returncode, jobs=jobs,
                docs=summary.get("docs_in", 0), kept=summary.get("docs_kept", 0),
                peak_rss_mb=_probed_rss_mb(rss_file), stderr_tail=err_bytes.decode("utf-8", "replace")[-300:])


def machine() -> dict[str, Any]:
    return {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


def run(mb: float = 50, seed: int = 1, workers: int | None = None, naive_mb: float = 3, convert_ref_mb: float = 0.5,
        stream_mb: float = 200, dedup_docs: int = 200_000, corpus_docs: int = 100_000, work: Path = WORK,
        progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """Measure every row; return the results dict that ``bench/results.json`` holds."""
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    progress(f"corpus: {mb:g} MB (seed {seed}) in {work}")
    folder = build_corpus(mb, seed, work)
    pages = load_pages(folder)
    files = [f for f, _, _ in pages]
    kinds: dict[str, int] = {}
    for _, kind, _ in pages:
        kinds[kind] = kinds.get(kind, 0) + 1
    rows: dict[str, dict[str, Any]] = {}
    progress("stages alone")
    rows.update(stage_rows(pages))
    progress("decode vs bare utf-8")
    rows["decode_vs_utf8"] = decode_vs_utf8(pages)
    progress("convert vs OpenCC")
    rows["convert_vs_opencc"] = convert_vs_opencc(pages, convert_ref_mb)
    progress("default chain, 1 process")
    warm_files = [files[i] for i in first_of_each_kind([kind for _, kind, _ in pages])]
    rows["chain_1"] = chain_processes(folder, files, 1, warm_files)
    progress(f"default chain, {workers} processes")
    rows["chain_all"] = chain_processes(folder, files, workers, warm_files)
    progress("CLI end-to-end")
    rows["cli"] = cli_end_to_end(folder, files, work)
    progress("naive chain")
    rows["naive"] = naive_chain(pages, naive_mb)
    if corpus_docs:
        progress(f"corpus command on {corpus_docs:,} documents, -j 1 and -j {workers}")
        shards = corpus_shards(pages, corpus_docs, work)
        rows["corpus_1"] = corpus_command(shards, 1, work)
        rows["corpus_all"] = corpus_command(shards, workers, work)
        rows["corpus_all"].update(ratio=round(rows["corpus_all"]["mb_per_s"] / max(rows["corpus_1"]["mb_per_s"], 1e-9), 2),
                                  ratio_means="speed-up over -j 1")
    del pages
    ratio = rows["chain_1"]["mb_per_s"] / max(rows["naive"]["mb_per_s"], 1e-9)
    rows["chain_1"].update(ratio=round(ratio, 1), ratio_means="chain MB/s / naive MB/s",
                           target=f">= {TARGET_CHAIN_MBPS:g} MB/s and >= {TARGET_CHAIN_VS_NAIVE:g}x naive")
    rows["chain_all"]["ratio"] = round(rows["chain_all"]["mb_per_s"] / max(rows["naive"]["mb_per_s"], 1e-9), 1)
    rows["chain_all"]["ratio_means"] = "chain MB/s / naive MB/s (one process)"
    if stream_mb:
        progress(f"{stream_mb:g} MB document via stdin")
        rows["stream"] = stream_document(stream_mb, work)
        rows["stream_small_buffer"] = stream_document(stream_mb, work, "--max-doc-mb", "4")
    if dedup_docs:
        progress(f"dedup on {dedup_docs:,} documents")
        rows["dedup_many"] = dedup_many(dedup_docs)
    return {
        "machine": machine(),
        "corpus": {"mb": mb, "seed": seed, "bytes": load_manifest(folder)["bytes"], "pages": len(files), "kinds": kinds,
                   "shared_corpus_used": (ROOT.parent / "shared" / "corpora" / "zh-clean").is_dir()},
        "rows": rows,
        "seconds_total": round(time.perf_counter() - started, 1),
    }


def format_table(results: dict[str, Any]) -> str:
    """The rows as a fixed-width table: MB/s, ratio (with its target), peak RSS."""
    head = ("row", "MB/s", "ratio", "target", "peak RSS", "notes")
    lines = [head]
    for key, row in results["rows"].items():
        ratio = f"{row['ratio']:g}x" if "ratio" in row else ""
        rss = f"{row['peak_rss_mb']:.0f} MB" if "peak_rss_mb" in row else "-"
        notes = []
        if "bare_mb_per_s" in row:
            notes.append(f"bare utf-8 {row['bare_mb_per_s']:g} MB/s")
        if "opencc_mb_per_s" in row:
            notes.append(f"OpenCC {row['opencc_mb_per_s']:g} MB/s")
        if "bytes_per_doc" in row:
            notes.append(f"{row['bytes_per_doc']:g} B/doc")
        if "exit_code" in row and row["exit_code"]:
            notes.append(f"exit {row['exit_code']}")
        notes.append(f"{row['bytes'] / MB:.1f} MB in {row['seconds']:.2f}s")
        lines.append((row["label"], format_mbps(row["mb_per_s"]), ratio, row.get("target", ""), rss, "; ".join(notes)))
    widths = [max(len(r[i]) for r in lines) for i in range(len(head))]
    out = ["  ".join(c.rjust(w) if i in (1, 2, 4) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
           for r in lines]
    m = results["machine"]
    out.insert(0, f"machine: {m['cpu_count']} cores, Python {m['python']}; corpus {results['corpus']['bytes'] / MB:.1f} MB, "
                  f"{results['corpus']['pages']} pages")
    return "\n".join(out)


#: How the rows are measured, printed under the table.
METHOD = f"""how it measures: documents stream as in the CLI: each is made, cleaned and let go soon after, so no
row holds thousands of live documents (their garbage collection and fresh memory would be timed too).
'X alone' times stage.apply per document, on the previous stages' output; 'decode vs bare utf-8' times
the stage and bytes.decode('utf-8') on each UTF-8 page one after the other (taking turns at going
first), best of 5; the chain rows time Pipeline.run over the pages as they are read from disk (reading
not timed), which takes documents in batches of {BATCH_DOCS} (at most ~{BATCH_BYTES // MB} MB), as the JSONL CLI and the Python API do."""


def format_breakdown(results: dict[str, Any]) -> str:
    """Where the time of the one-process chain goes: seconds, share and cost per page of each
    stage, and the chain's own bookkeeping (process time outside every stage).

    >>> row = {"bytes": 2 * MB, "docs": 4000, "process_seconds": 1.0, "stage_seconds": {"decode": 0.25, "dedup": 0.7}}
    >>> print(format_breakdown({"rows": {"chain_1": row}}))
    where the time goes (default chain, 1 process: 4000 pages, 2.0 MB)
    stage       seconds  share  us/page    MB/s
    decode        0.250  25.0%     62.5     8.0
    dedup         0.700  70.0%    175.0     2.9
    (chain)       0.050   5.0%     12.5    40.0
    total         1.000   100%    250.0     2.0
    """
    row = results["rows"].get("chain_1")
    if not row or "stage_seconds" not in row:
        return ""
    total = row["process_seconds"]
    docs = max(1, row["docs"])
    mb = row["bytes"] / MB
    parts = list(row["stage_seconds"].items())
    parts.append(("(chain)", max(0.0, total - sum(row["stage_seconds"].values()))))
    parts.append(("total", total))
    lines = [f"where the time goes (default chain, 1 process: {row['docs']} pages, {mb:.1f} MB)",
             f"{'stage':<11} {'seconds':>7} {'share':>6} {'us/page':>8} {'MB/s':>7}"]
    for name, seconds in parts:
        share = "100%" if name == "total" else f"{100 * seconds / max(total, 1e-12):.1f}%"
        lines.append(f"{name:<11} {seconds:>7.3f} {share:>6} {1e6 * seconds / docs:>8.1f} "
                     f"{format_mbps(mb / max(seconds, 1e-9)):>7}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.run", description="Throughput and memory of cleancorp.")
    p.add_argument("--mb", type=float, default=50, help="size of the generated corpus (default 50)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workers", type=int, default=0, help="processes for the all-cores row (default: cpu count)")
    p.add_argument("--naive-mb", type=float, default=3, help="sample size for the naive chain (default 3)")
    p.add_argument("--convert-ref-mb", type=float, default=0.5, help="traditional text for convert vs OpenCC")
    p.add_argument("--stream-mb", type=float, default=200, help="size of the stdin document (0: skip)")
    p.add_argument("--dedup-docs", type=int, default=200_000, help="short documents for the dedup row (default 200000; 0: skip)")
    p.add_argument("--corpus-docs", type=int, default=100_000, help="short documents in JSONL shards for the corpus command rows (-j 1 and all cores; 0: skip)")
    p.add_argument("--work", type=Path, default=WORK, help="cache folder for the corpus (default bench/work)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    args = p.parse_args(argv)
    results = run(args.mb, args.seed, args.workers or None, args.naive_mb, args.convert_ref_mb, args.stream_mb,
                  args.dedup_docs, args.corpus_docs, args.work, progress=lambda msg: print(f"... {msg}", file=sys.stderr, flush=True))
    table = format_table(results)
    print(table)
    print()
    print(format_breakdown(results))
    print()
    print(METHOD)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
