"""Run stages in order over a stream of documents, with per-stage counters."""
from __future__ import annotations

import itertools
import os
import time
import tomllib
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .document import Document
from .registry import OptionError, Stage, create_stage, get_stage_class

#: The default chain, in order. Repair must come before convert: conversion rewrites garbled
#: characters into other valid characters and makes the garble unrecoverable.
DEFAULT_CHAIN: tuple[str, ...] = ("decode", "repair", "convert", "normalize", "boilerplate", "dedup")


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
    documents, strings, bytes or dicts and yields documents one at a time.
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
        """Run every stage on one document; return it (``doc.dropped`` says if it was dropped)."""
        doc = self._as_document(doc)
        self.docs_in += 1
        clock = time.perf_counter
        log = doc.log
        # stage_enter and stage_leave, inlined: on a clean page the chain itself does little,
        # so two calls per stage would be a visible share of the time.
        for stage, stats in zip(self.stages, self.stats):
            before = doc.text
            if before is None and not stage.needs_bytes:
                _decode_plain(doc)
                before = doc.text
            stats.docs_in += 1
            t0 = clock()
            stage.apply(doc)
            stats.seconds += clock() - t0
            rec = log.get(stage.name)
            if rec is not None:
                stats.chars_changed += rec.chars_changed
                if rec.info:
                    stats.lines_removed += rec.lines_removed
            after = doc.text
            if after is not before and after != before:
                stats.docs_changed += 1
            if doc.dropped is not None:
                self.dropped[doc.dropped] = self.dropped.get(doc.dropped, 0) + 1
                return doc
            stats.docs_out += 1
        if doc.text is None:
            _decode_plain(doc)
        # isspace, not strip: strip would copy the whole text to find it is not blank.
        if self.drop_empty and (not doc.text or doc.text.isspace()):
            # Nothing is left to keep (an empty input, or a page of chrome only).
            doc.drop("empty", "pipeline")
            self.dropped["empty"] = self.dropped.get("empty", 0) + 1
            return doc
        self.docs_out += 1
        return doc

    def run(self, items: Iterable[Any], *, keep_dropped: bool = False) -> Iterator[Document]:
        """Stream documents through the chain; yield kept ones (and dropped ones if asked)."""
        for item in items:
            doc = self.process(item)
            if doc.dropped is None or keep_dropped:
                yield doc

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
    rec = doc.log.get(stage.name)
    if rec is not None:
        stats.chars_changed += rec.chars_changed
        stats.lines_removed += rec.lines_removed
    if doc.text is not before and doc.text != before:
        stats.docs_changed += 1
    if doc.dropped is None:
        stats.docs_out += 1


def _decode_plain(doc: Document) -> None:
    """Text for a document whose bytes reached a text stage without the decode stage."""
    raw = doc.raw or b""
    doc.text = raw.decode("utf-8", "replace")
    doc.raw = None
