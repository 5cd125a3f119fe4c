"""boilerplate: strip page chrome (menus, share bars, copyright footers, editor lines) line by line.

>>> from cleancorp.document import Document
>>> doc = Document("a", text="首页 | 新闻 | 视听 | 评论 | 专题\\n全会由区委常委会主持。\\n[责任编辑: 李辉]")
>>> Boilerplate().apply(doc); doc.text
'全会由区委常委会主持。'
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ..document import Document
from ..registry import Stage, register

_MENU_SPLIT = re.compile(r"\s*[|｜│¦]\s*|\s{2,}|\s*·\s*")
_SENTENCE_END = re.compile("[。！？；!?;]")


@dataclass
class Rule:
    name: str
    patterns: list[re.Pattern[str]]
    max_len: int
    zone: str = "any"
    meta: str = ""
    kind: str = "regex"
    min_items: int = 4
    max_item_len: int = 8

    def matches(self, line: str) -> bool:
        if len(line) > self.max_len:
            return False
        if self.kind == "menu":
            return _is_menu(line, self.min_items, self.max_item_len)
        return any(p.search(line) for p in self.patterns)


def _is_menu(line: str, min_items: int, max_item_len: int) -> bool:
    """Many short items between separators and no sentence punctuation: a navigation bar."""
    if "|" not in line and "｜" not in line and "│" not in line and "·" not in line and "  " not in line:
        return False
    if _SENTENCE_END.search(line):
        return False
    items = [x for x in _MENU_SPLIT.split(line) if x]
    if len(items) < min_items:
        return False
    words = [w for item in items for w in item.split()]
    short = sum(1 for w in words if len(w) <= max_item_len)
    return short >= 0.8 * len(words)


@dataclass
class RuleSet:
    rules: list[Rule]
    edge_lines: int


def load_rules(path: str | None = None) -> RuleSet:
    """Load rules from the package data file, or from ``path``."""
    if path:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    else:
        data = _packaged_rules()
    rules = []
    for entry in data.get("rule", []):
        rules.append(
            Rule(
                name=entry["name"],
                patterns=[re.compile(p) for p in entry.get("patterns", [])],
                max_len=int(entry.get("max_len", 200)),
                zone=entry.get("zone", "any"),
                meta=entry.get("meta", ""),
                kind=entry.get("kind", "regex"),
                min_items=int(entry.get("min_items", 4)),
                max_item_len=int(entry.get("max_item_len", 8)),
            )
        )
    return RuleSet(rules, int(data.get("edge_lines", 12)))


@lru_cache(maxsize=1)
def _packaged_rules() -> dict:
    with resources.files("cleancorp.data").joinpath("boilerplate.toml").open("rb") as fh:
        return tomllib.load(fh)


@register
class Boilerplate(Stage):
    """Remove page-chrome lines by named rules (data file `boilerplate.toml`, `--rules` overrides)."""

    name = "boilerplate"
    summary = "strip page chrome: menus, breadcrumbs, share bars, editor/source lines, copyright footers"

    def __init__(self, rules: str = "") -> None:
        self.ruleset = load_rules(rules or None)
        # Lines longer than every rule's limit are body text: skip them without testing rules.
        self.max_line_len = max((r.max_len for r in self.ruleset.rules), default=0)

    def apply(self, doc: Document) -> None:
        text = doc.text or ""
        lines = text.split("\n")
        nonblank = [i for i, line in enumerate(lines) if line.strip()]
        if not nonblank:
            return
        edge = self.ruleset.edge_lines
        head_end = nonblank[min(edge, len(nonblank)) - 1]
        tail_start = nonblank[max(0, len(nonblank) - edge)]
        keep: list[str] = []
        rec = None
        limit = self.max_line_len
        for i, line in enumerate(lines):
            stripped = line.strip()
            if not stripped or len(stripped) > limit:
                keep.append(line)
                continue
            in_edge = i <= head_end or i >= tail_start
            hit = None
            for rule in self.ruleset.rules:
                if rule.zone == "edge" and not in_edge:
                    continue
                if rule.matches(stripped):
                    hit = rule
                    break
            if hit is None:
                keep.append(line)
                continue
            if rec is None:
                rec = doc.record(self.name)
            rec.remove(stripped, hit.name, i + 1)
            if hit.meta:
                doc.metadata.setdefault("boilerplate_meta", {}).setdefault(hit.meta, stripped)
        if rec is not None:
            doc.text = "\n".join(keep)
            rec.chars_changed += len(text) - len(doc.text)
