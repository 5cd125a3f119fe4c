"""convert: traditional → simplified Chinese (OpenCC profiles).

>>> from cleancorp.document import Document
>>> doc = Document("a", text="中國共產黨大渡口區委員會")
>>> Convert().apply(doc); doc.text
'中国共产党大渡口区委员会'
"""
from __future__ import annotations

import re
from functools import lru_cache

from ..document import Document
from ..registry import Stage, register

PROFILES = ("t2s", "tw2s", "hk2s", "tw2sp", "s2t", "none")


@lru_cache(maxsize=None)
def _converter(profile: str):
    # opencc-python-reimplemented; loaded lazily, once per process.
    from opencc import OpenCC

    return OpenCC(profile)


@lru_cache(maxsize=None)
def _trigger(profile: str) -> re.Pattern[str]:
    """A character class of every non-ASCII character that starts a dictionary key: text with
    none of them converts to itself, so it never reaches the (slow) phrase converter."""
    import json
    import os

    import opencc

    base = os.path.dirname(opencc.__file__)
    with open(os.path.join(base, "config", f"{profile}.json"), encoding="utf-8") as fh:
        config = json.load(fh)
    files: list[str] = []

    def collect(node) -> None:
        if isinstance(node, dict):
            if node.get("type") == "group":
                for sub in node.get("dicts", []):
                    collect(sub)
            elif "file" in node:
                files.append(node["file"])
            else:
                for value in node.values():
                    collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(config.get("conversion_chain", []))
    chars: set[str] = set()
    for name in files:
        name = name.replace(".ocd2", ".txt").replace(".ocd", ".txt")
        path = os.path.join(base, "dictionary", name)
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                key = line.split("\t", 1)[0]
                if key and not key[0].isascii():
                    chars.add(key[0])
    body = "".join(sorted(re.escape(c) for c in chars))
    return re.compile(f"[{body}]")


@register
class Convert(Stage):
    """Convert Chinese script with an OpenCC profile (default t2s); other text is untouched."""

    name = "convert"
    summary = "traditional → simplified (OpenCC t2s; also tw2s, hk2s, tw2sp, s2t, none)"

    def __init__(self, profile: str = "t2s") -> None:
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}")
        self.profile = profile

    def apply(self, doc: Document) -> None:
        if self.profile == "none":
            return
        text = doc.text or ""
        trigger = _trigger(self.profile)
        if not trigger.search(text):
            return
        conv = _converter(self.profile)
        lines = text.split("\n")
        changed = 0
        for i, line in enumerate(lines):
            if trigger.search(line):
                new = conv.convert(line)
                if new != line:
                    changed += sum(a != b for a, b in zip(line, new)) + abs(len(line) - len(new))
                    lines[i] = new
        if changed:
            doc.record(self.name).chars_changed += changed
            doc.text = "\n".join(lines)
