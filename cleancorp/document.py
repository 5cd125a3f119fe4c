"""The unit that flows through a pipeline: one document and what was done to it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RemovedLine:
    """A line a stage took out of the text, and the rule that took it."""

    text: str
    rule: str
    line_no: int | None = None  # 1-based position in the text the stage saw

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "rule": self.rule}
        if self.line_no is not None:
            out["line"] = self.line_no
        return out


@dataclass(slots=True)
class Change:
    """One in-place edit: which fix made it, the span before and after, and why."""

    fix: str
    before: str
    after: str
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {"fix": self.fix, "before": self.before, "after": self.after}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(slots=True)
class StageRecord:
    """What one stage did to one document."""

    chars_changed: int = 0
    removed: list[RemovedLine] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    # Keep the report bounded on pathological inputs (a page of 100k garbled spans).
    MAX_ITEMS = 1000

    def remove(self, text: str, rule: str, line_no: int | None = None) -> None:
        if len(self.removed) < self.MAX_ITEMS:
            self.removed.append(RemovedLine(text, rule, line_no))
        self.info["lines_removed"] = self.info.get("lines_removed", 0) + 1

    def change(self, fix: str, before: str, after: str, detail: str = "") -> None:
        if len(self.changes) < self.MAX_ITEMS:
            self.changes.append(Change(fix, before, after, detail))
        counts = self.info.setdefault("fixes", {})
        counts[fix] = counts.get(fix, 0) + 1

    @property
    def lines_removed(self) -> int:
        return self.info.get("lines_removed", 0)

    def is_empty(self) -> bool:
        return not (self.chars_changed or self.removed or self.changes or self.info)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.chars_changed:
            out["chars_changed"] = self.chars_changed
        out.update(self.info)
        if self.removed:
            out["removed"] = [r.to_json() for r in self.removed]
        if self.changes:
            out["changes"] = [c.to_json() for c in self.changes]
        return out


@dataclass(slots=True)
class Document:
    """A document: its id, its text (or still its raw bytes), metadata, and a log per stage.

    >>> doc = Document("a", text="中文")
    >>> doc.text
    '中文'
    """

    id: str
    text: str | None = None
    raw: bytes | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    log: dict[str, StageRecord] = field(default_factory=dict)
    dropped: str | None = None  # reason, when a stage dropped the document
    dropped_by: str | None = None
    rejected: bool = False  # dropped because the input itself is bad (binary, undecodable)

    def record(self, stage: str) -> StageRecord:
        rec = self.log.get(stage)
        if rec is None:
            rec = self.log[stage] = StageRecord()
        return rec

    def drop(self, reason: str, stage: str, *, rejected: bool = False, **info: Any) -> None:
        """Take the document out of the output, keeping why (it stays in the report)."""
        self.dropped = reason
        self.dropped_by = stage
        self.rejected = rejected
        if info:
            self.record(stage).info.update(info)

    @property
    def kept(self) -> bool:
        return self.dropped is None

    def report(self) -> dict[str, Any]:
        """The JSON-ready line the `--report` file holds for this document."""
        out: dict[str, Any] = {"id": self.id}
        source = self.metadata.get("source")
        if source is not None:
            out["source"] = source
        out["kept"] = self.kept
        if self.dropped is not None:
            out["drop_reason"] = self.dropped
            out["dropped_by"] = self.dropped_by
            if self.rejected:
                out["rejected"] = True
        stages = {}
        for name, rec in self.log.items():
            js = rec.to_json()
            if js:
                stages[name] = js
        out["stages"] = stages
        if self.text is not None:
            out["chars_out"] = len(self.text) if self.kept else 0
        return out
