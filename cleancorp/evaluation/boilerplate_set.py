"""Score the boilerplate stage on the labelled page set in ``fixtures/boilerplate/``.

Every line of a page is labelled content (``C``) or boilerplate (``B``). The pages are cleaned
in one run, in name order, by one stage (so corpus line statistics take part as in a real run),
and each line's fate is compared with its label:

- *content kept*: content lines kept / content lines (the share of the article that comes through);
- *chrome removed* (recall): boilerplate lines removed / boilerplate lines;
- *removal precision*: removed lines that are boilerplate / removed lines.

>>> page = LabelledPage("t-1", "t", [("B", "首页 | 新闻 | 时政 | 评论 | 专题"), ("C", "正文第一句。正文第二句，很长很长很长很长很长很长。")])
>>> score = score_pages([page])
>>> score.total.content_kept, score.total.chrome_removed
(1.0, 1.0)
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..stages.boilerplate import Boilerplate

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "fixtures" / "boilerplate"


@dataclass
class LabelledPage:
    name: str
    template: str
    lines: list[tuple[str, str]]  # (label, line)


@dataclass
class Counts:
    content: int = 0
    content_kept: int = 0
    chrome: int = 0
    chrome_removed: int = 0

    def add(self, label: str, removed: bool) -> None:
        """Count one line: its label and whether the stage removed it."""
        if label == "C":
            self.content += 1
            self.content_kept += not removed
        else:
            self.chrome += 1
            self.chrome_removed += removed

    @property
    def removed(self) -> int:
        return self.chrome_removed + (self.content - self.content_kept)

    @property
    def content_kept_share(self) -> float:
        return self.content_kept / self.content if self.content else 1.0

    @property
    def chrome_removed_share(self) -> float:
        return self.chrome_removed / self.chrome if self.chrome else 1.0

    @property
    def removal_precision(self) -> float:
        return self.chrome_removed / self.removed if self.removed else 1.0


class _Shares:
    """Read-only view with the three shares under short names (for doctests and callers)."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.content_kept = round(counts.content_kept_share, 4)
        self.chrome_removed = round(counts.chrome_removed_share, 4)
        self.removal_precision = round(counts.removal_precision, 4)


@dataclass
class Score:
    per_template: dict[str, Counts] = field(default_factory=dict)
    all_counts: Counts = field(default_factory=Counts)
    misses: list[tuple[str, int, str, str, str]] = field(default_factory=list)  # page, line, label, rule, text

    @property
    def total(self) -> _Shares:
        return _Shares(self.all_counts)


def load_pages(folder: str | os.PathLike[str] = DEFAULT_DIR) -> list[LabelledPage]:
    """Read ``*.tsv`` pages: each line ``C<TAB>text`` or ``B<TAB>text``; the template is the
    file name without its trailing ``-N``."""
    pages = []
    for path in sorted(Path(folder).glob("*.tsv")):
        rows = []
        for n, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if not raw:
                continue
            label, sep, text = raw.partition("\t")
            if not sep or label not in ("C", "B"):
                raise ValueError(f"{path.name}:{n}: want C<TAB>text or B<TAB>text")
            rows.append((label, text))
        template = path.stem.rsplit("-", 1)[0]
        pages.append(LabelledPage(path.stem, template, rows))
    return pages


def score_pages(pages: list[LabelledPage], stage: Boilerplate | None = None) -> Score:
    """Clean every page with one stage and count each line's fate against its label."""
    stage = stage or Boilerplate()
    score = Score()
    for page in pages:
        verdict = stage.classify([text for _, text in page.lines])
        counts = score.per_template.setdefault(page.template, Counts())
        for n, ((label, text), v) in enumerate(zip(page.lines, verdict), 1):
            removed = v is not None
            counts.add(label, removed)
            score.all_counts.add(label, removed)
            if removed != (label == "B"):
                score.misses.append((page.name, n, label, v[0] if v else "kept", text))
    return score


def format_score(score: Score) -> str:
    """The table `make eval` prints: per template and overall, then every miss."""
    rows = [("template", "content", "kept", "chrome", "removed", "precision")]

    def row(name: str, c: Counts) -> tuple[str, ...]:
        return (
            name,
            str(c.content),
            f"{c.content_kept_share:.4f}",
            str(c.chrome),
            f"{c.chrome_removed_share:.4f}",
            f"{c.removal_precision:.4f}",
        )

    for name in sorted(score.per_template):
        rows.append(row(name, score.per_template[name]))
    rows.append(row("ALL", score.all_counts))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["boilerplate: labelled pages (kept = content kept, removed = chrome removed (recall), "
           "precision = removed lines that are chrome)"]
    out += ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    wrong_c = [m for m in score.misses if m[2] == "C"]
    wrong_b = [m for m in score.misses if m[2] == "B"]
    out.append(f"content removed ({len(wrong_c)}):")
    out += [f"  {p}:{n} [{rule}] {text}" for p, n, _, rule, text in wrong_c]
    out.append(f"chrome kept ({len(wrong_b)}):")
    out += [f"  {p}:{n} {text}" for p, n, _, _, text in wrong_b]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cleancorp.evaluation.boilerplate_set", description=__doc__.split("\n")[0])
    ap.add_argument("folder", nargs="?", default=str(DEFAULT_DIR), help="folder of labelled *.tsv pages")
    ap.add_argument("--rules", default="", help="boilerplate rules file instead of the built-in one")
    args = ap.parse_args(argv)
    try:
        pages = load_pages(args.folder)
        stage = Boilerplate(rules=args.rules)
    except (OSError, ValueError) as exc:
        print(f"boilerplate_set: {exc}", file=sys.stderr)
        return 2
    if not pages:
        print(f"boilerplate_set: no *.tsv pages in {args.folder}", file=sys.stderr)
        return 2
    print(format_score(score_pages(pages, stage)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
