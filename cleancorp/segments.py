"""Clean one huge text document in segments, with memory bounded by a buffer, not by its size.

A document larger than the CLI's ``--max-doc-mb`` is not read whole. Its encoding is found on
the first block (by the chain's decode stage), then the bytes are decoded incrementally (a
multi-byte character split across two reads stays whole), cut at line boundaries (blank lines
preferred) into segments of a few MB, and each segment runs through the rest of the chain as
its own part; the cleaned parts are written as soon as they are ready.

What differs from cleaning the document whole:

- the encoding is decided once, on the first block (no per-line mixed-encoding repair later on);
- cross-document dedup does not see the document (it cannot drop a document that is already
  half written, and later documents are not compared with it);
- paragraph dedup inside the document still sees earlier segments, through a bounded set of
  paragraph hashes (``MAX_PARAGRAPH_HASHES``; past it, later paragraphs are only compared within
  their own segment);
- a single line longer than twice the segment size is cut, and its pieces are cleaned apart.

>>> list(cut_segments(["ab\\n\\ncd\\nef"], 4))
[('ab', True), ('\\ncd', True), ('ef', True)]
"""
from __future__ import annotations

import codecs
import copy
from dataclasses import dataclass, field
from typing import IO, Callable, Iterable, Iterator

from .document import Document, StageRecord
from .pipeline import Pipeline
from .registry import Stage

#: Bytes read from the input at a time.
READ_BYTES = 1 << 20
#: Bytes of the first block the decode stage looks at to choose the encoding.
DETECT_BYTES = 1 << 20
#: Paragraph hashes kept for in-document dedup across segments (8 bytes of hash each, about
#: 60 bytes with the set's overhead: at most ~30 MB).
MAX_PARAGRAPH_HASHES = 500_000


def cut_segments(chunks: Iterable[str], segment_chars: int) -> Iterator[tuple[str, bool]]:
    """Cut a stream of text into segments of about ``segment_chars`` at line boundaries.

    Yields ``(segment, whole_lines)``. A segment leaves out the newline it was cut at, so the
    parts rejoin with "\\n"; at a blank line the cut falls on the first newline, so the next
    segment starts with the blank line (blank-line handling sees it). ``whole_lines`` is False
    when a line longer than twice ``segment_chars`` had to be cut inside (rejoin with "").

    >>> list(cut_segments(["一二三四五六七"], 3))
    [('一二三', False), ('四五六七', True)]
    """
    buf = ""
    for chunk in chunks:
        buf += chunk
        while len(buf) >= segment_chars:
            cut = buf.rfind("\n\n", segment_chars // 2)
            if cut < 0:
                cut = buf.rfind("\n")
            if cut >= 0:
                yield buf[:cut], True
                buf = buf[cut + 1 :]
            elif len(buf) >= 2 * segment_chars:
                yield buf[:segment_chars], False
                buf = buf[segment_chars:]
            else:
                break
    yield buf, True


def decoded_chunks(head: list[bytes], rest: IO[bytes] | None, encoding: str) -> Iterator[str]:
    """The text of the blocks already read (``head``, emptied as they are decoded, so their
    memory goes) followed by the rest of the stream, decoded incrementally.

    >>> data = "中文".encode("gb18030")
    >>> "".join(decoded_chunks([data[:3]], None, "gb18030")) + "".join(decoded_chunks([data[3:]], None, "gb18030"))
    '中\\ufffd\\ufffd'
    >>> "".join(decoded_chunks([data[:1], data[1:3]], __import__("io").BytesIO(data[3:]), "gb18030"))
    '中文'
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    first = True
    head.reverse()  # pop() from the end is cheap
    while True:
        if head:
            block = head.pop()
        elif rest is not None:
            block = rest.read(READ_BYTES)
            if not block:
                break
        else:
            break
        text = decoder.decode(block)
        if first and text:
            text = text.removeprefix("\ufeff")  # a BOM is not text
            first = False
        yield text
    yield decoder.decode(b"", final=True)


def segment_stages(stages: list[Stage]) -> list[Stage]:
    """The stages a segment goes through: the text stages of the chain; a corpus-level stage
    only as a copy with cross-document work (``across``) switched off, else not at all."""
    out: list[Stage] = []
    for stage in stages:
        if stage.needs_bytes:
            continue
        if stage.corpus_level:
            if not hasattr(stage, "across"):
                continue
            stage = copy.copy(stage)
            stage.across = False  # type: ignore[attr-defined]
        out.append(stage)
    return out


@dataclass
class ParagraphMemory:
    """Paragraphs of earlier segments, as hashes of their dedup key; drops their repeats.

    >>> memory = ParagraphMemory(min_chars=4)
    >>> doc = Document("a", text="第一段落内容\\n短")
    >>> memory.filter(doc); doc.text
    '第一段落内容\\n短'
    >>> doc = Document("b", text="第一段落内容\\n第二段落内容")
    >>> memory.filter(doc); doc.text
    '第二段落内容'
    """

    min_chars: int = 20
    seen: set[int] = field(default_factory=set)

    def filter(self, doc: Document, stage_name: str = "dedup") -> None:
        # The dedup stage's own comparison key, so "the same paragraph" means the same thing.
        from .stages.dedup import paragraph_keys

        text = doc.text or ""
        lines = text.split("\n")
        keep: list[str] = []
        rec: StageRecord | None = None
        new: list[int] = []
        for i, (line, key) in enumerate(zip(lines, paragraph_keys(text))):
            if len(key) >= 4 * self.min_chars:  # four bytes per key character
                h = hash(key)
                if h in self.seen:
                    rec = rec or doc.record(stage_name)
                    rec.remove(line, "repeat-of-earlier-segment", i + 1)
                    continue
                new.append(h)
            keep.append(line)
        room = MAX_PARAGRAPH_HASHES - len(self.seen)
        if room > 0:
            self.seen.update(new[:room])
        if rec is not None:
            text = "\n".join(keep)
            rec.chars_changed += len(doc.text or "") - len(text)
            doc.text = text


def merge_log(total: Document, part: Document) -> None:
    """Add what the stages did to one segment into the log of the whole document."""
    for name, rec in part.log.items():
        into = total.record(name)
        into.chars_changed += rec.chars_changed
        room = StageRecord.MAX_ITEMS
        into.removed.extend(rec.removed[: max(0, room - len(into.removed))])
        into.changes.extend(rec.changes[: max(0, room - len(into.changes))])
        for key, value in rec.info.items():
            old = into.info.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(old, (int, float)):
                into.info[key] = old + value
            elif isinstance(value, dict) and isinstance(old, dict):
                for k, v in value.items():
                    old[k] = old.get(k, 0) + v if isinstance(v, (int, float)) else v
            elif old is None:
                into.info[key] = copy.deepcopy(value)


class SegmentedDocument:
    """One huge document cleaned part by part through ``pipeline``'s chain.

    ``clean(head, rest, write)`` detects the encoding on the blocks read already (``head``), streams every segment through
    the text stages and calls ``write(bytes)`` with the output as it is produced; it returns the
    whole document's ``Document`` (its log summed over the segments, text None) for the report.
    """

    def __init__(self, pipeline: Pipeline, label: str, segment_chars: int,
                 on_part: Callable[[Document], None] | None = None) -> None:
        self.pipeline = pipeline
        self.label = label
        self.segment_chars = max(1024, segment_chars)
        self.on_part = on_part
        stages = segment_stages(pipeline.stages)
        self.parts = Pipeline(stages, drop_empty=True)
        dedup = next((s for s in stages if s.corpus_level and getattr(s, "within", False)), None)
        self.memory = ParagraphMemory(getattr(dedup, "min_chars", 200)) if dedup is not None else None
        self.dedup_name = dedup.name if dedup is not None else "dedup"

    def detect(self, head: list[bytes]) -> Document:
        """Run the decode stage on the first block to choose the encoding for the whole input."""
        sample = b"".join(head[:2])[:DETECT_BYTES]
        doc = Document(self.label, raw=sample, metadata={"source": self.label})
        for stage in self.pipeline.stages:
            if stage.needs_bytes:
                stage.apply(doc)
        return doc

    def clean(self, head: list[bytes], rest: IO[bytes] | None, write: Callable[[bytes], object]) -> Document:
        total = Document(self.label, metadata={"source": self.label})
        probe = self.detect(head)
        total.log.update(probe.log)
        if probe.dropped is not None:
            total.drop(probe.dropped, probe.dropped_by or "decode", rejected=probe.rejected)
            return total
        encoding = "utf-8"
        decode_info = probe.log.get("decode")
        if decode_info is not None:
            encoding = str(decode_info.info.get("encoding") or "utf-8")
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = "utf-8"
        written = False
        boundary = False  # a line boundary since the last written part
        count = 0
        after_whole = True  # the segment starts at a line boundary
        for text, whole_lines in cut_segments(decoded_chunks(head, rest, encoding), self.segment_chars):
            count += 1
            part = self.parts.process(Document(f"{self.label}#{count}", text=text, metadata={"source": self.label}))
            # A piece of a line cut for length is not a paragraph: leave it out of the memory.
            if part.dropped is None and self.memory is not None and whole_lines and after_whole:
                self.memory.filter(part, self.dedup_name)
            after_whole = whole_lines
            merge_log(total, part)
            if self.on_part is not None:
                self.on_part(part)
            if part.dropped is None and part.text:
                if written:
                    write(b"\n" if boundary else b"")
                write(part.text.encode("utf-8"))
                written = True
                boundary = False
            boundary = boundary or whole_lines
        total.record("decode").info["segments"] = count
        if written:
            write(b"\n")
        else:
            total.drop("empty", "pipeline")
        self._add_stats(total)
        return total

    def _add_stats(self, total: Document) -> None:
        """Count the document once in the run's counters, with the time of all its segments."""
        main = self.pipeline
        main.docs_in += 1
        if total.dropped is None:
            main.docs_out += 1
        else:
            main.dropped[total.dropped] = main.dropped.get(total.dropped, 0) + 1
        by_name = {s.name: s for s in self.parts.stats}
        for stats in main.stats:
            stats.docs_in += 1
            part = by_name.get(stats.name)
            if part is not None:
                stats.seconds += part.seconds
                stats.chars_changed += part.chars_changed
                stats.lines_removed += part.lines_removed
                stats.docs_changed += 1 if part.docs_changed else 0
            if total.dropped is None:
                stats.docs_out += 1
        self.parts.stats = [type(s)(s.name) for s in self.parts.stats]
