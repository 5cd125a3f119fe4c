"""Run stages in order over a stream of documents, with per-stage counters."""
from __future__ import annotations

import itertools
import os
import time
import tomllib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from .document import Document
from .registry import OptionError, Stage, create_stage, get_stage_class

#: The default chain, in order. Repair must come before convert: conversion rewrites garbled
#: characters into other valid characters and makes the garble unrecoverable.
DEFAULT_CHAIN: tuple[str, ...] = ("decode", "repair", "convert", "normalize", "boilerplate", "dedup")

T = TypeVar("T")

#: Documents per batch in :meth:`Pipeline.run`: enough that dedup's sketches of a batch cost a
#: fraction of one call per document; small enough that the batch stays in the cache.
BATCH_DOCS = 64
#: Text (characters) or raw bytes per batch: memory stays bounded whatever the documents' size.
BATCH_BYTES = 1 << 20


@dataclass
class StageStats:
    """Counters of one stage over one run."""

    name: str
    docs_in: int = 0
    docs_out: int = 0
    docs_changed: int = 0
    chars_changed: int = 0
    lines_removed: int = 0
    seconds: float = 0.0

    @property
    def docs_dropped(self) -> int:
        return self.docs_in - self.docs_out

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.name,
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "docs_dropped": self.docs_dropped,
            "docs_changed": self.docs_changed,
            "chars_changed": self.chars_changed,
            "lines_removed": self.lines_removed,
            "seconds": round(self.seconds, 6),
        }


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a TOML config: ``stages``/``skip`` lists at the top, one table of options per stage.

    Example::

        stages = ["decode", "repair", "convert", "normalize"]
        [convert]
        profile = "tw2s"
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise OptionError(f"config {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise OptionError(f"config {path}: not valid TOML: {exc}") from None
    return data


def resolve_chain(
    stages: Sequence[str] | None = None,
    skip: Sequence[str] = (),
) -> list[str]:
    names = list(stages) if stages else list(DEFAULT_CHAIN)
    for name in list(names) + list(skip):
        get_stage_class(name)  # raises OptionError on an unknown name
    skipped = set(skip)
    return [n for n in names if n not in skipped]


def chain_spec(
    path: str | os.PathLike[str] | None = None,
    *,
    stages: Sequence[str] | None = None,
    skip: Sequence[str] = (),
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The chain (stage names) and per-stage options of a TOML config file, with explicit
    arguments taking precedence over the file."""
    merged: dict[str, dict[str, Any]] = {}
    cfg_stages: Sequence[str] | None = None
    cfg_skip: list[str] = []
    if path is not None:
        data = load_config(path)
        cfg_stages = data.pop("stages", None)
        cfg_skip = list(data.pop("skip", []))
        for key, value in data.items():
            if not isinstance(value, dict):
                raise OptionError(f"config {path}: top-level key {key!r} is not a stage table")
            merged[key] = dict(value)
    for name, opts in (options or {}).items():
        merged.setdefault(name, {}).update(opts)
    return resolve_chain(stages or cfg_stages, list(skip) + cfg_skip), merged


class Pipeline:
    """An ordered chain of stages.

    >>> p = Pipeline(["repair", "normalize"])
    >>> [d.text for d in p.run(["????第一段。  \\n\\n\\n第二段。"])]
    ['第一段。\\n第二段。']

    ``stages`` holds stage names or built stages (default: the full default chain);
    ``options`` maps a stage name to its options. ``run`` streams: it takes any iterable of
    documents, strings, bytes or dicts and yields documents in input order, cleaned in batches.
    """

    def __init__(
        self,
        stages: Sequence[str | Stage] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        skip: Sequence[str] = (),
        drop_empty: bool = True,
    ) -> None:
        self.drop_empty = drop_empty
        options = {k: dict(v) for k, v in (options or {}).items()}
        if stages is None:
            stages = resolve_chain(None, skip)
        built: list[Stage] = []
        for item in stages:
            if isinstance(item, Stage):
                if item.name not in skip:
                    built.append(item)
                continue
            if item in skip:
                continue
            built.append(create_stage(item, options.get(item)))
        unknown_opts = set(options) - {s.name for s in built}
        for name in unknown_opts:
            get_stage_class(name)  # unknown stage names in options are errors; skipped ones are not
        self.stages: list[Stage] = built
        self.stats: list[StageStats] = [StageStats(s.name) for s in built]
        self.docs_in = 0
        self.docs_out = 0
        self.dropped: dict[str, int] = {}
        self._counter = itertools.count(1)

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        stages: Sequence[str] | None = None,
        skip: Sequence[str] = (),
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> "Pipeline":
        """Build from a TOML file, then let explicit arguments override it."""
        chain, merged = chain_spec(path, stages=stages, skip=skip, options=options)
        return cls(chain, merged)

    @property
    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    # -- running ---------------------------------------------------------------------------

    def _as_document(self, item: Any) -> Document:
        if isinstance(item, Document):
            return item
        n = next(self._counter)
        if isinstance(item, str):
            return Document(f"doc-{n}", text=item)
        if isinstance(item, (bytes, bytearray, memoryview)):
            return Document(f"doc-{n}", raw=bytes(item))
        if isinstance(item, Mapping):
            meta = dict(item)
            text = meta.pop("text", None)
            doc_id = str(meta.pop("id", f"doc-{n}"))
            if isinstance(text, bytes):
                return Document(doc_id, raw=text, metadata=meta)
            if text is not None and not isinstance(text, str):
                raise TypeError(f"document {doc_id}: text must be str or bytes")
            return Document(doc_id, text=text or "", metadata=meta)
        raise TypeError(f"cannot clean a {type(item).__name__}; give str, bytes, dict or Document")

    def process(self, doc: Document | str | bytes | Mapping[str, Any]) -> Document:
        """Run every stage on one document; return it (``doc.dropped`` says if it was dropped).

        The loop of :meth:`process_batch` for one document, written out: on a clean page the
        chain itself does little, and the batch's lists would be a visible share of the time.
        """
        doc = self._as_document(doc)
        self.docs_in += 1
        clock = time.perf_counter
        for stage, stats in zip(self.stages, self.stats):
            before = doc.text
            if before is None and not stage.needs_bytes:
                _decode_plain(doc)
                before = doc.text
            stats.docs_in += 1
            t0 = clock()
            stage.apply(doc)
            stats.seconds += clock() - t0
            if not self._tally(stats, stage.name, doc, before):
                return doc
        self._finish(doc)
        return doc

    def process_batch(self, items: Sequence[Document | str | bytes | Mapping[str, Any]]) -> list[Document]:
        """Run every stage over a batch of documents; return them in order (dropped ones too).

        Each stage sees the documents of the batch still kept, in order, at once
        (:meth:`Stage.apply_batch`): the texts, drops, reports and counters are those of
        :meth:`process` on each document in turn, for fewer calls into the stages.

        >>> p = Pipeline(["normalize", "dedup"])
        >>> [d.dropped for d in p.process_batch(["一段正文内容足够长，可以比较。", "  ", "一段正文内容足够长，可以比较。"])]
        [None, 'empty', 'duplicate']
        >>> p.stats[1].docs_in, p.stats[1].docs_out, p.docs_out
        (3, 2, 1)
        """
        docs = [self._as_document(item) for item in items]
        self.docs_in += len(docs)
        clock = time.perf_counter
        tally = self._tally
        live = docs
        for stage, stats in zip(self.stages, self.stats):
            if not live:
                break
            if not stage.needs_bytes:
                for doc in live:
                    if doc.text is None:
                        _decode_plain(doc)
            before = [doc.text for doc in live]
            stats.docs_in += len(live)
            t0 = clock()
            if len(live) == 1:
                stage.apply(live[0])
            else:
                stage.apply_batch(live)
            stats.seconds += clock() - t0
            name = stage.name
            # Counted after the whole batch: a stage writes only to the document it works on.
            live = [doc for doc, text in zip(live, before) if tally(stats, name, doc, text)]
        for doc in live:
            self._finish(doc)
        return docs

    def _tally(self, stats: StageStats, name: str, doc: Document, before: str | None) -> bool:
        """:func:`tally_stage`, and count the drop reason of a document that went no further."""
        if tally_stage(stats, name, doc, before):
            return True
        self.dropped[doc.dropped] = self.dropped.get(doc.dropped, 0) + 1
        return False

    def _finish(self, doc: Document) -> None:
        """After the last stage: drop a document with no text left, count a kept one."""
        if doc.text is None:
            _decode_plain(doc)
        # isspace, not strip: strip would copy the whole text to find it is not blank.
        if self.drop_empty and (not doc.text or doc.text.isspace()):
            # Nothing is left to keep (an empty input, or a page of chrome only).
            doc.drop("empty", "pipeline")
            self.dropped["empty"] = self.dropped.get("empty", 0) + 1
        else:
            self.docs_out += 1

    def batches(
        self, items: Iterable[Any], size: int = BATCH_DOCS, max_bytes: int = BATCH_BYTES
    ) -> Iterator[list[Document]]:
        """``items`` as documents, in consecutive batches (:func:`batched`).

        >>> p = Pipeline(["normalize"])
        >>> [len(b) for b in p.batches(["甲", "乙", "丙", "x" * 50, "丁"], size=2, max_bytes=40)]
        [2, 1, 1, 1]
        """
        return batched(map(self._as_document, items), document_weight, size, max_bytes)

    def run(self, items: Iterable[Any], *, keep_dropped: bool = False, batch: int = BATCH_DOCS) -> Iterator[Document]:
        """Stream documents through the chain; yield kept ones (and dropped ones if asked), in
        input order. Documents go through in batches (:meth:`batches`, ``batch`` documents at
        most; ``batch=1``: one at a time, nothing read ahead); the output is the same."""
        for docs in self.batches(items, batch):
            for doc in self.process_batch(docs):
                if doc.dropped is None or keep_dropped:
                    yield doc

    def warm_up(self) -> None:
        """Load every stage's tables now (:meth:`Stage.warm_up`): before forking workers."""
        for stage in self.stages:
            stage.warm_up()

    def close(self) -> None:
        for stage in self.stages:
            stage.close()

    def take_stats(self) -> list[StageStats]:
        """The per-stage counters so far, resetting them (workers report per task)."""
        taken = self.stats
        self.stats = [StageStats(s.name) for s in self.stages]
        return taken

    # -- reporting -------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        return {
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "dropped": dict(sorted(self.dropped.items())),
            "stages": [s.to_json() for s in self.stats],
        }

    def format_summary(self) -> str:
        total = sum(s.seconds for s in self.stats) or 1e-12
        rows = [("stage", "in", "out", "changed", "chars", "lines-", "time")]
        for s in self.stats:
            rows.append(
                (
                    s.name,
                    str(s.docs_in),
                    str(s.docs_out),
                    str(s.docs_changed),
                    str(s.chars_changed),
                    str(s.lines_removed),
                    f"{s.seconds:.3f}s {100 * s.seconds / total:4.1f}%",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
        dropped = ", ".join(f"{k}: {v}" for k, v in sorted(self.dropped.items())) or "none"
        lines.append(f"documents: {self.docs_in} in, {self.docs_out} out; dropped: {dropped}")
        return "\n".join(lines)


def document_weight(doc: Document) -> int:
    """What a document counts for in a batch: its characters, or its bytes while undecoded."""
    return len(doc.text) if doc.text is not None else len(doc.raw or b"")


def batched(
    items: Iterable[T], weigh: Callable[[T], int | None], size: int = BATCH_DOCS, max_bytes: int = BATCH_BYTES
) -> Iterator[list[T]]:
    """Consecutive batches of ``items`` with at most ``size`` documents and about ``max_bytes``
    of them (``weigh`` gives a document's size, None for an item that is no document: it rides
    along uncounted). A document larger than ``max_bytes`` is a batch of its own, so a batch
    holds at most ``max_bytes`` plus one document. Reads no further ahead than the batch it is
    filling; when reading fails, the batch read so far comes out before the error.

    >>> [len(b) for b in batched(["ab", "c", "-", "defg", "h"], lambda s: None if s == "-" else len(s), 3, 4)]
    [3, 1, 1]
    """
    if size < 1:
        raise ValueError("a batch holds at least one document")
    batch: list[T] = []
    count = held = 0
    try:
        for item in items:
            weight = weigh(item)
            if weight is not None:
                if count and held + weight > max_bytes:
                    yield batch
                    batch, count, held = [], 0, 0
                count += 1
                held += weight
            batch.append(item)
            if count >= size or held >= max_bytes:
                yield batch
                batch, count, held = [], 0, 0
    except Exception:
        # An item that is no document (or a failing source) ends the stream where it stands:
        # what was read before it is still cleaned and given out first.
        if batch:
            yield batch
        raise
    if batch:
        yield batch


def stage_enter(stage: Stage, stats: StageStats, doc: Document) -> str | None:
    """Counters before ``stage`` sees ``doc``; returns the text to compare with afterwards.
    (Engines that run a stage in parts call this pair around the parts.)"""
    if doc.text is None and not stage.needs_bytes:
        _decode_plain(doc)
    stats.docs_in += 1
    return doc.text


def stage_leave(stage: Stage, stats: StageStats, doc: Document, before: str | None, seconds: float) -> None:
    """Counters after ``stage`` has seen ``doc``: time, changes, and whether it went on."""
    stats.seconds += seconds
    tally_stage(stats, stage.name, doc, before)


def tally_stage(stats: StageStats, name: str, doc: Document, before: str | None) -> bool:
    """Count what stage ``name`` did to ``doc`` (its text was ``before``): characters changed,
    lines removed, whether the text changed; True (and counted out) when the document goes on.
    The one place these counters are kept, for Pipeline and for the engines."""
    rec = doc.log.get(name)
    if rec is not None:
        stats.chars_changed += rec.chars_changed
        if rec.info:  # lines_removed is read from info: skip the lookup when it is empty
            stats.lines_removed += rec.lines_removed
    after = doc.text
    if after is not before and after != before:
        stats.docs_changed += 1
    if doc.dropped is not None:
        return False
    stats.docs_out += 1
    return True


def _decode_plain(doc: Document) -> None:
    """Text for a document whose bytes reached a text stage without the decode stage."""
    raw = doc.raw or b""
    doc.text = raw.decode("utf-8", "replace")
    doc.raw = None
